"""Job: transcribe what has arrived of an answer while the candidate is still recording, so the
wait after the last chunk does not grow with the answer's length.

With batched decoding (the default) a run decodes the voice-activity windows that no later
audio can change (app/media/batched.settled_windows): the final transcription keeps them and
decodes only the windows after them, and its transcript is the one the whole recording would
have given, computed sooner. With sequential decoding a run transcribes from where the last one
stopped up to the last pause in what has arrived (so no word is cut and nothing is transcribed
twice). Either way the result is kept in the answer's EarlyTranscript state
(jobs/early_state.py, where every piece of the passes' state is described).
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from jobs import app_context
from jobs.early_state import (
    TRANSCRIPT_PASS,
    EarlyTranscript,
    arrived_chunks,
    one_pass_at_a_time,
    recording_so_far,
)

log = logging.getLogger(__name__)
GRACE_POLL_S = 0.2
# A pass that found the open window still open (the speaker had not paused since it ran WINDOW_S)
# lets this many chunks pass before the next looks: a pause comes within a few seconds of speech.
LOOK_AGAIN_CHUNKS = 3


def run(answer_id: int, upto_seq: int) -> None:
    from flask import current_app

    from app.extensions import db
    from app.models import Answer
    from app.services.pipeline import next_pass_after
    from app.states import AnswerStatus
    from app.storage import current_storage

    with app_context():
        answer = db.session.get(Answer, answer_id)
        if answer is None or answer.status != AnswerStatus.RECORDING:
            return  # finished already: the final transcription takes over
        cfg, store = current_app.config, current_storage()
        # Looked at before the grace too: a pass with nothing to do must not hold the worker.
        if not _worth_a_pass(EarlyTranscript.load(store, answer.public_id), upto_seq, cfg):
            return
        # The chunks that arrive while this pass runs queue none: it records where the next can
        # start when it is done (at the latest LOOK_AGAIN_CHUNKS on, as here).
        next_pass_after("early", answer.id, upto_seq + 1 + LOOK_AGAIN_CHUNKS)
        if not _still_recording_after_grace(answer, upto_seq, cfg["EARLY_GRACE_SECONDS"]):
            return
        with one_pass_at_a_time(TRANSCRIPT_PASS, answer_id) as mine:
            if mine:
                _pass(answer, upto_seq, cfg, store)


def _pass(answer, upto_seq: int, cfg, store) -> None:
    from app.media import WINDOW_S, MediaError
    from app.media.audio import extract_speech
    from app.media.speech_models import resolve_model
    from app.media.transcribe import settle
    from app.services.pipeline import next_pass_after, settles_windows
    from app.services.take_types import demuxer
    from app.storage import StorageError

    began = time.perf_counter()
    early = EarlyTranscript.load(store, answer.public_id) or EarlyTranscript()
    if not _worth_a_pass(early, upto_seq, cfg):
        return
    chunks = arrived_chunks(answer, upto_seq)
    if chunks is None:
        return
    # Once a pass has found the language (none was set), the later passes keep it: each part
    # of an answer detected on its own could come out in another language.
    language = (answer.question.interview.language or cfg["WHISPER_LANGUAGE"]
                or (early.language if early.segments else None))
    by_windows = settles_windows(cfg)
    with tempfile.TemporaryDirectory(prefix="oneway-early-") as tmp:
        try:
            with recording_so_far(store, answer, chunks) as prefix:
                # Windows are found in the whole recording so far: where speech starts and ends
                # depends on the audio before it.
                wav = extract_speech(prefix, Path(tmp) / "part.wav",
                                     0.0 if by_windows else early.until_s,
                                     container=demuxer(answer.content_type))
        except StorageError:
            return  # the chunks were joined and removed meanwhile
        except MediaError as exc:  # only an optimisation: the final transcode gives the reason
            log.warning("early transcription of answer %s gave up: %s", answer.public_id, exc)
            return
        model_dir = resolve_model(cfg["WHISPER_MODEL"], cfg["MODEL_CACHE_DIR"])
        if by_windows:
            before = early.until_s
            settled, found = settle(wav, model_dir, early.settled_windows(), language,
                                    threads=cfg["WHISPER_THREADS"], device=cfg["WHISPER_DEVICE"],
                                    vad=cfg["WHISPER_VAD"])
            early.keep_windows(settled)
            early.language = found or early.language
            # A new window can close only WINDOW_S past the last one's end. One that has run that
            # long closes at the speaker's next pause: until then, look again every few chunks.
            next_pass_after("early", answer.id, early.until_s + WINDOW_S if early.until_s > before
                            else upto_seq + 1 + LOOK_AGAIN_CHUNKS)
        else:
            _after_last_pause(early, wav, Path(tmp), model_dir, language, cfg)
    early.upto_seq = upto_seq
    early.seconds = round(early.seconds + time.perf_counter() - began, 3)
    early.save(store, answer.public_id)
    log.info("early transcript of answer %s settled up to %.1fs", answer.public_id,
             early.until_s)


def _worth_a_pass(early: EarlyTranscript | None, upto_seq: int, cfg) -> bool:
    """Whether a pass up to chunk `upto_seq` can settle anything: no pass has looked at that
    chunk yet, and, when passes settle windows, the recording can have run WINDOW_S past the
    last settled one. A chunk holds at least a second of it (the recorder sends a piece a
    second), and a window closes only when speech runs on past WINDOW_S after its start:
    before that a pass would fetch and read the sound only to find no new window."""
    from app.media import WINDOW_S
    from app.services.pipeline import settles_windows

    if early is None:
        early = EarlyTranscript()
    if early.upto_seq >= upto_seq:
        return False
    return not settles_windows(cfg) or upto_seq + 1 > early.until_s + WINDOW_S


def _after_last_pause(early: EarlyTranscript, wav: Path, tmp: Path, model_dir: Path, language,
                      cfg) -> None:
    """Sequential decoding: transcribe `wav` (the audio after early.until_s) up to its last pause."""
    from app.media.audio import last_pause, trim_wav
    from app.media.transcribe import shifted, transcribe
    from jobs.transcribe import asr_settings

    cut = last_pause(wav)
    if cut is None or cut < 2.0:  # too little to be worth a pass otherwise
        return
    part = transcribe(trim_wav(wav, tmp / "head.wav", cut), model_dir, language=language,
                      **asr_settings(cfg))
    early.segments += [asdict(s) for s in shifted(part.segments, early.until_s)]
    early.until_s = round(early.until_s + cut, 3)
    early.language = part.language


def _still_recording_after_grace(answer, upto_seq: int, grace_s: float) -> bool:
    """The chunk that queued this pass may be the recording's last: give the recorder's finalize
    (which joins the chunks first) `grace_s` from that chunk's arrival to claim the answer, so
    that a pass is not spent on audio the final transcription is about to do in one batch.
    The wait ends as soon as the finalize does (usually well within a second), or as soon as a
    later chunk shows that this one was not the last (the recorder sends one a second): a
    worker that slept the whole grace kept the final stages of that very answer, and every
    other job, waiting."""
    from app.extensions import db
    from app.models import AnswerChunk, utcnow
    from app.states import AnswerStatus

    arrived = db.session.execute(
        db.select(AnswerChunk.created_at).filter_by(answer_id=answer.id, seq=upto_seq)
    ).scalar_one_or_none()
    if arrived is None:
        return False
    deadline = time.monotonic() + grace_s - (utcnow() - arrived).total_seconds()
    model, answer_id, now = type(answer), answer.id, answer
    while True:
        if now is None or now.status != AnswerStatus.RECORDING:  # finalized, or let go (takes.py)
            return False
        if now.chunk_count > upto_seq + 1:
            return True  # the recording went on past this chunk
        wait = deadline - time.monotonic()
        if wait <= 0:
            return True
        db.session.rollback()  # hold no transaction (nor SQLite's read lock) while waiting
        time.sleep(min(GRACE_POLL_S, wait))
        now = db.session.get(model, answer_id)
