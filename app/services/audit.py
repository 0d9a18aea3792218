"""The audit log: who did what to an organisation's team and its candidates' data, and when.

Service functions call record() inside their own transaction, before they commit: an event is
committed with the change it describes, and a change rolled back (or refused) leaves none. An actor is
a member, whose name at the time is kept should they be removed later, or, with no member, the
operator's command line (OPERATOR) or the automatic retention pass (RETENTION). A subject is named by
its kind and public id; a candidate never by name or email, so an erased candidate leaves nothing
here that identifies them (the owners' page looks a candidate's name up only while it still exists).
Events older than AUDIT_RETENTION_DAYS go with the retention pass (app.services.retention).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.models import ApiKey, AuditEvent, Candidate, Interview, Role, ShareLink, TeamInvite, User, utcnow
from app.services import ServiceError

log = logging.getLogger(__name__)

OPERATOR = "Operator (command line)"
RETENTION = "Automatic retention"
CANDIDATE = "The candidate, through their own link"
SYSTEM_WEBHOOKS = "Webhooks (automatic)"
PER_PAGE = 50

# What each action code says on the owners' page; {fields} come from the event's detail.
ACTIONS = {
    "member.invited": "Invited a colleague to join as {role}",
    "invite.revoked": "Revoked an invite to join the team",
    "member.joined": "Joined the team as {role} with an invite link",
    "member.role_changed": "Changed a member's role from {old} to {new}",
    "member.removed": "Removed a member from the team",
    "member.restored": "Restored a removed member as {role}",
    "reviewer.assigned": "Assigned {reviewer} to review the interview",
    "reviewer.unassigned": "Ended {reviewer}'s assignment to the interview",
    "reviewer.scope_changed": "Let a reviewer see {scope}",
    "password.reset_link_made": "Made a password reset link for a member",
    "password.reset_used": "Set a new password with a reset link",
    "password.changed": "Changed their own password",
    "share_link.created": "Created a share link ({permission}, {count} candidate(s), {days} day(s))",
    "share_link.revoked": "Revoked a share link",
    "candidate.exported": "Downloaded a candidate's whole review (ZIP)",
    "answer.retried": "Sent a candidate's answer to question {question} through processing again",
    "candidate.erased": "Deleted everything about a candidate on request ({answers} answer(s))",
    "candidate.purged": "Deleted everything about a candidate past its deletion date ({answers} answer(s))",
    "interview.created": "Created the interview, keeping recordings {retention_days} days",
    "interview.review_mode_changed": "Changed what reviewers see: names {names}, {media}",
    "interview.scores_exported": "Downloaded every score of the interview (CSV)",
    "interview.edited": "Changed the interview: {change}",
    "interview.copied": "Created the interview as a copy of {source}, without candidates",
    "interview.status_changed": "Changed the interview's status to {status}",
    "interview.invitation_changed": "Changed the invitation e-mail's text",
    "interview.deadlines_extended": "Moved {count} candidate(s)' deadline to {until}",
    "candidates.bulk_invited": "Invited {count} candidate(s) at once ({emailed} e-mailed)",
    "candidate.deadline_request_decided": "Answered a candidate's request for {days} more day(s): {decision}",
    "candidate.link_resent": "Made a new link for a candidate (old one stopped working; e-mailed: {emailed})",
    "candidate.purged_on_request": "Deleted everything about a candidate at the end of the countdown they "
                                   "started ({answers} answer(s))",
    "candidate.deletion_requested": "Asked for everything about them to be deleted on {due}",
    "candidate.deletion_cancelled": "Cancelled their request for deletion",
    "candidate.withdrew": "Withdrew from the process",
    "candidate.rereview_requested": "Asked for a person to review the rejection again",
    "candidate.downloaded_own_data": "Downloaded their own data (ZIP)",
    "fairness.report_exported": "Downloaded the adverse-impact report (CSV)",
    "fairness.settings_changed": "Changed the fairness settings (deletion countdown {days} day(s))",
    "api_key.created": "Created the API key “{name}” ({scopes})",
    "api_key.revoked": "Revoked the API key “{name}”",
    "api.called": "Called the API: {method} {path} ({status})",
    "candidate.deadline_moved": "Moved a candidate's deadline from {old} to {new} (UTC)",
    "webhook.disabled": "Disabled the webhook endpoint {url}: every delivery failed for {days} days",
    "interview.ai_changed": "Changed AI assistance: evaluation {evaluation}, shown {shown}",
    "ai.drafted": "Asked the AI to draft {what}",
    "ai.draft_accepted": "Accepted an AI-drafted {what}{edited}",
    "ai.reevaluated": "Asked for a new AI evaluation of the answer to question {question}",
    "ai.evaluation_flagged": "Flagged the AI evaluation of the answer to question {question} as wrong",
}

_KINDS = {User: "member", TeamInvite: "invite", Candidate: "candidate", ShareLink: "share_link",
          Interview: "interview"}


def record(action: str, subject, *, actor: User | None = None, label: str = "", org_id: int | None = None,
           **detail) -> AuditEvent:
    """Add an event to the open transaction, for the caller's commit to write with its change.

    subject: a member, invite, candidate, share link or interview, or a (kind, public id) pair for
    one being deleted. The actor's label is their name unless given; with no actor (the operator,
    the system) a label and org_id are required. detail: a few plain values, never a candidate's
    name or email."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if actor is None and not (label and org_id):
        raise ValueError("an event with no acting member needs a label and an organisation")
    if isinstance(subject, tuple):
        kind, public_id = subject
    else:
        kind = _KINDS[type(subject)]
        if subject.public_id is None:  # a new row gets its public id when flushed
            db.session.flush()
        public_id = subject.public_id
    event = AuditEvent(org_id=org_id if org_id is not None else actor.org_id,
                       actor_id=actor.id if actor else None, actor_label=(label or actor.name)[:200],
                       action=action, subject_kind=kind, subject_id=public_id, detail=detail or None,
                       created_at=utcnow())
    db.session.add(event)
    return event


@dataclass(frozen=True)
class Row:
    """One event as the owners' page shows it."""

    when: datetime
    who: str
    what: str
    action: str
    kind: str
    public_id: str
    subject: str  # the subject's name or title while it exists, else ""


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    page: int
    pages: int
    total: int


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "?"


def describe(event: AuditEvent) -> str:
    """The action as a sentence: "Changed a member's role from reviewer to recruiter"."""
    return ACTIONS.get(event.action, event.action).format_map(_Blank(event.detail or {}))


def events_page(user: User, page: str | int = 1) -> Page:
    """One page of the user's organisation's events, newest first; owners only. A page past the
    last shows the last; text that is not a whole number is refused (400)."""
    if user.role != Role.OWNER:
        raise ServiceError("Only owners may read the audit log.", 403)
    try:
        number = int(str(page).strip() or "1")
    except ValueError:
        raise ServiceError("The page number must be a whole number.")
    mine = AuditEvent.org_id == user.org_id
    total = db.session.execute(sa.select(sa.func.count(AuditEvent.id)).where(mine)).scalar_one()
    pages = max(1, -(-total // PER_PAGE))
    number = min(max(1, number), pages)
    events = list(db.session.execute(
        sa.select(AuditEvent).where(mine).order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(PER_PAGE).offset((number - 1) * PER_PAGE)).scalars())
    names = _subject_names(user.org_id, events)
    rows = [Row(e.created_at.astimezone(UTC), e.actor_label, describe(e), e.action, e.subject_kind,
                e.subject_id, names.get((e.subject_kind, e.subject_id), "")) for e in events]
    return Page(rows, number, pages, total)


# Each kind's name for the page, looked up in the organisation only: (model, column shown).
_NAMES = {"member": (User, User.name), "invite": (TeamInvite, TeamInvite.email),
          "candidate": (Candidate, Candidate.name), "share_link": (ShareLink, ShareLink.label),
          "interview": (Interview, Interview.title), "api_key": (ApiKey, ApiKey.name)}


def _subject_names(org_id: int, events: list[AuditEvent]) -> dict[tuple[str, str], str]:
    """The current names of the page's subjects that still exist, one query per kind."""
    found = {}
    for kind, (model, column) in _NAMES.items():
        ids = sorted({e.subject_id for e in events if e.subject_kind == kind})
        if not ids:
            continue
        rows = db.session.execute(sa.select(model.public_id, column).where(
            model.public_id.in_(ids), model.org_id == org_id))
        found.update({(kind, public_id): name or "(no label)" for public_id, name in rows})
    return found


def expire(now: datetime) -> int:
    """Delete every organisation's events older than AUDIT_RETENTION_DAYS before `now` (0 keeps them
    for ever) and commit; returns how many went."""
    days = current_app.config["AUDIT_RETENTION_DAYS"]
    if days <= 0:
        return 0
    gone = db.session.execute(sa.delete(AuditEvent).where(AuditEvent.created_at < now - timedelta(days=days)),
                              execution_options={"synchronize_session": False}).rowcount
    db.session.commit()
    if gone:
        log.info("audit: deleted %d event(s) older than %d days", gone, days)
    return gone
