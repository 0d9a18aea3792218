"""Webhooks: owners' endpoints, events written in the transaction of the change that causes them,
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

import base64
import ipaddress
import logging
import secrets
import socket
from datetime import timedelta
from urllib.parse import urlsplit

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
    Role,
    User,
    WebhookAttempt,
    WebhookEndpoint,
    WebhookMessage,
    utcnow,
)
from app.services import ServiceError

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
ROTATION_GRACE = timedelta(hours=24)  # the previous secret still signs this long after a rotation
FIRST_TRY_GRACE = timedelta(seconds=30)  # a message its after-commit job did not take by then: the pass


# -- endpoints ------------------------------------------------------------------------------------


def _require_owner(user: User) -> None:
    if user.role != Role.OWNER:
        raise ServiceError("Only owners may manage webhooks.", 403)


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def check_url(url: str) -> str:
    """An endpoint URL Oneway may call: https (http only where private addresses are allowed), a
    host name, and, unless WEBHOOK_ALLOW_PRIVATE, no private, loopback or link-local address."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 (a bad port raises here)
    except ValueError:
        raise ServiceError("Enter the endpoint's full URL, https://...") from None
    allow_private = current_app.config["WEBHOOK_ALLOW_PRIVATE"]
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes or not host or len(url) > 2000 or parts.username or parts.password:
        raise ServiceError("Enter the endpoint's full URL, https://... (no user or password in it).")
    if not allow_private:
        refuse_private(host, parts.port or 443)
    return url


def refuse_private(host: str, port: int) -> None:
    """Refuse a host that is, or resolves to, anything but a public address (SSRF)."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise ServiceError(f"The endpoint's host {host} could not be found.") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address.is_global:
            raise ServiceError("Webhooks may not be sent to private, loopback or link-local addresses.")


def parse_events(raw) -> str:
    chosen = {
        str(e).strip() for e in (raw.split(",") if isinstance(raw, str) else raw or []) if str(e).strip()
    }
    unknown = chosen - EVENT_TYPES.keys()
    if unknown:
        raise ServiceError(f"Unknown event type(s): {', '.join(sorted(unknown))}.")
    if not chosen:
        raise ServiceError("Choose at least one event type.")
    return ",".join(e for e in EVENT_TYPES if e in chosen)


def create_endpoint(user: User, url: str, events, description: str = "") -> WebhookEndpoint:
    _require_owner(user)
    endpoint = WebhookEndpoint(
        org_id=user.org_id,
        created_by_id=user.id,
        url=check_url(url),
        event_types=parse_events(events),
        description=(description or "").strip()[:200],
        secret=new_secret(),
    )
    db.session.add(endpoint)
    db.session.commit()
    return endpoint


def endpoints_of(user: User) -> list[WebhookEndpoint]:
    _require_owner(user)
    return list(
        db.session.execute(
            sa.select(WebhookEndpoint)
            .where(WebhookEndpoint.org_id == user.org_id)
            .order_by(WebhookEndpoint.created_at.desc())
        ).scalars()
    )


def get_endpoint(user: User, public_id: str) -> WebhookEndpoint:
    _require_owner(user)
    endpoint = db.session.execute(
        sa.select(WebhookEndpoint).where(
            WebhookEndpoint.public_id == public_id, WebhookEndpoint.org_id == user.org_id
        )
    ).scalar_one_or_none()
    if endpoint is None:
        raise ServiceError("Webhook endpoint not found.", 404)
    return endpoint


def rotate_secret(user: User, public_id: str) -> WebhookEndpoint:
    """A new secret; the old one also signs for ROTATION_GRACE, so the receiver can switch."""
    endpoint = get_endpoint(user, public_id)
    endpoint.previous_secret, endpoint.previous_secret_until = endpoint.secret, utcnow() + ROTATION_GRACE
    endpoint.secret = new_secret()
    db.session.commit()
    return endpoint


def set_active(user: User, public_id: str, active: bool) -> WebhookEndpoint:
    """Disable, or enable again (its failures forgotten)."""
    endpoint = get_endpoint(user, public_id)
    endpoint.active = active
    endpoint.disabled_reason = None if active else f"Disabled by {user.name}."
    endpoint.failing_since = None
    db.session.commit()
    return endpoint


def messages_of(endpoint: WebhookEndpoint, limit: int = 100) -> list[WebhookMessage]:
    """The endpoint's delivery log, newest first."""
    return list(
        db.session.execute(
            sa.select(WebhookMessage)
            .where(WebhookMessage.endpoint_id == endpoint.id)
            .order_by(WebhookMessage.id.desc())
            .limit(limit)
        ).scalars()
    )


def last_attempts(messages: list[WebhookMessage]) -> dict[int, WebhookAttempt]:
    ids = [m.id for m in messages]
    if not ids:
        return {}
    latest = (
        sa.select(sa.func.max(WebhookAttempt.id))
        .where(WebhookAttempt.message_id.in_(ids))
        .group_by(WebhookAttempt.message_id)
    )
    return {
        a.message_id: a
        for a in db.session.execute(sa.select(WebhookAttempt).where(WebhookAttempt.id.in_(latest))).scalars()
    }


def redeliver(user: User, endpoint_public_id: str, message_public_id: str) -> WebhookMessage:
    """Send a message again now, whatever became of it (same webhook-id)."""
    endpoint = get_endpoint(user, endpoint_public_id)
    message = db.session.execute(
        sa.select(WebhookMessage).where(
            WebhookMessage.public_id == message_public_id, WebhookMessage.endpoint_id == endpoint.id
        )
    ).scalar_one_or_none()
    if message is None:
        raise ServiceError("Webhook message not found.", 404)
    if message.status == "sending":
        raise ServiceError("This message is being sent right now.", 409)
    message.status, message.next_attempt_at, message.last_error = "pending", utcnow(), None
    db.session.commit()
    dispatch([message.id])
    return message


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


@event.listens_for(Session, "after_flush")
def _remember(session, _context) -> None:
    ids = [o.id for o in session.new if isinstance(o, WebhookMessage)]
    if ids:
        session.info.setdefault("webhook_ids", []).extend(ids)


@event.listens_for(Session, "after_commit")
def _deliver_committed(session) -> None:
    ids = session.info.pop("webhook_ids", None)
    if ids and has_app_context():
        dispatch(ids)


@event.listens_for(Session, "after_rollback")
def _forget(session) -> None:
    session.info.pop("webhook_ids", None)


def dispatch(ids: list[int]) -> None:
    """A delivery job per message; with Redis away, the webhook pass sends them later."""
    from redis.exceptions import RedisError
    from rq import Queue

    from app.queue import WEBHOOK_QUEUE, redis_conn

    try:
        q = Queue(WEBHOOK_QUEUE, connection=redis_conn())
        q.enqueue_many(
            [
                Queue.prepare_data(
                    "jobs.webhooks.deliver",
                    (i,),
                    timeout=120,
                    result_ttl=600,
                    failure_ttl=24 * 3600,
                    job_id=f"webhook-{i}-{secrets.token_hex(4)}",
                )
                for i in ids
            ]
        )
    except RedisError:
        log.warning("could not queue %d webhook message(s) now; the webhook pass sends them", len(ids))
