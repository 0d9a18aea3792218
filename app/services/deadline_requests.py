"""A candidate's request for a later deadline: up to MAX_DAYS more days, with an optional reason,
granted at once up to the interview's auto_extension_days (once per candidate), otherwise answered
by an owner or recruiter. A granted request moves the deadline (reminders follow it) and is
e-mailed to the candidate. Reasons are seen by owners and recruiters only."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import lazy_gettext as _l

from app import mail
from app.extensions import db
from app.models import Candidate, Interview, MailKind, User, utcnow
from app.services import ServiceError, audit, mail_content, outbox, outreach
from app.states import UNFINISHED

MAX_DAYS = 14
REQUESTED, GRANTED, DECLINED = "requested", "granted", "declined"


def ask(candidate: Candidate, days: str, note: str) -> str:
    """The candidate asks for `days` more days; returns where the request stands now."""
    try:
        wanted = int(str(days).strip())
    except ValueError:
        wanted = 0
    if not 1 <= wanted <= MAX_DAYS:
        raise ServiceError(_l("Choose how many more days you need, from 1 to %(max)s.", max=MAX_DAYS))
    if candidate.status not in UNFINISHED:
        raise ServiceError(_l("You have already finished this interview."), 409)
    if candidate.deadline_request_status == REQUESTED:
        raise ServiceError(_l("You have already asked; the company has not answered yet."), 409)
    first = candidate.deadline_request_status is None
    automatic = first and wanted <= candidate.interview.auto_extension_days
    candidate.deadline_request_days = wanted
    candidate.deadline_request_note = (note or "").strip()[:2000] or None
    candidate.deadline_request_status = REQUESTED
    if automatic:
        _grant(candidate)
    db.session.commit()
    return candidate.deadline_request_status


def _grant(candidate: Candidate) -> None:
    start = max(candidate.expires_at, utcnow())
    candidate.expires_at = start + timedelta(days=candidate.deadline_request_days)
    candidate.deadline_request_status = GRANTED
    if mail.configured():
        words = mail_content.extension(candidate, mail_content.candidate_link(outbox.TOKEN_SLOT))
        outreach.to_candidate(candidate, MailKind.EXTENSION, words)


def pending(user: User, interview: Interview) -> list[Candidate]:
    """Requests waiting for an answer, oldest first: owners and recruiters only (none for others)."""
    if not user.can_author:
        return []
    return list(db.session.execute(
        db.select(Candidate).filter(Candidate.interview_id == interview.id,
                                    Candidate.deadline_request_status == REQUESTED)
        .order_by(Candidate.updated_at)).scalars())


def decide(user: User, candidate: Candidate, grant: bool) -> None:
    """Grant (the deadline moves by the days asked, from now if it has passed) or decline."""
    outreach.require_author(user)
    if candidate.deadline_request_status != REQUESTED:
        raise ServiceError("This candidate has no request for a later deadline waiting.", 409)
    if grant:
        _grant(candidate)
    else:
        candidate.deadline_request_status = DECLINED
    audit.record("candidate.deadline_request_decided", candidate, actor=user,
                 decision="granted" if grant else "declined", days=candidate.deadline_request_days)
    db.session.commit()
