"""Reaching candidates: new candidates with their deadline and link, the invitation e-mail and its
template, resending a new link, moving deadlines, and the messages sent per candidate. Owners and
recruiters only; every e-mail goes through the outbox (app.services.outbox) in the same transaction
as the change that causes it."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app

from app import mail
from app.extensions import db
from app.i18n import valid_time_zone
from app.models import Candidate, Interview, MailKind, OutboxMessage, User, new_public_id, utcnow
from app.security import hash_token, invite_token
from app.services import ServiceError, audit, mail_content, outbox
from app.states import UNFINISHED, CandidateStatus, MailStatus

MAX_DEADLINE_DAYS = 365
MAX_REMINDERS = 4


def require_author(user: User) -> None:
    if not user.can_author:
        raise ServiceError("Only owners and recruiters may invite candidates and e-mail them.", 403)


def check_address(raw: str) -> tuple[str, str]:
    """(address, display name) from "ada@example.com" or "Ada Lovelace <ada@example.com>", checked by
    email-validator (syntax only: no network); a refusal that says what is wrong."""
    raw = (raw or "").strip()
    if len(raw) > 320:
        raise ServiceError("That e-mail address is too long.")
    try:
        found = validate_email(raw, check_deliverability=False, allow_display_name=True)
    except EmailNotValidError as exc:
        raise ServiceError(f"Not a valid e-mail address: {exc}") from None
    return found.normalized.lower(), mail.one_line(found.display_name or "")


# -- new candidates -------------------------------------------------------------------------------

def new_candidate(interview: Interview, name: str, email: str,
                  deadline: datetime | None = None) -> tuple[Candidate, str]:
    """A candidate row in the open transaction, and its invite token (never stored: derived, and
    only its hash kept). The deadline is `deadline`, else the interview's days from now."""
    public_id = new_public_id()
    token = invite_token(current_app.config["SECRET_KEY"], public_id, 0)
    expires = deadline or utcnow() + timedelta(days=interview.deadline_days)
    candidate = Candidate(public_id=public_id, org_id=interview.org_id, interview_id=interview.id,
                          name=name[:200], email=email, token_hash=hash_token(token), expires_at=expires,
                          token_version=0)
    candidate.interview = interview
    db.session.add(candidate)
    return candidate, token


def new_candidates(interview: Interview, people: list[tuple[str, str, datetime]]) -> list[Candidate]:
    """new_candidate() for a list of (name, address, deadline), written in one statement; the rows
    come back as detached Candidates (enough to write their e-mails), not tracked by the session."""
    secret, now = current_app.config["SECRET_KEY"], utcnow()
    values = []
    for name, email, deadline in people:
        public_id = new_public_id()
        values.append({"public_id": public_id, "org_id": interview.org_id, "interview_id": interview.id,
                       "name": name[:200], "email": email, "expires_at": deadline, "token_version": 0,
                       "token_hash": hash_token(invite_token(secret, public_id, 0)),
                       "status": CandidateStatus.INVITED, "created_at": now, "updated_at": now})
    ids = db.session.execute(sa.insert(Candidate).returning(Candidate.id), values).scalars().all()
    made = []
    for row_id, row in zip(ids, values, strict=True):
        candidate = Candidate(id=row_id, **row)
        candidate.interview = interview  # (a many-to-one: this does not add it to the session)
        made.append(candidate)
    return made


def queue_invitation(candidate: Candidate, kind: str = MailKind.INVITATION) -> OutboxMessage:
    """The invitation (or a new link's message) into the outbox, in the open transaction."""
    if not mail.configured():
        raise ServiceError("E-mail is not set up on this server (MAIL_SERVER); copy the link instead.", 409)
    link = mail_content.candidate_link(outbox.TOKEN_SLOT)
    words = mail_content.invitation(candidate, link, new_link=kind == MailKind.RESEND)
    return to_candidate(candidate, kind, words)


def queue_invitations(candidates: list[Candidate]) -> None:
    """queue_invitation() for a list of new candidates, written in one statement."""
    if not mail.configured():
        raise ServiceError("E-mail is not set up on this server (MAIL_SERVER); copy the link instead.", 409)
    link = mail_content.candidate_link(outbox.TOKEN_SLOT)
    rows = []
    for candidate, words in zip(candidates, mail_content.invitations(candidates, link), strict=True):
        rows.append(outbox.values(
            org_id=candidate.org_id, kind=MailKind.INVITATION, to_addr=candidate.email,
            to_name=candidate.name,
            reply_to=candidate.interview.contact_email, subject=words.subject, body_text=words.text,
            body_html=words.html, locale=words.locale, interview_id=candidate.interview_id,
            candidate_id=candidate.id, user_id=None, dedupe_key=None))
    outbox.add_many(rows)


def to_candidate(candidate: Candidate, kind: str, words: mail_content.Content,
                  dedupe_key: str | None = None) -> OutboxMessage:
    interview = candidate.interview
    return outbox.add(org_id=candidate.org_id, kind=kind, to_addr=candidate.email,
            to_name=candidate.name,
                      reply_to=interview.contact_email, subject=words.subject, body_text=words.text,
                      body_html=words.html, locale=words.locale, interview_id=interview.id,
                      candidate_id=candidate.id, dedupe_key=dedupe_key)


# -- the invitation's template and the schedule ---------------------------------------------------

def template_of(interview: Interview) -> tuple[str, str, bool]:
    """(subject, body, is_default): the interview's own, else the default in its candidates' language."""
    if interview.invitation_subject and interview.invitation_body:
        return interview.invitation_subject, interview.invitation_body, False
    from app.i18n import speaking

    with speaking(interview.interface_language):
        return (*mail_content.default_template(), True)


def save_template(user: User, interview: Interview, subject: str, body: str) -> None:
    require_author(user)
    interview.invitation_subject, interview.invitation_body = mail_content.check_template(subject, body)
    audit.record("interview.invitation_changed", interview, actor=user)
    db.session.commit()


def reset_template(user: User, interview: Interview) -> None:
    require_author(user)
    interview.invitation_subject = interview.invitation_body = None
    db.session.commit()


def preview(interview: Interview, subject: str | None = None,
            body: str | None = None) -> mail_content.Content:
    """The invitation as a sample candidate would get it (with `subject`/`body` instead of the saved
    template, checked, when given): nothing is saved or sent."""
    sample = Candidate(name="Ada Lovelace", email="ada@example.com", public_id="preview",
                       expires_at=utcnow() + timedelta(days=interview.deadline_days), token_version=0,
                       created_at=utcnow())
    sample.interview = interview
    template = mail_content.check_template(subject, body) if subject is not None else None
    try:
        return mail_content.invitation(sample, mail_content.candidate_link("EXAMPLE-LINK"), template=template)
    finally:
        if sample in db.session:
            db.session.expunge(sample)


def save_schedule(user: User, interview: Interview, form: dict) -> None:
    """Deadline days for new candidates, reminder hours before each deadline, the time zone, and how
    many days of a later deadline a candidate's request gets at once."""
    require_author(user)
    days = _whole(form, "deadline_days", 1, MAX_DEADLINE_DAYS,
                  f"The deadline is between 1 and {MAX_DEADLINE_DAYS} days after the invitation.")
    auto = _whole(form, "auto_extension_days", 0, 14,
                  "Grant between 0 and 14 days at once (0: you answer every request).")
    interview.reminder_hours = ",".join(str(h) for h in parse_hours(form.get("reminder_hours", "")))
    zone = (form.get("time_zone") or "UTC").strip()
    if zone != "UTC" and not valid_time_zone(zone):
        raise ServiceError("Enter a time zone such as Europe/Paris or America/New_York.")
    interview.deadline_days, interview.time_zone, interview.auto_extension_days = days, zone, auto
    db.session.commit()


def _whole(form: dict, name: str, low: int, high: int, message: str) -> int:
    try:
        value = int(str(form.get(name, "") or low).strip())
    except ValueError:
        raise ServiceError(message) from None
    if not low <= value <= high:
        raise ServiceError(message)
    return value


def parse_hours(text: str) -> list[int]:
    """"48, 24" -> [48, 24]: reminder hours before the deadline, largest first; empty: none."""
    try:
        hours = sorted({int(h) for h in str(text or "").replace(" ", "").split(",") if h}, reverse=True)
    except ValueError:
        raise ServiceError("Reminders are whole numbers of hours before the deadline, e.g. 48, 24.") from None
    if len(hours) > MAX_REMINDERS or any(not 1 <= h <= 24 * 60 for h in hours):
        raise ServiceError(f"At most {MAX_REMINDERS} reminders, each 1 to 1440 hours before the deadline.")
    return hours


def reminder_hours(interview: Interview) -> list[int]:
    return [int(h) for h in (interview.reminder_hours or "").split(",") if h.strip().isdigit()]


# -- after the invitation -------------------------------------------------------------------------

def _author_candidate(user: User, candidate: Candidate) -> None:
    require_author(user)
    if candidate.org_id != user.org_id:
        raise ServiceError("Candidate not found.", 404)


def resend(user: User, candidate: Candidate, email: bool = True) -> str:
    """A new link: the old one stops working at once (only its hash was kept, now replaced); with
    `email`, the new link is e-mailed (queued messages with the old link are cancelled). Returns the
    new token, shown once."""
    _author_candidate(user, candidate)
    if candidate.status not in UNFINISHED:
        raise ServiceError("This candidate has finished; there is nothing to resend.", 409)
    candidate.token_version += 1
    token = invite_token(current_app.config["SECRET_KEY"], candidate.public_id, candidate.token_version)
    candidate.token_hash = hash_token(token)
    for row in db.session.execute(sa.select(OutboxMessage).where(
            OutboxMessage.candidate_id == candidate.id, OutboxMessage.status == MailStatus.QUEUED,
            OutboxMessage.kind.in_((MailKind.INVITATION, MailKind.RESEND)))).scalars():
        outbox.cancel(row, "A newer link was made before this one went out.")
    if email:
        candidate.mail_status = None
        queue_invitation(candidate, MailKind.RESEND)
    audit.record("candidate.link_resent", candidate, actor=user, emailed="yes" if email else "no")
    db.session.commit()
    return token


def parse_deadline(text: str, interview: Interview) -> datetime:
    """"2026-03-14" (the end of that day in the interview's time zone) or "2026-03-14T17:00": a
    moment in the future, at most MAX_DEADLINE_DAYS away."""
    text = (text or "").strip()
    zone = zoneinfo.ZoneInfo(valid_time_zone(interview.time_zone) or "UTC")
    try:
        if len(text) == 10:
            moment = datetime.fromisoformat(text).replace(hour=23, minute=59, tzinfo=zone)
        else:
            moment = datetime.fromisoformat(text)
            moment = moment if moment.tzinfo else moment.replace(tzinfo=zone)
    except ValueError:
        raise ServiceError(f"Not a date: {text[:40]!r}. Write it as 2026-03-14.") from None
    now = utcnow()
    if moment <= now:
        raise ServiceError("The deadline must be in the future.")
    if moment > now + timedelta(days=MAX_DEADLINE_DAYS):
        raise ServiceError(f"The deadline may be at most {MAX_DEADLINE_DAYS} days away.")
    return moment


def extend(user: User, interview: Interview, public_ids: list[str], deadline: datetime,
           notify: bool = True) -> int:
    """Move the deadline of these unfinished candidates (all unfinished ones where none are named) to
    `deadline` (later only); reminders follow the new date; with `notify`, each is e-mailed."""
    require_author(user)
    query = sa.select(Candidate).where(Candidate.interview_id == interview.id,
                                       Candidate.status.in_(UNFINISHED))
    if public_ids:
        query = query.where(Candidate.public_id.in_(public_ids))
    moved = [c for c in db.session.execute(query).scalars() if c.expires_at < deadline]
    for candidate in moved:
        candidate.expires_at = deadline
        if notify and mail.configured():
            words = mail_content.extension(candidate, mail_content.candidate_link(outbox.TOKEN_SLOT))
            to_candidate(candidate, MailKind.EXTENSION, words)
    if moved:
        audit.record("interview.deadlines_extended", interview, actor=user, count=len(moved),
                     until=deadline.isoformat(timespec="minutes"))
    db.session.commit()
    return len(moved)


def messages(user: User, candidate: Candidate) -> list[OutboxMessage]:
    """Every e-mail sent (or not) to this candidate, newest first: owners and recruiters only."""
    _author_candidate(user, candidate)
    return outbox.for_candidate(candidate)


def mark_opened(candidate: Candidate) -> None:
    """The landing page was visited: the first time is kept (status "opened")."""
    if candidate.opened_at is None:
        candidate.opened_at = utcnow()
        db.session.commit()


def overview(user: User, interview: Interview) -> dict:
    """What the interview's outreach page shows: the template, its preview, the schedule, how its
    e-mails stand and the latest ones that did not go."""
    require_author(user)
    subject, body, is_default = template_of(interview)
    counts = dict(db.session.execute(
        sa.select(OutboxMessage.status, sa.func.count()).where(OutboxMessage.interview_id == interview.id,
                                                              OutboxMessage.user_id.is_(None))
        .group_by(OutboxMessage.status)).all())
    failed = db.session.execute(
        sa.select(OutboxMessage, Candidate).join(Candidate, Candidate.id == OutboxMessage.candidate_id)
        .where(OutboxMessage.interview_id == interview.id, OutboxMessage.status == MailStatus.FAILED)
        .order_by(OutboxMessage.id.desc()).limit(20)).all()
    unfinished = db.session.execute(
        sa.select(sa.func.count()).select_from(Candidate)
        .where(Candidate.interview_id == interview.id, Candidate.status.in_(UNFINISHED))).scalar_one()
    return {"subject": subject, "body": body, "is_default": is_default, "counts": counts,
            "failed": failed, "unfinished": unfinished, "mail_on": mail.configured(),
            "hours": ", ".join(str(h) for h in reminder_hours(interview))}
