"""Moving an answer through its states, and enqueueing the processing jobs after each commit."""

from __future__ import annotations

import logging

from app import states
from app.extensions import db
from app.models import Answer, Candidate, utcnow
from app.queue import ASR_QUEUE, MEDIA_QUEUE, enqueue

log = logging.getLogger(__name__)

# The outputs an answer needs before graders can review it.
OUTPUTS = ("mp4_key", "poster_key", "captions_key")


def move(answer: Answer, new: str, reason: str | None = None) -> None:
    """The one place an answer's status changes; refuses moves the state machine forbids."""
    states.check_move(answer.status, new)
    answer.status = new
    answer.failure_reason = reason if new == states.FAILED else None
    if new == states.READY:
        answer.ready_at = utcnow()


def start(answer: Answer) -> None:
    """Enqueue the first stage; call after the answer's upload is committed."""
    enqueue("jobs.transcode.run", answer.id, queue=MEDIA_QUEUE, job_id=f"transcode-{answer.id}")


def after_transcode(answer: Answer) -> None:
    """Poster and transcript need only the transcode's outputs, so they run side by side."""
    enqueue("jobs.thumbnail.run", answer.id, queue=MEDIA_QUEUE, job_id=f"thumbnail-{answer.id}")
    enqueue("jobs.transcribe.run", answer.id, queue=ASR_QUEUE, job_id=f"transcribe-{answer.id}")


def fail(answer_id: int, reason: str) -> None:
    """Record a failure a person can read; a no-op if the answer is gone or already settled."""
    db.session.rollback()
    answer = db.session.get(Answer, answer_id)
    if answer is None or not states.can_move(answer.status, states.FAILED):
        return
    move(answer, states.FAILED, reason[:2000])
    db.session.commit()
    log.warning("answer %s failed: %s", answer.public_id, reason)


def record_stage(answer: Answer, name: str, seconds: float) -> None:
    timings = dict(answer.stage_seconds or {})
    timings[name] = round(seconds, 3)
    answer.stage_seconds = timings


def maybe_ready(answer_id: int) -> bool:
    """Mark the answer ready once every output exists; exactly one caller wins the move."""
    db.session.expire_all()
    answer = db.session.get(Answer, answer_id)
    if answer is None or answer.status != states.PROCESSING:
        return False
    needed = [f for f in OUTPUTS if f != "poster_key" or answer.width is not None]
    if any(getattr(answer, f) is None for f in needed) or answer.transcript is None:
        return False
    # A conditional UPDATE (processing -> ready, a legal move) so that of two stages finishing
    # together exactly one sees rowcount 1 and enqueues the package.
    won = db.session.execute(
        db.update(Answer)
        .where(Answer.id == answer_id, Answer.status == states.PROCESSING)
        .values(status=states.READY, ready_at=utcnow(), failure_reason=None)
    ).rowcount
    db.session.commit()
    if won:
        maybe_build_package(answer.candidate_id)
    return bool(won)


def maybe_build_package(candidate_id: int) -> None:
    """Enqueue the review package when the candidate is done and every kept answer is ready."""
    from app.services.recording import current_answers

    candidate = db.session.get(Candidate, candidate_id)
    if candidate is None or candidate.status != "completed":
        return
    answers = current_answers(candidate)
    if all(a.status == states.READY for a in answers.values()) and answers:
        enqueue("jobs.package.run", candidate.id, queue=MEDIA_QUEUE,
                job_id=f"package-{candidate.id}-{max(a.id for a in answers.values())}")


def retry(answer: Answer) -> None:
    """Send a failed (or ready) answer through the pipeline again."""
    if answer.original_key is None:
        raise ValueError("this answer was never uploaded whole; the candidate must record it again")
    move(answer, states.UPLOADED)
    answer.mp4_key = answer.poster_key = answer.captions_key = answer.audio_key = None
    answer.transcript = None
    db.session.commit()
    start(answer)
