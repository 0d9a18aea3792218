"""Job: validate the upload with ffprobe, write the review MP4 and the speech WAV."""

from __future__ import annotations

import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from jobs import run_answer_stage


def run(answer_id: int) -> None:
    run_answer_stage("transcode", answer_id, _transcode, _then)


def _transcode(answer) -> None:
    from flask import current_app

    from app.media import MediaError
    from app.media.probe import probe
    from app.media.quality import check_audio
    from app.media.transcode import transcode
    from app.services import storage
    from app.storage import answer_key
    from jobs import spool

    if answer.mp4_key and (answer.audio_key or answer.transcript is not None):
        return
    store = storage()
    with tempfile.TemporaryDirectory(prefix="oneway-transcode-") as tmp:
        src = Path(tmp) / f"original{Path(answer.original_key).suffix}"
        store.download(answer.original_key, src)
        if src.stat().st_size == 0:
            raise MediaError("The uploaded recording is empty.")
        info = probe(src)
        out = transcode(src, Path(tmp), info, timeout=current_app.config["FFMPEG_TIMEOUT"],
                        preset=current_app.config["X264_PRESET"])
        if out.duration_s <= 0.1:
            raise MediaError("The recording holds no playable audio or video (it may be truncated).")
        _check_not_truncated(out.duration_s, answer.client_duration_ms)
        _check_within_limit(out.duration_s, answer)
        # The two uploads go side by side: the MP4 is most of the bytes, the WAV most of the
        # requests' waiting.
        with ThreadPoolExecutor(2) as pool:
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
    answer.mp4_key, answer.mp4_size = media.key, media.size
    answer.duration_s = round(out.duration_s, 3)
    answer.width, answer.height = out.width, out.height


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


def _then(answer) -> None:
    from app.services import pipeline

    pipeline.after_transcode(answer)
