"""The early passes' state objects (jobs/early_state.py): what the code before them wrote still
loads and is used, and what they save is what that code reads (real S3 server)."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest

from app.media.probe import ProbeResult
from app.storage import current_storage
from jobs.early_state import EarlyTranscript, EarlyVideo, VideoPart, VideoSource

VP8_720P = ProbeResult(format_name="matroska,webm", duration_s=None, video_codec="vp8",
                       audio_codec="opus", width=1280, height=720, start_s=0.007, rotation=0)


@pytest.fixture
def stored(app):
    """The storage and a fresh answer id; put(name, dict) writes one of its objects as JSON."""
    store, answer = current_storage(), f"state-{time.monotonic_ns()}"

    def put(name: str, value: dict) -> None:
        store.put_bytes(f"answers/{answer}/{name}", json.dumps(value).encode(), "application/json")

    return store, answer, put


def _part(n: int, start: float, end: float, **extra) -> dict:
    return {"key": f"answers/x/video-part-{n:04d}.ts", "start_s": start, "end_s": end,
            "frames": int((end - start) * 30), "size": 1000 + n, **extra}


def test_a_video_state_as_the_code_before_wrote_it_loads_and_its_parts_are_used(stored):
    store, answer, put = stored
    put("early-video.json", {
        "version": 1, "preset": "veryfast", "until_s": 29.9995, "upto_seq": 34, "seconds": 9.1,
        "source": {"codec": "vp8", "width": 1280, "height": 720, "start_s": 0.007, "rotation": 0},
        "parts": [_part(0, 0.0, 14.9995, end_key=True, width=1280, height=720),
                  _part(1, 14.9995, 29.9995, end_key=False, width=1280, height=720)],
        "skip": None})
    state = EarlyVideo.load(store, answer)
    assert state.source == VideoSource("vp8", 1280, 720, 0.007, 0)
    assert [p.end_s for p in state.usable_parts(VP8_720P, "veryfast")] == [14.9995, 29.9995]
    assert state.picture == (1280, 720) and state.upto_seq == 34 and state.seconds == 9.1
    assert state.parts[0].end_key and not state.parts[1].end_key
    assert state.stored_keys(answer)[-1] == f"answers/{answer}/early-video.json"
    # Another preset, or another recording, and the final transcode encodes it all.
    assert state.usable_parts(VP8_720P, "medium") == []
    assert state.usable_parts(replace(VP8_720P, rotation=90), "veryfast") == []


def test_a_video_state_from_before_turns_and_picture_sizes_were_kept_loads_with_defaults(stored):
    store, answer, put = stored
    put("early-video.json", {
        "version": 1, "preset": "veryfast", "until_s": 10.0, "upto_seq": 12, "seconds": 3.0,
        "source": {"codec": "vp8", "width": 1280, "height": 720, "start_s": 0.007},
        "parts": [_part(0, 0.0, 10.0)], "skip": None})
    state = EarlyVideo.load(store, answer)
    assert state.source.rotation == 0
    assert state.parts == [VideoPart("answers/x/video-part-0000.ts", 0.0, 10.0, 300, 1000)]
    assert not state.parts[0].end_key and state.picture == (None, None)
    assert state.usable_parts(VP8_720P, "veryfast") == state.parts


def test_a_saved_video_state_has_the_shape_the_code_before_reads(stored):
    store, answer, _ = stored
    state = EarlyVideo(preset="veryfast", source=VideoSource.of(VP8_720P), until_s=14.9995,
                       upto_seq=20, seconds=4.5)
    state.parts.append(VideoPart("answers/x/video-part-0000.ts", 0.0, 14.9995, 450, 9000,
                                 end_key=True, width=1280, height=720))
    state.save(store, answer)
    saved = json.loads(store.get_bytes(f"answers/{answer}/early-video.json"))
    assert saved == {
        "version": 1, "preset": "veryfast", "until_s": 14.9995, "upto_seq": 20, "seconds": 4.5,
        "skip": None,
        "source": {"codec": "vp8", "width": 1280, "height": 720, "start_s": 0.007, "rotation": 0},
        "parts": [{"key": "answers/x/video-part-0000.ts", "start_s": 0.0, "end_s": 14.9995,
                   "end_key": True, "frames": 450, "size": 9000, "width": 1280, "height": 720}]}
    assert EarlyVideo.load(store, answer) == state


def test_a_video_state_of_another_version_or_unreadable_is_not_used(stored):
    store, answer, put = stored
    assert EarlyVideo.load(store, answer) is None
    put("early-video.json", {"version": 2, "preset": "veryfast", "parts": []})
    assert EarlyVideo.load(store, answer) is None
    put("early-video.json", {"version": 1, "preset": "veryfast", "parts": [{"key": "k"}]})
    assert EarlyVideo.load(store, answer) is None


def test_an_early_transcript_as_the_code_before_wrote_it_loads_and_saves_alike(stored):
    store, answer, put = stored
    segment = {"start": 0.5, "end": 2.1, "text": "Hello.", "words": []}
    put("early-transcript.json", {"until_s": 0.0, "segments": [], "upto_seq": 89,
                                  "seconds": 0.4})  # a pass that heard no speech: no language
    early = EarlyTranscript.load(store, answer)
    assert early == EarlyTranscript(until_s=0.0, segments=[], upto_seq=89, seconds=0.4)
    early.segments.append(segment)
    early.until_s, early.upto_seq, early.language = 2.4, 179, "en"
    early.save(store, answer)
    # The code before reads the fields it knows and leaves the rest ("windows").
    assert json.loads(store.get_bytes(f"answers/{answer}/early-transcript.json")) == {
        "until_s": 2.4, "segments": [segment], "upto_seq": 179, "seconds": 0.4, "language": "en",
        "windows": []}
    assert EarlyTranscript.load(store, answer) == early


def test_settled_windows_keep_their_own_lines_through_storage(stored):
    from app.media.transcribe import Segment, SettledWindow, Word

    store, answer, _put = stored
    first = [Segment(0.4, 2.0, "Hello there.",
                     [Word("Hello", 0.4, 0.9, 0.91), Word("there.", 1.0, 2.0, 0.8)]),
             Segment(3.1, 4.0, "Yes.", [Word("Yes.", 3.1, 4.0, 0.7)])]
    second = [Segment(31.2, 33.0, "Next.", [Word("Next.", 31.2, 33.0, 0.6)])]
    early = EarlyTranscript(upto_seq=39)
    early.keep_windows([SettledWindow(0.2, 29.5, first), SettledWindow(31.0, 33.4, second)])
    early.save(store, answer)
    saved = json.loads(store.get_bytes(f"answers/{answer}/early-transcript.json"))
    # What the code before reads: the lines and where the settled audio ends.
    assert saved["until_s"] == 33.4
    assert [s["text"] for s in saved["segments"]] == ["Hello there.", "Yes.", "Next."]
    assert saved["windows"] == [{"start": 0.2, "end": 29.5, "segments": 2},
                                {"start": 31.0, "end": 33.4, "segments": 1}]
    back = EarlyTranscript.load(store, answer).settled_windows()
    assert back == [SettledWindow(0.2, 29.5, first), SettledWindow(31.0, 33.4, second)]


def test_a_pass_runs_only_once_a_new_window_can_have_closed():
    """A window closes only when speech runs on 30 s past its start, and a chunk holds at least
    a second: before that a pass would read the sound only to settle nothing."""
    from jobs.early import _worth_a_pass

    windows = {"WHISPER_DECODING": "batched", "WHISPER_VAD": "silero"}
    assert not _worth_a_pass(None, 29, windows)  # 30 chunks: no window can have closed yet
    assert _worth_a_pass(None, 39, windows)
    early = EarlyTranscript(until_s=26.5, upto_seq=39)
    assert not _worth_a_pass(early, 39, windows)  # a pass has looked at that chunk already
    assert not _worth_a_pass(early, 49, windows) and _worth_a_pass(early, 59, windows)
    # Sequential decoding cuts at pauses: every pass can settle something.
    assert _worth_a_pass(early, 49, {"WHISPER_DECODING": "sequential", "WHISPER_VAD": "silero"})
