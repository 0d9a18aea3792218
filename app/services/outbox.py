"""The outbox: an e-mail is a row written in the transaction of the change that causes it; once that
transaction commits, a job (jobs.mail) sends it, and a rolled-back change sends nothing.

Sending is recorded before and after: a worker claims a row (queued -> sending, committed) before it
talks to the SMTP server, and marks it sent once the server accepted it. A transient refusal puts it
back in the queue with a later time (MAIL_RETRY_SECONDS); a permanent one (5xx) fails it with the
server's words. A worker that died mid-send leaves a claim that goes stale (MAIL_STALE_SECONDS): the
message is then sent again with the same Message-ID, so a copy that did arrive is recognisably the
same message. The workers' outreach pass (tick) sends what is due and recovers stale claims.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from app import mail
from app.extensions import db
from app.models import Candidate, MailKind, OutboxMessage, new_public_id, utcnow
from app.security import invite_token
from app.services import after_commit
from app.states import MAIL, UNFINISHED, MailStatus

log = logging.getLogger(__name__)
BATCH = 50  # messages per job: one SMTP connection each
# The candidate's token in a stored body: the real one is derived when the message is sent
# (app.security.invite_token), so the database never holds a working link.
TOKEN_SLOT = "%%ONEWAY_TOKEN%%"
# A fresh row the job after commit did not send by then is sent by the outreach pass.
FIRST_TRY_GRACE = timedelta(seconds=30)


def add(*, org_id: int, kind: str, to_addr: str, subject: str, body_text: str, body_html: str,
        to_name: str = "", reply_to: str | None = None, locale: str = "en", interview_id: int | None = None,
        candidate_id: int | None = None, user_id: int | None = None,
        dedupe_key: str | None = None, link_ref: str | None = None) -> OutboxMessage:
    """Write one message into the open transaction; it is sent once that transaction commits."""
    row = OutboxMessage(**values(
        org_id=org_id, kind=kind, to_addr=to_addr, to_name=to_name, reply_to=reply_to, locale=locale,
        subject=subject, body_text=body_text, body_html=body_html, interview_id=interview_id,
        candidate_id=candidate_id, user_id=user_id, dedupe_key=dedupe_key, link_ref=link_ref))
    db.session.add(row)
    return row


def values(**fields) -> dict:
    """A new row's columns: its ids, the header values made safe, queued."""
    public_id, now = new_public_id(), utcnow()
    return {**fields, "public_id": public_id, "message_id": mail.message_id(public_id),
            "to_name": mail.one_line(fields.get("to_name")), "reply_to": fields.get("reply_to") or None,
            "subject": mail.one_line(fields["subject"], 300), "status": MailStatus.QUEUED,
            "attempts": 0, "next_attempt_at": now + FIRST_TRY_GRACE, "created_at": now, "updated_at": now}


def add_many(rows: list[dict]) -> None:
    """Write many messages (each made by values()) in one statement, into the open transaction; like
    add(), they are sent once it commits."""
    if not rows:
        return
    ids = db.session.execute(sa.insert(OutboxMessage).returning(OutboxMessage.id), rows).scalars().all()
    after_commit.remember(db.session, OutboxMessage, ids)


# -- after commit: send ---------------------------------------------------------------------------

def dispatch(ids: list[int]) -> None:
    """Queue jobs that send these rows, BATCH a job. Redis away: the outreach pass sends them later."""
    from app.queue import MAIL_QUEUE, enqueue_batch

    batches = [ids[i:i + BATCH] for i in range(0, len(ids), BATCH)]
    jobs = [(f"mail-{batch[0]}-{uuid.uuid4().hex[:8]}", (batch,)) for batch in batches]
    if not enqueue_batch("jobs.mail.send", jobs, queue=MAIL_QUEUE, timeout=600, failure_ttl=7 * 24 * 3600):
        log.warning("could not queue %d e-mails now; the outreach pass sends them", len(ids))


after_commit.dispatch_after_commit(OutboxMessage, dispatch)


# -- the job's steps ------------------------------------------------------------------------------

def claim(message_id: int) -> OutboxMessage | None:
    """Take a queued row for sending (one conditional UPDATE, committed): of two workers, one wins."""
    MAIL.check_move(MailStatus.QUEUED, MailStatus.SENDING)
    won = db.session.execute(
        sa.update(OutboxMessage).where(OutboxMessage.id == message_id,
                                       OutboxMessage.status == MailStatus.QUEUED)
        .values(status=MailStatus.SENDING, sending_at=utcnow(), attempts=OutboxMessage.attempts + 1),
        execution_options={"synchronize_session": False}).rowcount
    db.session.commit()
    return db.session.get(OutboxMessage, message_id) if won else None


def over_rate(org_id: int) -> bool:
    """Whether this organisation has used up this minute's sends (MAIL_RATE_PER_MINUTE)."""
    from app.queue import redis_conn

    limit = current_app.config["MAIL_RATE_PER_MINUTE"]
    if limit <= 0:
        return False
    key = f"oneway:mail-rate:{org_id}:{int(time.time() // 60)}"
    conn = redis_conn()
    used = conn.incr(key)
    if used == 1:
        conn.expire(key, 120)
    return used > limit


def release(row: OutboxMessage, until: datetime, reason: str | None = None, count: bool = True) -> None:
    """Back to the queue until `until` (a transient refusal, or the rate limit: count=False)."""
    _move(row, MailStatus.QUEUED)
    row.next_attempt_at, row.sending_at = until, None
    if reason:
        row.last_error = reason
    if not count:
        row.attempts = max(0, row.attempts - 1)
    db.session.commit()


def retry_or_fail(row: OutboxMessage, reason: str) -> None:
    """After a transient failure: again later, or failed once MAIL_MAX_ATTEMPTS are spent."""
    cfg = current_app.config
    if row.attempts >= cfg["MAIL_MAX_ATTEMPTS"]:
        fail(row, f"Gave up after {row.attempts} attempts. Last: {reason}")
        return
    delays = [int(x) for x in str(cfg["MAIL_RETRY_SECONDS"]).split(",") if x.strip()] or [60]
    wait = delays[min(row.attempts - 1, len(delays) - 1)]
    release(row, utcnow() + timedelta(seconds=wait), reason)


def fail(row: OutboxMessage, reason: str) -> None:
    """Failed for good, with the reason the owner reads."""
    _move(row, MailStatus.FAILED)
    row.failed_at, row.last_error = utcnow(), reason
    _mark_candidate(row, "bounced")
    db.session.commit()


def sent(row: OutboxMessage) -> None:
    """The server accepted it."""
    _move(row, MailStatus.SENT)
    row.sent_at, row.last_error = utcnow(), None
    _mark_candidate(row, "emailed")
    db.session.commit()


def cancel(row: OutboxMessage, reason: str) -> None:
    """Never to be sent (the caller commits)."""
    _move(row, MailStatus.CANCELLED)
    row.failed_at, row.last_error = utcnow(), reason


def pointless(row: OutboxMessage) -> str | None:
    """Why a claimed message should no longer go, if it should not: a reminder or a moved deadline for
    a candidate who finished, or whose deadline passed meanwhile (the SMTP server was away)."""
    if row.kind not in (MailKind.REMINDER, MailKind.EXTENSION):
        return None
    candidate = db.session.get(Candidate, row.candidate_id) if row.candidate_id else None
    if candidate is None:
        return "The candidate's data was deleted."
    if candidate.status not in UNFINISHED:
        return "The candidate finished before it went out."
    if candidate.withdrawn_at is not None or candidate.deletion_requested_at is not None:
        return "The candidate withdrew, or asked for their data to be deleted, before it went out."
    if candidate.expires_at <= utcnow():
        return "The deadline passed before it could go out."
    return None


def _move(row: OutboxMessage, new: MailStatus) -> None:
    MAIL.check_move(row.status, new)
    row.status = new


def _mark_candidate(row: OutboxMessage, state: str) -> None:
    if row.kind in (MailKind.INVITATION, MailKind.RESEND) and row.candidate_id:
        db.session.execute(sa.update(Candidate).where(Candidate.id == row.candidate_id)
                           .values(mail_status=state), execution_options={"synchronize_session": False})


def with_link(row: OutboxMessage, text: str) -> str | None:
    """`text` with the candidate's current token in place of TOKEN_SLOT; None if the link cannot be
    made (the candidate is gone, or the app's secret key changed since the link was made)."""
    if TOKEN_SLOT not in text:
        return text
    if row.link_ref:
        kind, _, public_id = row.link_ref.partition(":")
        return _with_secret_link(kind, public_id, text)
    candidate = db.session.get(Candidate, row.candidate_id) if row.candidate_id else None
    if candidate is None:
        return None
    from app.security import hash_token

    token = invite_token(current_app.config["SECRET_KEY"], candidate.public_id, candidate.token_version)
    if hash_token(token) != candidate.token_hash:
        return None
    return text.replace(TOKEN_SLOT, token)


def _with_secret_link(kind: str, public_id: str, text: str) -> str | None:
    """`text` with a team invite's ("join") or password reset's ("reset") token; None once the link
    is used, revoked or expired."""
    from app.models import PasswordReset, TeamInvite
    from app.security import hash_token, join_token, reset_token

    model, derive, used = {"join": (TeamInvite, join_token, "accepted_at"),
                           "reset": (PasswordReset, reset_token, "used_at")}[kind]
    row = db.session.execute(sa.select(model).filter_by(public_id=public_id)).scalar_one_or_none()
    if row is None or getattr(row, used) or row.revoked_at or row.expires_at <= utcnow():
        return None
    token = derive(current_app.config["SECRET_KEY"], public_id)
    return text.replace(TOKEN_SLOT, token) if hash_token(token) == row.token_hash else None


_SHOWN_LINK = re.compile(re.escape(TOKEN_SLOT))


def shown(text: str) -> str:
    """A stored body as staff may read it: the link's token is never there, and says so."""
    return _SHOWN_LINK.sub("…", text)


# -- the outreach pass ----------------------------------------------------------------------------

def recover_stale(now: datetime) -> int:
    """Claims older than MAIL_STALE_SECONDS belong to workers that died: queue those rows again."""
    MAIL.check_move(MailStatus.SENDING, MailStatus.QUEUED)
    stale = now - timedelta(seconds=current_app.config["MAIL_STALE_SECONDS"])
    n = db.session.execute(
        sa.update(OutboxMessage).where(OutboxMessage.status == MailStatus.SENDING,
                                       OutboxMessage.sending_at < stale)
        .values(status=MailStatus.QUEUED, sending_at=None, next_attempt_at=now,
                last_error="The worker sending it stopped; sent again with the same Message-ID."),
        execution_options={"synchronize_session": False}).rowcount
    db.session.commit()
    return n


def send_due(now: datetime, limit: int = 2000) -> int:
    """Queue jobs for the rows whose time has come; each is not picked again for MAIL_STALE_SECONDS."""
    ids = list(db.session.execute(
        sa.select(OutboxMessage.id).where(OutboxMessage.status == MailStatus.QUEUED,
                                          OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit)).scalars())
    if not ids:
        return 0
    again = now + timedelta(seconds=current_app.config["MAIL_STALE_SECONDS"])
    db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.id.in_(ids),
                                                      OutboxMessage.status == MailStatus.QUEUED)
                       .values(next_attempt_at=again), execution_options={"synchronize_session": False})
    db.session.commit()
    dispatch(ids)
    return len(ids)


def for_candidate(candidate: Candidate) -> list[OutboxMessage]:
    """Every message to or about this candidate, newest first."""
    return list(db.session.execute(
        sa.select(OutboxMessage).where(OutboxMessage.candidate_id == candidate.id,
                                       OutboxMessage.user_id.is_(None))
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())).scalars())
