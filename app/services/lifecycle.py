"""Every status change of an answer, a prompt video or a candidate: checked against its lifecycle
(app.states), then written with what that status records. Nothing else sets a status; callers
commit."""

from __future__ import annotations

from datetime import datetime

from app.extensions import db
from app.models import Answer, Candidate, PromptMedia, utcnow
from app.states import ANSWER, CANDIDATE, AnswerStatus, CandidateStatus


def _answer_values(new: AnswerStatus, reason: str | None) -> dict:
    """What moving an answer to `new` writes: a failure keeps its reason (any other status clears
    it), and a ready answer the moment it became ready."""
    values = {"status": new, "failure_reason": reason if new == AnswerStatus.FAILED else None}
    if new == AnswerStatus.READY:
        values["ready_at"] = utcnow()
    return values


def move_answer(answer: Answer, new: AnswerStatus, reason: str | None = None) -> None:
    """Move a loaded answer; refuses moves its lifecycle forbids."""
    ANSWER.check_move(answer.status, new)
    for name, value in _answer_values(new, reason).items():
        setattr(answer, name, value)


def move_answer_where(answer_id: int, current: AnswerStatus, new: AnswerStatus,
                      reason: str | None = None) -> bool:
    """Move an answer only if it is still in `current`, in one conditional UPDATE: of two workers
    making the same move at once, exactly one wins (True). Refuses moves its lifecycle forbids."""
    ANSWER.check_move(current, new)
    won = db.session.execute(
        db.update(Answer).where(Answer.id == answer_id, Answer.status == current)
        .values(**_answer_values(new, reason))
    ).rowcount
    if won:  # a bulk UPDATE passes no flush: its webhook event is written here, in its transaction
        from app.services import webhooks

        webhooks.answer_moved(answer_id, new)
    return bool(won)


def move_candidate(candidate: Candidate, new: CandidateStatus, at: datetime | None = None) -> None:
    """Move a candidate, recording when (`at`, now by default) they started or completed; refuses
    moves their lifecycle forbids."""
    CANDIDATE.check_move(candidate.status, new)
    at = at or utcnow()
    candidate.status = new
    if new == CandidateStatus.STARTED:
        candidate.started_at = candidate.started_at or at
    elif new == CandidateStatus.COMPLETED:
        candidate.completed_at = at


def move_prompt_media(media: PromptMedia, new: AnswerStatus, reason: str | None = None) -> None:
    """Move a hiring manager's prompt video: it goes through an answer's lifecycle (recording,
    uploaded, processing, ready or failed), and records what an answer's move records."""
    ANSWER.check_move(media.status, new)
    for name, value in _answer_values(new, reason).items():
        setattr(media, name, value)
