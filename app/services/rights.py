"""What a candidate does themselves on their data page: withdraw, ask for deletion (and cancel it),
ask a person to look again at a rejection; and what owners see of those requests.

A deletion request sets the date it falls due (the organisation's countdown, at most 30 days); the
retention pass (app.services.retention.due_candidates) erases the candidate then, as completely as an
owner's button, which an owner may press at once. Every request is in the audit log, by the candidate
(audit.CANDIDATE), never by name."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app import mail
from app.extensions import db
from app.models import Candidate, Decision, DecisionValue, MailKind, ReReviewRequest, Role, User, utcnow
from app.services import ServiceError, access, audit, mail_content, outbox, outreach

MAX_REASON = 2000


def _record(action: str, candidate: Candidate, **detail) -> None:
    audit.record(action, candidate, label=audit.CANDIDATE, org_id=candidate.org_id, **detail)


def days_left(candidate: Candidate, now: datetime | None = None) -> int:
    """Whole days (rounded up) until the requested deletion; 0 once due."""
    if candidate.deletion_due_at is None:
        return 0
    seconds = (candidate.deletion_due_at - (now or utcnow())).total_seconds()
    return max(0, math.ceil(seconds / 86400))


def record_download(candidate: Candidate) -> None:
    """The candidate's own download, in the audit log before it starts."""
    _record("candidate.downloaded_own_data", candidate)
    db.session.commit()


def request_deletion(candidate: Candidate, confirmed: bool, now: datetime | None = None) -> datetime:
    """Start the countdown to erasure; returns the date it falls due."""
    if not confirmed:
        raise ServiceError(_l("Tick the box to confirm that everything is to be deleted."), 400)
    if candidate.deletion_due_at is not None:
        return candidate.deletion_due_at
    now = now or utcnow()
    days = candidate.interview.organisation.deletion_countdown_days
    candidate.deletion_requested_at, candidate.deletion_due_at = now, now + timedelta(days=days)
    _record("candidate.deletion_requested", candidate, due=candidate.deletion_due_at.date().isoformat())
    _email(candidate, MailKind.DELETION, mail_content.deletion_requested,
           f"deletion:{candidate.id}:{now.isoformat()}")
    db.session.commit()
    return candidate.deletion_due_at


def _email(candidate: Candidate, kind: str, content, key: str) -> None:
    """In the open transaction: an e-mail to the candidate carrying their data page's link (written
    with the outbox's token slot, so no working link is stored), where e-mail is set up."""
    if not mail.configured():
        return
    try:
        link = mail_content.candidate_link(outbox.TOKEN_SLOT) + "/data"
    except ServiceError:  # no BASE_URL outside a request: the page still shows it
        log.warning("no e-mail to candidate %s: set BASE_URL so that e-mails can carry links", candidate.id)
        return
    outreach.to_candidate(candidate, kind, content(candidate, link), dedupe_key=key)


def tell_of_rejection(candidate: Candidate, decision: Decision) -> None:
    """A rejection that carries a message for the candidate is e-mailed to them too."""
    def content(c: Candidate, link: str):
        return mail_content.decision(c, decision.candidate_message, link)

    _email(candidate, MailKind.DECISION, content, f"decision:{decision.id}")


def cancel_deletion(candidate: Candidate) -> None:
    """Stop the countdown (the candidate changed their mind before the date)."""
    if candidate.deletion_due_at is None:
        raise ServiceError(_l("There is no request for deletion to cancel."), 409)
    candidate.deletion_requested_at = candidate.deletion_due_at = None
    _record("candidate.deletion_cancelled", candidate)
    db.session.commit()


def withdraw(candidate: Candidate, confirmed: bool) -> None:
    """Leave the process; the data stays until its date (or a deletion request)."""
    if not confirmed:
        raise ServiceError(_l("Tick the box to confirm that you withdraw."), 400)
    if candidate.withdrawn_at is None:
        candidate.withdrawn_at = utcnow()
        _record("candidate.withdrew", candidate)
        db.session.commit()


def latest_decision(candidate: Candidate) -> Decision | None:
    return db.session.execute(sa.select(Decision).filter_by(candidate_id=candidate.id)
                              .order_by(Decision.id.desc()).limit(1)).scalar_one_or_none()


def notice_of_decision(candidate: Candidate) -> Decision | None:
    """The rejection the candidate was told of (a message was written for them), else None."""
    d = latest_decision(candidate)
    return d if d is not None and d.value == DecisionValue.REJECT and d.candidate_message else None


def open_rereview(candidate: Candidate) -> ReReviewRequest | None:
    return db.session.execute(sa.select(ReReviewRequest).filter_by(candidate_id=candidate.id, handled_at=None)
                              ).scalar_one_or_none()


def ask_rereview(candidate: Candidate, reason: str) -> ReReviewRequest:
    """Ask that a person looks at the application again, after a rejection they were told of."""
    if notice_of_decision(candidate) is None:
        raise ServiceError(_l("A new review can be asked for once you have been told of a decision."), 409)
    if open_rereview(candidate) is not None:
        raise ServiceError(_l("You have asked already; the company has not answered yet."), 409)
    req = ReReviewRequest(candidate_id=candidate.id, reason=(reason or "").strip()[:MAX_REASON])
    db.session.add(req)
    _record("candidate.rereview_requested", candidate)
    db.session.commit()
    return req


def handle_rereview(user: User, public_id: str) -> None:
    """An owner or recruiter marks the candidate's request as dealt with (after a new decision)."""
    candidate = access.get_candidate(user, public_id)
    if not user.can_author:
        raise ServiceError("Only owners and recruiters answer requests for a new review.", 403)
    req = open_rereview(candidate)
    if req is None:
        raise ServiceError("There is no open request for a new review.", 409)
    req.handled_at = utcnow()
    db.session.commit()

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pending:
    """A candidate's open request, for the staff's list."""

    candidate: Candidate
    kind: str  # "deletion" or "rereview"
    since: datetime
    due: datetime | None
    reason: str = ""


def pending(user: User) -> list[Pending]:
    """Open requests this member acts on: deletions for owners, new reviews for owners and recruiters."""
    out: list[Pending] = []
    visible = sa.select(Candidate.id).join(Candidate.interview).where(access.interview_visible(user))
    if user.role == Role.OWNER:
        rows = db.session.execute(sa.select(Candidate).where(Candidate.id.in_(visible),
                                                             Candidate.deletion_due_at.is_not(None))).scalars()
        out += [Pending(c, "deletion", c.deletion_requested_at, c.deletion_due_at) for c in rows]
    if user.can_author:
        rows = db.session.execute(sa.select(ReReviewRequest, Candidate).join(Candidate).where(
            Candidate.id.in_(visible), ReReviewRequest.handled_at.is_(None))).all()
        out += [Pending(c, "rereview", r.created_at, None, r.reason) for r, c in rows]
    return sorted(out, key=lambda p: p.since)
