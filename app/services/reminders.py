"""Reminders before each candidate's current deadline (the interview's schedule, 48 h and 24 h by
default), added by the workers' outreach pass (jobs.worker.outreach_pass) with a clock it is given.

A reminder's slot is keyed to the deadline it reminds of, so an extension makes new slots and the
old ones never fall due; the key is unique in the outbox, so each slot is sent at most once however
many workers run the pass. Only candidates whose invitation was e-mailed and who have not finished
are reminded, never after their deadline; erased candidates are gone, and with them their slots.
When several slots are due at once (the workers were down), only the nearest to the deadline goes.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app import mail
from app.extensions import db
from app.models import Candidate, Interview, MailKind, OutboxMessage
from app.services import ServiceError, mail_content, outbox, outreach
from app.states import UNFINISHED

log = logging.getLogger(__name__)
LONGEST = timedelta(hours=24 * 60)  # outreach.parse_hours' upper bound


def slot_key(candidate: Candidate, hours: int) -> str:
    return f"reminder:{candidate.id}:{hours}:{int(candidate.expires_at.timestamp())}"


def due_slot(candidate: Candidate, hours: list[int], now: datetime) -> int | None:
    """The reminder (hours before the deadline) due now for this candidate, if any: its time has come,
    the deadline has not, and it came after the invitation (a 2-day deadline gets no 48-hour one)."""
    if candidate.expires_at <= now:
        return None
    due = [h for h in hours
           if candidate.created_at <= candidate.expires_at - timedelta(hours=h) <= now]
    return min(due) if due else None


def link_for(candidate: Candidate) -> str:
    """The candidate's link (its token a slot): under BASE_URL, else at the address their invitation
    used (a worker has no request to take it from)."""
    try:
        return mail_content.candidate_link(outbox.TOKEN_SLOT)
    except ServiceError:
        body = db.session.execute(
            sa.select(OutboxMessage.body_text).where(
                OutboxMessage.candidate_id == candidate.id,
                OutboxMessage.kind.in_((MailKind.INVITATION, MailKind.RESEND)))
            .order_by(OutboxMessage.id.desc()).limit(1)).scalar_one_or_none() or ""
        found = re.search(r"(\S+/i/)" + re.escape(outbox.TOKEN_SLOT), body)
        if not found:
            raise
        return found.group(1) + outbox.TOKEN_SLOT


def add_due(now: datetime) -> int:
    """Write every reminder due at `now` into the outbox; returns how many."""
    if not mail.configured():
        return 0
    candidates = db.session.execute(
        sa.select(Candidate).join(Interview, Interview.id == Candidate.interview_id)
        .where(Candidate.status.in_(UNFINISHED), Candidate.mail_status == "emailed",
               Candidate.withdrawn_at.is_(None), Candidate.deletion_requested_at.is_(None),
               Candidate.expires_at > now, Candidate.expires_at <= now + LONGEST,
               Interview.reminder_hours != "")).scalars().all()
    wanted = {}
    for candidate in candidates:
        hours = due_slot(candidate, outreach.reminder_hours(candidate.interview), now)
        if hours is not None:
            wanted[slot_key(candidate, hours)] = candidate
    if not wanted:
        return 0
    sent = set(db.session.execute(sa.select(OutboxMessage.dedupe_key)
                                  .where(OutboxMessage.dedupe_key.in_(list(wanted)))).scalars())
    added = 0
    for key, candidate in wanted.items():
        if key in sent:
            continue
        try:
            link = link_for(candidate)
        except ServiceError:
            log.warning("reminder for candidate %s skipped: set BASE_URL for links", candidate.public_id)
            continue
        words = mail_content.reminder(candidate, link)
        outreach.to_candidate(candidate, MailKind.REMINDER, words, dedupe_key=key)
        added += 1
    try:
        db.session.commit()
    except IntegrityError:  # another worker's pass added the same slots first: theirs stand
        db.session.rollback()
        return 0
    if added:
        log.info("reminders: %d added", added)
    return added
