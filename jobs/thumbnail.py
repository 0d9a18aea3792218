"""Job: pick the poster frame and check the picture (black, frozen, no face) with OpenCV."""

from __future__ import annotations

import tempfile
from pathlib import Path

from jobs import run_answer_stage


def run(answer_id: int) -> None:
    run_answer_stage("thumbnail", answer_id, _thumbnail, _then)


def _thumbnail(answer) -> None:
    from app.media.thumbnail import choose_poster
    from app.storage import answer_key, current_storage
    from jobs import spool

    if answer.poster_key or answer.width is None:  # done already, or an audio-only answer
        return
    store = current_storage()
    with tempfile.TemporaryDirectory(prefix="oneway-poster-") as tmp:
        video = Path(tmp) / "answer.mp4"
        if not spool.take(f"{answer.public_id}-answer.mp4", answer.mp4_size, video):
            store.download(answer.mp4_key, video)
        poster = choose_poster(video, Path(tmp) / "poster.jpg", answer.width, answer.height,
                               answer.duration_s)
        put = store.put_file(answer_key(answer.public_id, "poster.jpg"), poster.path, "image/jpeg")
    answer.poster_key, answer.poster_size = put.key, put.size
    answer.quality_video = {**poster.check.to_dict(), "poster_time_s": poster.time_s}


def _then(answer, _result: None) -> None:
    from app.services import pipeline

    pipeline.maybe_ready(answer.id)
