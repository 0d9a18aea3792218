"""Job: encode the video of an answer while the candidate is still recording it, when the
browser's video must be re-encoded (VP8/VP9 from Firefox, or more than 720p).

Re-encoding is the slowest part of processing (21 s for a 60 s 720p answer on two cores, at
libx264 veryfast), and it can be done as the recording arrives: each pass encodes from where
the last one stopped to the last keyframe at least a second before the last frame that has
arrived (or, with none there, to a whole second), into an MPEG-TS part in object storage, and
records it in `answers/<id>/early-video.json`:

    {"version": 1, "source": {"codec", "width", "height", "start_s", "rotation"},
     "preset": "veryfast",
     "parts": [{"key", "start_s", "end_s", "end_key", "frames", "size", "width", "height"}],
     "until_s": 22.4995,
     "upto_seq": 29, "seconds": 8.2, "skip": null}

The final transcode encodes only what is after `until_s` and joins the parts (copied) with the
audio, which gives the same frames at the same times as encoding it whole (jobs/transcode.py);
it does the whole thing instead if anything here is missing or does not match the finished
recording. A recording whose video is already H.264 of at most 720p needs no pass: its first
pass finds that out and says so in `skip`.
"""

from __future__ import annotations

import logging
import math
import tempfile
import time
from pathlib import Path

from jobs import app_context, read_json, write_json

log = logging.getLogger(__name__)

VERSION = 1
MARGIN_S = 1.0  # leave the last second of what has arrived: its last frame may be cut off
# A pass that starts at a whole second decodes from the keyframe before it. Parts end at
# keyframes where they can (Chromium puts one every second as we ask, Firefox every 7.5 s
# whatever we ask), so most passes decode nothing twice; a recording with almost none would
# make every pass decode nearly all of it again, so passes stop for it.
MAX_PREROLL_S = 20.0


def state_key(answer_public_id: str) -> str:
    from app.storage import answer_key

    return answer_key(answer_public_id, "early-video.json")


def part_key(answer_public_id: str, n: int) -> str:
    from app.storage import answer_key

    return answer_key(answer_public_id, f"video-part-{n:04d}.ts")


def part_name(answer_public_id: str, n: int) -> str:
    """The part's name in this machine's spool, where the final transcode looks first."""
    return f"{answer_public_id}-video-part-{n:04d}.ts"


def load_state(store, answer_public_id: str) -> dict | None:
    state = read_json(store, state_key(answer_public_id))
    return state if state and state.get("version") == VERSION else None


def _source(info) -> dict:
    """What the state keeps of the recording that the parts are made from."""
    return {"codec": info.video_codec, "width": info.width, "height": info.height,
            "start_s": info.start_s, "rotation": info.rotation}


def _source_info(src: dict):
    """The recording that the parts are made from, as the state keeps it (a state written
    before the turn was kept has none: 0)."""
    from app.media.probe import ProbeResult

    return ProbeResult(format_name="", duration_s=None, video_codec=src.get("codec"),
                       audio_codec=None, width=src.get("width"), height=src.get("height"),
                       start_s=float(src.get("start_s", math.inf)),
                       rotation=src.get("rotation", 0))


def usable_parts(state: dict | None, info, preset: str) -> list[dict]:
    """The parts that the final transcode may join: from the same recording (codec, size and
    start time as the finished file has them), the same settings, and meeting end to start
    from zero. Empty when there are none or anything does not match."""
    if not state or state.get("skip") or state.get("preset") != preset:
        return []
    src = _source_info(state.get("source") or {})
    if (src.video_codec, src.width, src.height, src.rotation) != (
            info.video_codec, info.width, info.height, info.rotation) \
            or abs(src.start_s - info.start_s) > 1e-6:
        return []
    parts, at = state.get("parts") or [], 0.0
    for p in parts:
        if abs(p["start_s"] - at) > 1e-6 or p["end_s"] <= p["start_s"] or p["frames"] <= 0 \
                or (p.get("width"), p.get("height")) != picture_size(state):
            return []
        at = p["end_s"]
    return parts if abs(at - float(state.get("until_s", -1))) <= 1e-6 else []


def ends_before_key(parts: list[dict]) -> bool:
    """Whether the last of these parts ended just before a keyframe, where the next starts."""
    return bool(parts) and bool(parts[-1].get("end_key"))


def picture_size(state: dict) -> tuple[int, int] | None:
    """The picture size of the first part, which every later part keeps (None before it)."""
    parts = state.get("parts") or []
    return (parts[0].get("width"), parts[0].get("height")) if parts else None


def run(answer_id: int, upto_seq: int) -> None:
    from flask import current_app

    from app import states
    from app.extensions import db
    from app.media import MediaError
    from app.models import Answer
    from app.services import storage
    from jobs import one_pass_at_a_time

    with app_context(), one_pass_at_a_time("early-video", answer_id) as mine:
        if not mine:
            return
        # Looked at under the lock, which the final transcode takes before it reads the parts
        # (jobs/transcode.py): a pass that starts after it finds the answer finished, and one
        # that started before it is waited for, so its part is used, even the one the last
        # chunk queued while the candidate was finishing.
        answer = db.session.get(Answer, answer_id)
        if answer is None or answer.status != states.RECORDING:
            return  # finished already: the final transcode takes over
        try:
            _pass(answer, upto_seq, storage(), current_app.config)
        except MediaError as exc:  # only an optimisation: the final transcode does it all
            log.warning("early video pass for answer %s gave up: %s", answer.public_id, exc)


def _pass(answer, upto_seq: int, store, cfg) -> None:
    from app.media.probe import probe
    from app.media.transcode import encode_part, needs_reencode, scan_frames
    from app.services.recording import demuxer
    from app.storage import StorageError, chunk_key
    from jobs import spool
    from jobs.early import arrived_chunks

    began = time.perf_counter()
    preset = cfg["X264_PRESET"]
    min_part = cfg["EARLY_VIDEO_MIN_PART_SECONDS"]  # less is left for a later pass or the end
    state = load_state(store, answer.public_id) or {
        "version": VERSION, "source": None, "preset": preset, "parts": [], "until_s": 0.0,
        "upto_seq": -1, "seconds": 0.0, "skip": None}
    if state.get("skip") or state["upto_seq"] >= upto_seq or state.get("preset") != preset:
        return
    chunks = arrived_chunks(answer, upto_seq)
    if chunks is None:
        return
    container = demuxer(answer.content_type)  # read only as what the take declared
    with tempfile.TemporaryDirectory(prefix="oneway-early-video-") as tmp:
        part = Path(tmp) / "part.ts"
        try:
            with spool.recording_so_far(store, answer.public_id, chunks,
                                        lambda seq: chunk_key(answer.public_id, seq)) as prefix:
                if state["source"] is None:  # the first pass looks at what the browser sends
                    info = probe(prefix, container=container)
                    if not needs_reencode(info):
                        state["skip"] = "the browser's video is kept as it is"
                        _save(store, answer.public_id, state)
                        return
                    state["source"] = _source(info)
                info = _source_info(state["source"])
                until = float(state["until_s"])
                from_key = ends_before_key(state["parts"])
                scan = scan_frames(prefix, info, until, from_key, container=container)
                if scan.first_s is not None and until - scan.first_s > MAX_PREROLL_S:
                    # Each pass would decode from a keyframe this far back, ever further: the
                    # whole encode at the end costs less than that.
                    state["skip"] = (f"keyframes are more than {MAX_PREROLL_S:g} s apart in "
                                     "this recording")
                    _save(store, answer.public_id, state)
                    return
                cut = scan.next_cut(until, min_part, MARGIN_S)
                if cut is None:
                    return
                end, end_key = cut
                encoding, cpu = time.perf_counter(), _children_cpu_s()
                made = encode_part(prefix, part, info, until, end, preset,
                                   timeout=cfg["FFMPEG_TIMEOUT"], picture=picture_size(state),
                                   from_key=from_key, container=container)
                encoding, cpu = time.perf_counter() - encoding, _children_cpu_s() - cpu
                expected = scan.frames_between(until, end)
        except StorageError:
            return  # the chunks were joined and removed meanwhile
        if made.frames != expected:
            # A frame lost or doubled would be in the answer for good: leave it all to the
            # final transcode, which encodes the whole recording when parts are missing.
            state["skip"] = f"a part came out as {made.frames} frames, not {expected}"
            _save(store, answer.public_id, state)
            log.warning("early video of answer %s stopped: %s", answer.public_id, state["skip"])
            return
        if not made.frames:
            return  # no picture in that span yet (a stalled camera): the next pass retries it
        n = len(state["parts"])
        put = store.put_file(part_key(answer.public_id, n), part, "video/mp2t")
        spool.keep(part, part_name(answer.public_id, n))
        state["parts"].append({"key": put.key, "start_s": until, "end_s": end,
                               "end_key": end_key, "frames": made.frames, "size": put.size,
                               "width": made.width, "height": made.height})
        state["until_s"] = end
        state["upto_seq"] = upto_seq
        state["seconds"] = round(state["seconds"] + time.perf_counter() - began, 3)
        _save(store, answer.public_id, state)
    log.info("early video of answer %s encoded up to %.3fs (%d frames in %.2fs, ffmpeg CPU %.2fs; "
             "the pass %.2fs)", answer.public_id, end, made.frames, encoding, cpu,
             time.perf_counter() - began)


def _children_cpu_s() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _save(store, answer_public_id: str, state: dict) -> None:
    write_json(store, state_key(answer_public_id), state)
