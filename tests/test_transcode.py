"""Video encoded in parts while the answer is recorded gives what encoding it whole gives."""

from __future__ import annotations

import itertools
import math
import subprocess
import wave
from pathlib import Path

import av
import pytest

from app.media.probe import ProbeResult, probe
from app.media.transcode import (
    KEY_CUT_S,
    describe_part,
    encode_part,
    needs_reencode,
    scan_frames,
    transcode,
    transcode_from_parts,
)

pytestmark = pytest.mark.slow

PRESET = "veryfast"
WEBM, MP4 = "matroska", "mov"  # how each kind of recording is read (probe.input_args)


def _recording(out: Path, seconds: float = 8, size: str = "320x240", video_delay: float = 0.0,
               keyframe_every: int = 30, uneven: bool = False) -> Path:
    """A live WebM as Firefox's recorder writes it: VP8 and Opus, no index, no duration.
    `uneven`: frames at uneven times, as Firefox's are (every third frame 40 ms late here, so
    some are 27 ms apart and some 107 ms; Firefox's were 4 to 66 ms apart at "30 fps")."""
    delay = ["-itsoffset", f"{video_delay}"] if video_delay else []
    timing = ["-vf", r"settb=1/1000,setpts=N/15/TB+0.040/TB*eq(mod(N\,3)\,1)",
              "-fps_mode", "vfr", "-enc_time_base:v", "1:1000"] if uneven else []
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", *delay, "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=15",
         "-f", "lavfi", "-i", "sine=f=440:sample_rate=48000", "-t", f"{seconds}",
         "-map", "0:v", "-map", "1:a", *timing, "-c:v", "libvpx", "-deadline", "realtime", "-b:v", "300k",
         "-g", str(keyframe_every), "-c:a", "libopus", "-b:a", "48k", "-f", "matroska", "-live", "1",
         str(out)],
        check=True, capture_output=True, timeout=120)
    return out


def _encode_while_recording(src: Path, work: Path, chunks: int = 8, every: int = 2,
                            at_keys: bool = False):
    """What the early passes do: encode from the last cut to a whole second (`at_keys`: just
    before the last keyframe) at least a second before the last frame of each growing prefix
    of the recording (split into `chunks` uploads). Returns the parts, where they end, the
    picture size, and whether the last ended at a keyframe."""
    data = src.read_bytes()
    size = math.ceil(len(data) / chunks)
    prefix, parts, until, info, first = work / "prefix.webm", [], 0.0, None, None
    from_key = False
    for k in range(every, chunks, every):
        prefix.write_bytes(data[:k * size])
        info = info or probe(prefix, container=WEBM)
        scan = scan_frames(prefix, info, until, from_key, container=WEBM)
        if from_key:  # decoding starts at the very keyframe the last part ended before
            assert scan.first_s == pytest.approx(until + KEY_CUT_S, abs=1e-6)
        if at_keys:
            cut = scan.next_cut(until, 1.0, 1.0)
        else:
            cut = (float(math.floor(scan.last_s - 1.0)), False)
            cut = cut if cut[0] - until >= 1 else None
        if cut is None:
            continue
        end, key = cut
        part = work / f"part-{len(parts)}.ts"
        made = encode_part(prefix, part, info, until, end, PRESET, picture=first,
                           from_key=from_key, container=WEBM)
        assert made.frames == scan.frames_between(until, end) > 0
        first = first or made.picture
        parts.append(part)
        until, from_key = end, key
    return parts, until, first, from_key


def _packets(path: Path, kind: str) -> list[tuple[float, bool]]:
    with av.open(str(path)) as c:
        stream = c.streams.video[0] if kind == "video" else c.streams.audio[0]
        return sorted((round(float(p.pts * stream.time_base), 4), p.is_keyframe)
                      for p in c.demux(stream) if p.size)


def _audio_bytes(path: Path) -> list[bytes]:
    with av.open(str(path)) as c:
        return [bytes(p) for p in c.demux(c.streams.audio[0]) if p.size]


def _wav_frames(path: Path) -> bytes:
    with wave.open(str(path), "rb") as w:
        return w.readframes(w.getnframes())


@pytest.mark.parametrize(("video_delay", "at_keys"), [(0.0, False), (0.4, False), (0.0, True),
                                                    (0.4, True)])
def test_parts_joined_with_the_rest_give_the_frames_and_sound_of_one_whole_encode(
        tmp_path, video_delay, at_keys):
    src = _recording(tmp_path / "answer.webm", video_delay=video_delay)
    work = tmp_path / "parts"
    work.mkdir()
    parts, until, size, last_at_key = _encode_while_recording(src, work, at_keys=at_keys)
    assert len(parts) >= 2 and until >= 3.0 and size == (320, 240)
    assert last_at_key == at_keys
    info = probe(src, container=WEBM)
    if at_keys:  # a keyframe every 2 s: the parts end just before one
        keys = scan_frames(src, info, container=WEBM).keys
        assert round(until + KEY_CUT_S, 6) in {round(k, 6) for k in keys}
    joined = transcode_from_parts(src, work, info, parts, until, preset=PRESET, picture=size,
                                  from_key=last_at_key, container=WEBM)
    whole_dir = tmp_path / "whole"
    whole_dir.mkdir()
    whole = transcode(src, whole_dir, info, preset=PRESET, container=WEBM)

    frames, whole_frames = _packets(joined.media_path, "video"), _packets(whole.media_path, "video")
    # Every frame, once, at the time the whole encode shows it: nothing lost or doubled at a join.
    assert [t for t, _ in frames] == [t for t, _ in whole_frames]
    assert len(frames) == round((8 - video_delay) * 15)  # 15 frames a second to the end
    # A keyframe every second, as the poster scan and seeking expect, joins included.
    keys = [t for t, k in frames if k]
    assert keys[0] == frames[0][0] and all(b - a <= 1.01 for a, b in itertools.pairwise(keys))
    assert _packets(joined.media_path, "audio") == _packets(whole.media_path, "audio")
    assert _audio_bytes(joined.media_path) == _audio_bytes(whole.media_path)
    assert _wav_frames(joined.wav_path) == _wav_frames(whole.wav_path)
    with av.open(str(joined.media_path)) as c:  # the picture first, as in the whole encode
        assert [s.type for s in c.streams] == ["video", "audio"]
    # The MP4s keep the video in different time scales (the parts' 1/90000, the encoder's own),
    # which round the last frame's duration differently, by microseconds.
    assert joined.duration_s == pytest.approx(whole.duration_s, abs=0.001)
    assert (joined.width, joined.height) == (320, 240)
    if video_delay:  # the picture still starts after the sound, as recorded
        assert frames[0][0] == pytest.approx(whole_frames[0][0]) and frames[0][0] >= 0.39


def test_frames_at_uneven_times_keep_them_whole_or_in_parts(tmp_path):
    """Firefox's frames come at uneven times. An encoder that put them on a 1/frame-rate grid
    moved most of them by up to a frame, and parts (each starting its own grid) differently
    from the whole; kept in milliseconds, every frame stays where the browser put it."""
    src = _recording(tmp_path / "answer.webm", uneven=True, keyframe_every=30)
    source = _packets(src, "video")
    gaps = {round(b - a, 3) for (a, _), (b, _) in itertools.pairwise(source)}
    assert {0.027, 0.107} <= gaps  # the recording really is uneven
    work = tmp_path / "parts"
    work.mkdir()
    parts, until, size, at_key = _encode_while_recording(src, work, at_keys=True)
    assert at_key  # cut before keyframes that are not on whole seconds
    info = probe(src, container=WEBM)
    joined = transcode_from_parts(src, work, info, parts, until, preset=PRESET, picture=size,
                                  from_key=at_key, container=WEBM)
    whole_dir = tmp_path / "whole"
    whole_dir.mkdir()
    whole = transcode(src, whole_dir, info, preset=PRESET, container=WEBM)
    frames = [t for t, _ in _packets(whole.media_path, "video")]
    assert len(frames) == len(source)
    # One shift for all (the MP4 starts at its earliest sound), none moved against another.
    shifts = [round(t - s, 4) for t, (s, _) in zip(frames, source, strict=True)]
    assert max(shifts) - min(shifts) <= 0.001
    assert [t for t, _ in _packets(joined.media_path, "video")] == frames


@pytest.mark.parametrize("recorded,kept", [("1280x960", (960, 720)),
                                           ("960x1280", (720, 960))])  # a phone held upright
def test_parts_of_a_recording_above_720p_are_scaled_as_the_whole_is(tmp_path, recorded, kept):
    src = _recording(tmp_path / "answer.webm", seconds=5, size=recorded)
    work = tmp_path / "parts"
    work.mkdir()
    parts, until, size, _ = _encode_while_recording(src, work, chunks=5, every=2)
    assert parts and size == kept
    out = transcode_from_parts(src, work, probe(src, container=WEBM), parts, until, preset=PRESET,
                               picture=size, container=WEBM)
    assert (out.width, out.height) == kept
    assert len(_packets(out.media_path, "video")) == 75
    whole_dir = tmp_path / "whole"
    whole_dir.mkdir()
    whole = transcode(src, whole_dir, probe(src, container=WEBM), preset=PRESET, container=WEBM)
    assert (whole.width, whole.height) == kept


def test_a_phone_turned_while_recording_keeps_one_picture_size_as_the_whole_encode_does(tmp_path):
    """A phone turned mid-answer changes the recording's picture size mid-stream. The whole
    encode keeps its first size throughout; so must the parts, or the joined MP4 would change
    size in the middle, which players do not expect."""
    halves = []
    for i, size in enumerate(("320x240", "240x320")):
        halves.append(tmp_path / f"half-{i}.webm")
        _recording(halves[-1], seconds=4, size=size)
    listing = tmp_path / "halves.txt"
    listing.write_text("".join(f"file '{h}'\n" for h in halves))
    src = tmp_path / "turned.webm"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing),
                    "-c", "copy", "-f", "matroska", "-live", "1", str(src)],
                   check=True, capture_output=True, timeout=60)
    work = tmp_path / "parts"
    work.mkdir()
    parts, until, size, _ = _encode_while_recording(src, work, chunks=16, every=3)
    assert until >= 5.0 and size == (320, 240)  # a part of the turned half too
    joined = transcode_from_parts(src, work, probe(src, container=WEBM), parts, until, preset=PRESET,
                                  picture=size, container=WEBM)
    whole_dir = tmp_path / "whole"
    whole_dir.mkdir()
    whole = transcode(src, whole_dir, probe(src, container=WEBM), preset=PRESET, container=WEBM)
    with av.open(str(joined.media_path)) as c:
        sizes = {(f.width, f.height) for f in c.decode(video=0)}
    assert sizes == {(320, 240)}
    assert [t for t, _ in _packets(joined.media_path, "video")] == \
        [t for t, _ in _packets(whole.media_path, "video")]


def test_the_last_frame_of_a_cut_off_recording_is_found_and_spans_are_exact(tmp_path):
    src = _recording(tmp_path / "answer.webm")
    info = probe(src, container=WEBM)
    whole_last = scan_frames(src, info, container=WEBM).last_s
    assert whole_last == pytest.approx(8 - 1 / 15, abs=0.02)  # Opus starts 7 ms early
    cut = tmp_path / "cut.webm"
    data = src.read_bytes()
    cut.write_bytes(data[: len(data) * 5 // 8 + 17])  # ends in the middle of a frame
    last = scan_frames(cut, info, container=WEBM).last_s
    assert last is not None and 3.0 < last < whole_last
    assert scan_frames(cut, info, after_s=2.0, container=WEBM).last_s == last  # from a later point
    # The frames from 1 s up to 3 s, exactly: 30 at 15 frames a second.
    part = tmp_path / "part.ts"
    assert encode_part(cut, part, info, 1.0, 3.0, PRESET, container=WEBM).frames == 30
    # A span with no frame in it (frames fall at 3.014 and 3.081) gives no part, not an error.
    assert encode_part(cut, tmp_path / "none.ts", info, 3.02, 3.06, PRESET,
                       container=WEBM).frames == 0
    assert describe_part(tmp_path / "missing.ts").frames == 0


def test_only_what_is_not_h264_of_at_most_720p_is_encoded_again():
    def info(codec, width, height):
        return ProbeResult("matroska,webm", 1.0, codec, "opus", width, height)

    assert not needs_reencode(info("h264", 1280, 720))
    assert not needs_reencode(info("h264", 720, 1280))  # 720p held upright: Chrome on Android
    assert needs_reencode(info("h264", 1920, 1080))
    assert needs_reencode(info("h264", 1080, 1920))
    assert needs_reencode(info("vp8", 640, 480))
    assert not needs_reencode(ProbeResult("ogg", 1.0, None, "opus", None, None))


@pytest.mark.parametrize("audio_only", [False, True])
def test_safaris_aac_is_copied_not_encoded_again(tmp_path, media_dir, audio_only):
    """An MP4 of H.264 and AAC (Safari's, Chrome's MP4; or AAC alone, for an audio-only
    question) needs nothing encoded again: the streams are copied, packet for packet, and only
    the speech WAV is made from the sound."""
    src = media_dir["mp4"]
    if audio_only:
        src = tmp_path / "answer.m4a"
        subprocess.run(["ffmpeg", "-v", "error", "-i", str(media_dir["mp4"]), "-vn", "-c:a", "copy",
                        str(src)], check=True, capture_output=True, timeout=60)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = transcode(src, out_dir, probe(src, container=MP4), preset=PRESET, container=MP4)
    assert out.video_copied is (not audio_only)
    assert out.media_path.suffix == (".m4a" if audio_only else ".mp4")
    assert _audio_bytes(out.media_path) == _audio_bytes(src)
    with av.open(str(out.media_path)) as c:
        sound = c.streams.audio[0]
        sound_s = float(sound.duration * sound.time_base)
    with wave.open(str(out.wav_path), "rb") as w:
        assert (w.getframerate(), w.getnchannels()) == (16000, 1)
        assert w.getnframes() / 16000 == pytest.approx(sound_s, abs=0.05)


def _shown_frames(path: Path) -> tuple[set[tuple[int, int]], set[int]]:
    """The stored frames' sizes and their display turns, as PyAV decodes them."""
    with av.open(str(path)) as c:
        frames = list(c.decode(video=0))
    return {(f.width, f.height) for f in frames}, {round(f.rotation or 0) % 360 for f in frames}


def test_an_iphone_held_upright_keeps_its_video_and_its_turn(tmp_path, upright_phone):
    """Safari's landscape frames with a display matrix to portrait are 720p: copied as they
    are, matrix and all, so the review player shows them upright; the answer is 720x1280."""
    out = transcode(upright_phone, tmp_path, probe(upright_phone, container=MP4), preset=PRESET,
                    container=MP4)
    assert out.video_copied and (out.width, out.height) == (720, 1280)
    assert _shown_frames(out.media_path) == ({(1280, 720)}, {270})


def test_a_turned_webm_is_encoded_upright_in_parts_as_whole(tmp_path):
    """Chrome on a tablet held upright writes landscape VP8 frames and says in the WebM track
    that they are shown turned: the parts made while recording and the whole encode both
    store them upright (480x640), frame for frame the same."""
    from tests.media import turn

    src = turn(_recording(tmp_path / "stored.webm", seconds=6, size="640x480"),
               tmp_path / "answer.webm", -90)
    info = probe(src, container=WEBM)
    assert (info.width, info.height, info.rotation) == (480, 640, 270)
    work = tmp_path / "parts"
    work.mkdir()
    parts, until, size, key = _encode_while_recording(src, work, chunks=6, every=2)
    assert parts and size == (480, 640)
    joined = transcode_from_parts(src, work, info, parts, until, preset=PRESET, picture=size,
                                  from_key=key, container=WEBM)
    whole_dir = tmp_path / "whole"
    whole_dir.mkdir()
    whole = transcode(src, whole_dir, info, preset=PRESET, container=WEBM)
    for out in (joined, whole):
        assert (out.width, out.height) == (480, 640)
        assert _shown_frames(out.media_path) == ({(480, 640)}, {0})
    assert _packets(joined.media_path, "video") == _packets(whole.media_path, "video")


def test_a_turned_recording_above_720p_is_encoded_upright_at_720p(tmp_path, media_dir):
    """Encoded again (it is above 720p), the frames are turned as shown and stored upright,
    720x1280, with no matrix left to turn them twice."""
    from tests.media import upright_phone_mp4

    src = upright_phone_mp4(tmp_path, media_dir["speech"], size="1920x1080")
    out = transcode(src, tmp_path, probe(src, container=MP4), preset=PRESET, container=MP4)
    assert not out.video_copied and (out.width, out.height) == (720, 1280)
    assert _shown_frames(out.media_path) == ({(720, 1280)}, {0})


def test_a_scan_says_which_keyframe_decoding_would_start_from(tmp_path):
    """A pass decodes from the keyframe before its start; the early passes stop for a
    recording whose keyframes are so far apart that each pass would decode most of it again."""
    every_2s = _recording(tmp_path / "every-2s.webm", keyframe_every=30)
    scan = scan_frames(every_2s, probe(every_2s, container=WEBM), after_s=6.0, container=WEBM)
    assert 3.9 <= scan.first_s <= 5.0 and scan.last_s == pytest.approx(8 - 1 / 15, abs=0.02)
    only_first = _recording(tmp_path / "only-first.webm", keyframe_every=1000)
    only_first_info = probe(only_first, container=WEBM)
    assert scan_frames(only_first, only_first_info, after_s=6.0, container=WEBM).first_s < 0.1
