"""Sending an answer through processing again, by staff or by the operator, recorded in the audit log."""

from __future__ import annotations

from app.models import Answer, User
from app.services import ServiceError, audit, pipeline


def retry(user: User, answer: Answer) -> None:
    """Send an answer through processing again; owners and recruiters only, since until it is done
    the answer is hidden from every grader. Recorded in the audit log with the change."""
    if not user.can_author:
        raise ServiceError("Only owners and recruiters may process an answer again: until it is done, "
                           "the answer is hidden from every grader.", 403)
    _retry(answer, actor=user)


def operator_retry(answer: Answer) -> None:
    """The operator's `flask retry-answer`: the same, recorded as the command line's doing."""
    _retry(answer, label=audit.OPERATOR, org_id=answer.candidate.org_id)


def _retry(answer: Answer, **who) -> None:
    position = next(i for i, q in enumerate(answer.candidate.questions, 1)
                    if q.id == answer.question_id)
    audit.record("answer.retried", answer.candidate, answer=answer.public_id, question=position, **who)
    pipeline.retry(answer)  # commits the event with the change, or raises before anything is written
