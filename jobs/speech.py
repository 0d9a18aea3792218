"""Job: the speech WAV of a ready video answer that has none, made from its review MP4, so that
audio-only review can play its sound without the picture. `flask backfill-audio` queues it for the
answers app.services.pipeline.lacks_sound_only() finds; the transcode stage makes the WAV of every
answer with sound since."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from jobs import app_context

log = logging.getLogger(__name__)


def run(answer_id: int) -> None:
    from app.extensions import db
    from app.media.audio import extract_speech
    from app.media.probe import probe
    from app.models import Answer
    from app.services.pipeline import lacks_sound_only
    from app.storage import answer_key, current_storage

    with app_context() as app:
        answer = db.session.execute(
            db.select(Answer).where(Answer.id == answer_id, lacks_sound_only())).scalar_one_or_none()
        if answer is None:  # gone, retried, or given its WAV meanwhile
            return
        store, mp4_key = current_storage(), answer.mp4_key
        with tempfile.TemporaryDirectory(prefix="oneway-speech-") as tmp:
            video = Path(tmp) / "answer.mp4"
            store.download(mp4_key, video)
            if not probe(video, container="mov").has_audio:  # our own MP4
                log.info("answer %s has no sound: audio-only review shows its transcript only",
                         answer.public_id)
                return
            wav = extract_speech(video, Path(tmp) / "speech.wav", timeout=app.config["FFMPEG_TIMEOUT"],
                                 container="mov")
            put = store.put_file(answer_key(answer.public_id, "speech.wav"), wav, "audio/wav")
        # Only onto the answer as it was read: a retry meanwhile makes its own outputs.
        db.session.execute(db.update(Answer).where(Answer.id == answer_id, Answer.mp4_key == mp4_key,
                                                   lacks_sound_only()).values(audio_key=put.key))
        db.session.commit()
        log.info("speech WAV made for answer %s", answer.public_id)
