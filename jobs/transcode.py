"""Job: validate the upload with ffprobe, write the review MP4 and the speech WAV."""

from __future__ import annotations

import logging
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from jobs import Steps, run_answer_stage
from jobs.early_state import (
    VIDEO_PASS,
    EarlyVideo,
    ends_before_key,
    one_pass_at_a_time,
    part_spool_name,
)

log = logging.getLogger(__name__)
# A pass encodes its part in a few seconds (bench/README.md, "Figures behind the defaults"); one
# that holds its lock far longer than that is stuck or on a dead worker, and is not waited for.
PASS_WAIT_S = 60


def run(answer_id: int) -> None:
    run_answer_stage("transcode", answer_id, _transcode, _then)


def _transcode(answer) -> list[str]:
    """Write the answer's MP4 and WAV; returns the keys of the video encoded while it was
    recorded, which the MP4 holds now (removed by _then, once the outputs are committed)."""
    from flask import current_app

    from app.media import MediaError
    from app.media.quality import check_audio
    from app.services.take_types import demuxer
    from app.storage import answer_key, current_storage
    from jobs import spool

    if answer.mp4_key and (answer.audio_key or answer.transcript is not None):
        return []
    store, step = current_storage(), Steps()
    with tempfile.TemporaryDirectory(prefix="oneway-transcode-") as tmp:
        src = Path(tmp) / f"original{Path(answer.original_key).suffix}"
        with step("fetch"):
            store.download(answer.original_key, src)
        if src.stat().st_size == 0:
            raise MediaError("The uploaded recording is empty.")
        container = demuxer(answer.content_type)  # read only as what the take declared
        cfg = current_app.config
        with step("probe"):
            info = _probe(src, container, answer, cfg)
        # A video pass over the recording may still be running (queued by its last chunks):
        # its part is about to be there, and waiting for it costs less than doing it again.
        with step("wait for a pass"), one_pass_at_a_time(VIDEO_PASS, answer.id, wait=PASS_WAIT_S):
            early = EarlyVideo.load(store, answer.public_id)
        with step("encode"):
            out = (_from_parts(store, answer, src, Path(tmp), info, container, early, cfg)
                   or _whole(answer, src, Path(tmp), info, container, cfg))
        if out.duration_s <= 0.1:
            raise MediaError("The recording holds no playable audio or video (it may be truncated).")
        _check_not_truncated(out.duration_s, answer.client_duration_ms)
        _check_within_limit(out.duration_s, answer)  # packets without a time were given one
        # The two uploads go side by side: the MP4 is most of the bytes, the WAV most of the
        # requests' waiting.
        with step("store and check the sound"), ThreadPoolExecutor(2) as pool:
            media_put = pool.submit(store.put_file, answer_key(answer.public_id, out.media_path.name),
                                    out.media_path, out.media_content_type)
            if out.wav_path is not None:
                pool.submit(store.put_file, answer_key(answer.public_id, "speech.wav"),
                            out.wav_path, "audio/wav").result()
                answer.audio_key = answer_key(answer.public_id, "speech.wav")
            answer.quality_audio = check_audio(out.wav_path).to_dict()
            media = media_put.result()
        if info.has_video:  # the poster stage reads it next, on this machine if it can
            spool.keep(out.media_path, f"{answer.public_id}-answer.mp4")
    log.info("transcode of answer %s: %s", answer.public_id, step)
    answer.mp4_key, answer.mp4_size = media.key, media.size
    answer.duration_s = round(out.duration_s, 3)
    answer.width, answer.height = out.width, out.height
    return early.stored_keys(answer.public_id) if early else []


def _whole(answer, src: Path, tmp: Path, info, container: str, cfg):
    """The whole recording encoded at once; under a backlog with the cheaper preset
    (app.services.pipeline.encode_preset)."""
    from app.media.transcode import needs_reencode, transcode
    from app.services import pipeline

    preset = pipeline.encode_preset(answer) if needs_reencode(info) else cfg["X264_PRESET"]
    if preset != cfg["X264_PRESET"]:
        log.info("answer %s encoded with the %s preset: other answers are waiting", answer.public_id, preset)
    return transcode(src, tmp, info, timeout=cfg["FFMPEG_TIMEOUT"], preset=preset, container=container)


def _probe(src: Path, container: str | None, answer, cfg):
    """What the recording holds; refused before the costly part when it is not what the take
    declared, or longer than allowed (by its packets' times: a header may say anything)."""
    from app.media.probe import play_length, probe

    info = probe(src, container=container)
    _check_within_limit(play_length(src, container=container, timeout=cfg["FFMPEG_TIMEOUT"]), answer)
    return info


def _from_parts(store, answer, src: Path, tmp: Path, info, container: str,
                early: EarlyVideo | None, cfg):
    """The outputs made from the video encoded while the answer was recorded (jobs/early_video.py)
    and the rest; None when there is none to use, or any of it cannot be had, and the whole
    recording must be encoded."""
    from app.media import MediaError
    from app.media.transcode import needs_reencode, transcode_from_parts
    from app.services import pipeline
    from app.storage import StorageError
    from jobs import spool

    parts = early.usable_parts(info, cfg["X264_PRESET"]) if early and needs_reencode(info) else []
    if not parts:
        return None
    paths = []
    try:
        for n, part in enumerate(parts):
            path = tmp / f"part-{n:04d}.ts"
            if not spool.take(part_spool_name(answer.public_id, n), part.size, path):
                store.download(part.key, path)
            if path.stat().st_size != part.size:
                raise StorageError(f"video part {n} has {path.stat().st_size} bytes, "
                                   f"not {part.size}")
            paths.append(path)
        out = transcode_from_parts(src, tmp, info, paths, parts[-1].end_s,
                                   timeout=cfg["FFMPEG_TIMEOUT"], preset=cfg["X264_PRESET"],
                                   picture=early.picture,
                                   from_key=ends_before_key(parts), container=container)
    except (StorageError, MediaError, OSError) as exc:
        log.warning("answer %s: the video encoded while recording cannot be used (%s); "
                    "encoding it whole", answer.public_id, exc)
        return None
    pipeline.record_stage(answer, "transcode_early", early.seconds)
    return out


def _check_not_truncated(duration_s: float, recorded_ms: int | None) -> None:
    """The browser says how long it recorded; media much shorter than that lost its end."""
    from app.media import MediaError

    if recorded_ms and duration_s < recorded_ms / 1000 * 0.85 - 0.5:
        raise MediaError(f"The recording is truncated: it plays {duration_s:.0f} s of the "
                         f"{recorded_ms / 1000:.0f} s recorded. The candidate should record it again.")


def _check_within_limit(duration_s: float, answer) -> None:
    """The server holds the same limit as the countdown: the answer time, with any extra time
    granted, plus a small grace."""
    from app.media import MediaError
    from app.services.accommodations import allowed_seconds

    allowed = allowed_seconds(answer.candidate, answer.question)
    if duration_s > allowed:
        raise MediaError(f"The recording is {duration_s:.0f} s long, more than the {allowed:.0f} s "
                         "allowed for this question.")


def _then(answer, early_video_keys: list[str]) -> None:
    from app.services import pipeline
    from app.storage import current_storage
    from jobs.join import remove_chunks

    pipeline.after_transcode(answer)
    remove_chunks(answer)  # left by a join whose worker died after it committed the original
    if early_video_keys:  # the MP4 holds them now; a retry encodes the whole recording again
        try:
            current_storage().delete(*early_video_keys)
        except Exception:  # S3 unreachable just now: they are only a few seconds' worth of bytes
            log.warning("answer %s: could not remove its video parts", answer.public_id,
                        exc_info=True)
