"""Job: encode the video of an answer while the candidate is still recording it, when the
browser's video must be re-encoded (VP8/VP9 from Firefox, or more than 720p).

Re-encoding is the slowest part of processing, and it can be done as the recording arrives
(the cost is in bench/README.md, "Figures behind the defaults"): each pass encodes from where
the last one stopped to the last keyframe at least a second before the last frame that has
arrived (or, with none there, to a whole second), into an MPEG-TS part in object storage, and
records it in the answer's EarlyVideo state (jobs/early_state.py, where every piece of the
passes' state is described).

The final transcode encodes only what is after the state's `until_s` and joins the parts
(copied) with the audio, which gives the same frames at the same times as encoding it whole
(jobs/transcode.py); it does the whole thing instead if anything here is missing or does not
match the finished recording. A recording whose video is already H.264 of at most 720p needs
no pass: its first pass finds that out and says so in `skip`.
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from app.media import PART_MARGIN_S
from jobs import app_context
from jobs.early_state import (
    VIDEO_PASS,
    EarlyVideo,
    VideoPart,
    VideoSource,
    arrived_chunks,
    ends_before_key,
    one_pass_at_a_time,
    part_key,
    part_spool_name,
    recording_so_far,
)

if TYPE_CHECKING:
    from app.media.transcode import Part

log = logging.getLogger(__name__)

# A pass that starts at a whole second decodes from the keyframe before it. Parts end at
# keyframes where they can (Chromium puts one every second as we ask, Firefox every 7.5 s
# whatever we ask), so most passes decode nothing twice; a recording with almost none would
# make every pass decode nearly all of it again, so passes stop for it.
MAX_PREROLL_S = 20.0


@dataclass
class _Encoded:
    """A part a pass has just encoded into `path`, up to `end_s`."""

    path: Path
    end_s: float
    end_key: bool
    made: Part  # its frames and picture size
    expected: int  # the frames the recording shows in that span
    seconds: float  # the encode's wall time
    cpu_s: float  # ffmpeg's CPU time


def run(answer_id: int, upto_seq: int) -> None:
    from flask import current_app

    from app.extensions import db
    from app.media import MediaError
    from app.models import Answer
    from app.states import AnswerStatus
    from app.storage import current_storage

    with app_context(), one_pass_at_a_time(VIDEO_PASS, answer_id) as mine:
        if not mine:
            return
        # Looked at under the lock, which the final transcode takes before it reads the parts
        # (jobs/transcode.py): a pass that starts after it finds the answer finished, and one
        # that started before it is waited for, so its part is used, even the one the last
        # chunk queued while the candidate was finishing.
        answer = db.session.get(Answer, answer_id)
        if answer is None or answer.status != AnswerStatus.RECORDING:
            return  # finished already: the final transcode takes over
        try:
            _pass(answer, upto_seq, current_storage(), current_app.config)
        except MediaError as exc:  # only an optimisation: the final transcode does it all
            log.warning("early video pass for answer %s gave up: %s", answer.public_id, exc)


def _pass(answer, upto_seq: int, store, cfg) -> None:
    """One pass: encode the next part of what has arrived of the recording, if one is due."""
    from app.services.pipeline import NO_MORE_PASSES, next_pass_after
    from app.services.take_types import demuxer
    from app.storage import StorageError

    began = time.perf_counter()
    preset = cfg["X264_PRESET"]
    state = EarlyVideo.load(store, answer.public_id) or EarlyVideo(preset=preset)
    if state.skip or state.upto_seq >= upto_seq or state.preset != preset:
        return
    chunks = arrived_chunks(answer, upto_seq)
    if chunks is None:
        return
    container = demuxer(answer.content_type)  # read only as what the take declared
    with tempfile.TemporaryDirectory(prefix="oneway-early-video-") as tmp:
        try:
            with recording_so_far(store, answer, chunks) as prefix:
                encoded = _encode_next(prefix, Path(tmp) / "part.ts", state, container, cfg)
            if state.skip:  # this recording needs no passes, or they would cost more than they save
                state.save(store, answer.public_id)
        except StorageError:
            return  # the chunks were joined and removed meanwhile
        if encoded is not None and not state.skip:
            _keep(encoded, state, upto_seq, store, answer.public_id, began)
    # No pass before another part can be cut off (or ever again): the chunks queue none until then.
    next_pass_after("early-video", answer.id, NO_MORE_PASSES if state.skip else
                    state.until_s + cfg["EARLY_VIDEO_MIN_PART_SECONDS"] + PART_MARGIN_S)


def _encode_next(prefix: Path, part: Path, state: EarlyVideo, container: str,
                 cfg) -> _Encoded | None:
    """Encode the part of the recording so far (`prefix`) that the state has not, if at least
    EARLY_VIDEO_MIN_PART_SECONDS of it can be cut off (less is left for a later pass or the end).
    Sets the state's `skip` when no pass should be made (the state is not saved here)."""
    from app.media.probe import probe
    from app.media.transcode import encode_part, needs_reencode, scan_frames

    if state.source is None:  # the first pass looks at what the browser sends
        info = probe(prefix, container=container)
        if not needs_reencode(info):
            state.skip = "the browser's video is kept as it is"
            return None
        state.source = VideoSource.of(info)
    info = state.source.as_probe()
    until, from_key = state.until_s, ends_before_key(state.parts)
    scan = scan_frames(prefix, info, until, from_key, container=container)
    if scan.first_s is not None and until - scan.first_s > MAX_PREROLL_S:
        # Each pass would decode from a keyframe this far back, ever further: the whole encode
        # at the end costs less than that.
        state.skip = f"keyframes are more than {MAX_PREROLL_S:g} s apart in this recording"
        return None
    cut = scan.next_cut(until, cfg["EARLY_VIDEO_MIN_PART_SECONDS"], PART_MARGIN_S)
    if cut is None:
        return None
    end, end_key = cut
    encoding, cpu = time.perf_counter(), _children_cpu_s()
    made = encode_part(prefix, part, info, until, end, state.preset,
                       timeout=cfg["FFMPEG_TIMEOUT"], picture=state.picture,
                       from_key=from_key, container=container)
    return _Encoded(part, end, end_key, made, scan.frames_between(until, end),
                    time.perf_counter() - encoding, _children_cpu_s() - cpu)


def _keep(encoded: _Encoded, state: EarlyVideo, upto_seq: int, store, answer_public_id: str,
          began: float) -> None:
    """Store the part and record it in the state; or stop the passes when it does not hold the
    frames it should."""
    from jobs import spool

    made = encoded.made
    if made.frames != encoded.expected:
        # A frame lost or doubled would be in the answer for good: leave it all to the
        # final transcode, which encodes the whole recording when parts are missing.
        state.skip = f"a part came out as {made.frames} frames, not {encoded.expected}"
        state.save(store, answer_public_id)
        log.warning("early video of answer %s stopped: %s", answer_public_id, state.skip)
        return
    if not made.frames:
        return  # no picture in that span yet (a stalled camera): the next pass retries it
    n = len(state.parts)
    put = store.put_file(part_key(answer_public_id, n), encoded.path, "video/mp2t")
    spool.keep(encoded.path, part_spool_name(answer_public_id, n))
    state.parts.append(VideoPart(key=put.key, start_s=state.until_s, end_s=encoded.end_s,
                                 end_key=encoded.end_key, frames=made.frames, size=put.size,
                                 width=made.width, height=made.height))
    state.until_s = encoded.end_s
    state.upto_seq = upto_seq
    state.seconds = round(state.seconds + time.perf_counter() - began, 3)
    state.save(store, answer_public_id)
    log.info("early video of answer %s encoded up to %.3fs (%d frames in %.2fs, ffmpeg CPU %.2fs; "
             "the pass %.2fs)", answer_public_id, encoded.end_s, made.frames, encoded.seconds,
             encoded.cpu_s, time.perf_counter() - began)


def _children_cpu_s() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime
