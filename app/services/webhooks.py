"""Webhooks: events written in the transaction of the change that causes them,
and their delivery, signed as the Standard Webhooks specification says.

Events come from one listener on the session (before each flush): a new candidate, a candidate's or
an answer's status change, a submitted review, a decision, an erasure's audit event; and from
app.services.lifecycle.move_answer_where, the one status change made by a bulk UPDATE. Each event
becomes one WebhookMessage per active endpoint that chose its type, in the same transaction: a
rolled-back change leaves none. After the commit a job per message delivers it (jobs.webhooks);
the workers' webhook pass sends again what is due and takes back claims of workers that died, so
delivery is at least once, and every copy carries the message's stable `webhook-id`.

Payloads carry ids, a status and a link, never a name, an e-mail or media.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import (
    Answer,
    AuditEvent,
    Candidate,
    Decision,
    Review,
    WebhookEndpoint,
    WebhookMessage,
    utcnow,
)
from app.services.after_commit import dispatch_after_commit

log = logging.getLogger(__name__)

EVENT_TYPES = {
    "candidate.invited": "A candidate was invited",
    "candidate.started": "A candidate agreed and started",
    "candidate.completed": "A candidate finished every question",
    "answer.ready": "An answer is processed and ready to review",
    "answer.failed": "An answer could not be processed",
    "review.submitted": "A grader submitted a review",
    "decision.made": "Advance, hold or reject was recorded",
    "candidate.erased": "Everything about a candidate was deleted",
}
SECRET_PREFIX = "whsec_"
FIRST_TRY_GRACE = timedelta(seconds=30)  # a message its after-commit job did not take by then: the pass


# -- events, in the transaction of the change -----------------------------------------------------


def _payload(event_type: str, org_id: int, data: dict) -> dict:
    return {"type": event_type, "timestamp": utcnow().isoformat(), "data": data}


def _candidate_data(candidate_public_id: str, interview_public_id: str | None, **extra) -> dict:
    base = current_app.config.get("BASE_URL") or ""
    data = {
        "candidate_id": candidate_public_id,
        "interview_id": interview_public_id,
        "url": f"{base}/review/candidates/{candidate_public_id}",
    }
    return data | extra


def queue_event(session: Session, org_id: int, event_type: str, data: dict) -> int:
    """Add one message per active endpoint of the organisation that hears this type, to `session`'s
    open transaction; how many."""
    endpoints = session.execute(
        sa.select(WebhookEndpoint.id, WebhookEndpoint.event_types).where(
            WebhookEndpoint.org_id == org_id, WebhookEndpoint.active
        )
    ).all()
    payload = _payload(event_type, org_id, data)
    made = 0
    for endpoint_id, types in endpoints:
        if event_type in types.split(","):
            session.add(
                WebhookMessage(
                    public_id="msg_" + secrets.token_urlsafe(18),
                    endpoint_id=endpoint_id,
                    event_type=event_type,
                    payload=payload,
                    status="pending",
                    next_attempt_at=utcnow() + FIRST_TRY_GRACE,
                )
            )
            made += 1
    return made


def _status_added(obj, name: str = "status") -> str | None:
    history = inspect(obj).attrs[name].history
    return history.added[0] if history.added else None


def _events_in(session: Session) -> list[tuple[int, str, dict]]:
    """(org id, type, data) for every change in this flush that is an event."""
    found = []
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Candidate):
            found += _candidate_events(session, obj)
        elif isinstance(obj, Answer):
            new = _status_added(obj) if obj in session.dirty else None
            if new in ("ready", "failed"):
                found += _answer_event(session, obj.id, new)
        elif isinstance(obj, Review) and obj in session.new and obj.recommendation is not None:
            found += _about_candidate(
                session, obj.candidate_id, "review.submitted", recommendation=obj.recommendation
            )
        elif isinstance(obj, Decision) and obj in session.new:
            found += _about_candidate(session, obj.candidate_id, "decision.made", decision=obj.value)
        elif (
            isinstance(obj, AuditEvent)
            and obj in session.new
            and obj.action in ("candidate.erased", "candidate.purged")
        ):
            found.append((obj.org_id, "candidate.erased", _candidate_data(obj.subject_id, None)))
    return found


def _candidate_events(session: Session, candidate: Candidate) -> list:
    if candidate in session.new:
        from app.models import Interview, new_public_id

        if candidate.public_id is None:  # its default comes at the insert; the event needs it now
            candidate.public_id = new_public_id()
        interview = candidate.interview or session.get(Interview, candidate.interview_id)
        data = _candidate_data(candidate.public_id, interview.public_id if interview else None,
                               status="invited")
        return [(candidate.org_id, "candidate.invited", data)]
    new = _status_added(candidate)
    if new in ("started", "completed"):
        return [
            (
                candidate.org_id,
                f"candidate.{new}",
                _candidate_data(candidate.public_id, candidate.interview.public_id, status=new),
            )
        ]
    return []


def _about_candidate(session: Session, candidate_id: int, event_type: str, **extra) -> list:
    from app.models import Interview

    row = session.execute(
        sa.select(Candidate.org_id, Candidate.public_id, Interview.public_id)
        .join(Interview, Interview.id == Candidate.interview_id)
        .where(Candidate.id == candidate_id)
    ).first()
    return [(row[0], event_type, _candidate_data(row[1], row[2], **extra))] if row else []


def _answer_event(session: Session, answer_id: int, new: str) -> list:
    from app.models import Interview, Question

    row = session.execute(
        sa.select(
            Candidate.org_id, Candidate.public_id, Interview.public_id, Answer.public_id, Question.public_id
        )
        .join(Candidate, Candidate.id == Answer.candidate_id)
        .join(Interview, Interview.id == Candidate.interview_id)
        .join(Question, Question.id == Answer.question_id)
        .where(Answer.id == answer_id)
    ).first()
    if row is None:
        return []
    return [
        (
            row[0],
            f"answer.{new}",
            _candidate_data(row[1], row[2], answer_id=row[3], question_id=row[4], status=new),
        )
    ]


def answer_moved(answer_id: int, new: str) -> None:
    """An answer's status changed by a bulk UPDATE (lifecycle.move_answer_where): its event, in the
    same transaction."""
    if new in ("ready", "failed") and has_app_context():
        for org_id, event_type, data in _answer_event(db.session, answer_id, new):
            queue_event(db.session, org_id, event_type, data)


@event.listens_for(Session, "before_flush")
def _emit(session, _context, _instances) -> None:
    if not has_app_context() or session.info.get("webhooks_emitting"):
        return
    if not any(
        isinstance(o, (Candidate, Answer, Review, Decision, AuditEvent))
        for o in list(session.new) + list(session.dirty)
    ):
        return
    session.info["webhooks_emitting"] = True  # the queries below flush nothing new of ours
    try:
        with session.no_autoflush:
            for org_id, event_type, data in _events_in(session):
                queue_event(session, org_id, event_type, data)
    finally:
        session.info.pop("webhooks_emitting", None)


def dispatch(ids: list[int]) -> None:
    """A delivery job per message; with Redis away, the webhook pass sends them later."""
    from app.queue import WEBHOOK_QUEUE, enqueue_batch

    jobs = [(f"webhook-{i}-{secrets.token_hex(4)}", (i,)) for i in ids]
    if not enqueue_batch("jobs.webhooks.deliver", jobs, queue=WEBHOOK_QUEUE, timeout=120,
                         failure_ttl=24 * 3600):
        log.warning("could not queue %d webhook message(s) now; the webhook pass sends them", len(ids))


dispatch_after_commit(WebhookMessage, dispatch, when=has_app_context)
