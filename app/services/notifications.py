"""When a candidate completes: their confirmation with receipts, and the staff's notifications (one
e-mail each, a daily digest, or none: each member's own choice, User.notify). A member hears only of
interviews they may see, and a reviewer of an anonymised interview reads "Candidate N", never a name
(app.services.anonymity). Staff e-mail is in English, as the staff pages are."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from app import mail
from app.extensions import db
from app.models import Candidate, Interview, MailKind, OutboxMessage, Role, User
from app.services import ServiceError, anonymity, mail_content, outbox, outreach, takes
from app.services.access import interview_visible
from app.states import CandidateStatus

NOTIFY_CHOICES = {"immediate": "An e-mail for each completed interview",
                  "digest": "One e-mail a day listing completed interviews",
                  "off": "No e-mail"}


def set_choice(user: User, choice: str) -> None:
    """A member's own choice of notifications."""
    if choice not in NOTIFY_CHOICES:
        raise ServiceError("Choose immediate, daily digest or no e-mail.")
    user.notify = choice
    db.session.commit()


def on_completed(candidate: Candidate) -> None:
    """In the transaction that completes the candidate: the confirmation and immediate notifications."""
    if not mail.configured():
        return
    answers = takes.current_answers(candidate)
    receipts = [(n, answers[q.id].original_size, answers[q.id].original_sha256)
                for n, q in enumerate(candidate.questions, 1) if q.id in answers]
    words = mail_content.confirmation(candidate, receipts)
    outreach.to_candidate(candidate, MailKind.CONFIRMATION, words, dedupe_key=f"confirmation:{candidate.id}")
    for user in _watchers(candidate.interview, "immediate"):
        label = anonymity.labeller(user, candidate.interview)(candidate)
        text = "\n\n".join([
            f"{label} completed the interview “{candidate.interview.title}”.",
            f"Review: {_review_link(candidate)}",
            "You get one e-mail per completed interview; change this under Account in Oneway."])
        to_member(user, candidate.interview, f"{label} completed {candidate.interview.title}", text,
                   MailKind.NOTIFICATION, f"notification:{user.id}:{candidate.id}", candidate.id)


def _watchers(interview: Interview, choice: str) -> list[User]:
    """Active members of the organisation who chose `choice` and may see the interview."""
    users = db.session.execute(sa.select(User).where(User.org_id == interview.org_id, User.active.is_(True),
                                                     User.notify == choice)).scalars().all()
    return [u for u in users if db.session.execute(
        sa.select(Interview.id).where(Interview.id == interview.id, interview_visible(u))).first()]


def _base() -> str:
    try:
        return mail_content.base_url()
    except ServiceError:
        return ""


def webhook_disabled(endpoint, reason: str) -> None:
    """Each active owner of the organisation hears that Oneway disabled one of its webhook endpoints
    (owners alone manage them), with the last failure and where to enable it again."""
    if not mail.configured():
        return
    owners = db.session.execute(sa.select(User).where(
        User.org_id == endpoint.org_id, User.active.is_(True), User.role == Role.OWNER)).scalars().all()
    text = "\n\n".join([
        f"Oneway disabled the webhook endpoint {endpoint.url}: {endpoint.disabled_reason}",
        f"The last delivery failed with: {reason[:300]}",
        "No events are sent to it while it is disabled. Once the receiver works again, enable it on its "
        "page, where each failed message can also be sent again: "
        f"{_base()}/team/webhooks/{endpoint.public_id}",
    ])
    since = endpoint.failing_since.isoformat() if endpoint.failing_since else ""
    for user in owners:
        to_member(user, None, "Oneway: a webhook endpoint was disabled", text, MailKind.WEBHOOK_DISABLED,
                  f"webhook-disabled:{endpoint.id}:{user.id}:{since}")


def _review_link(candidate: Candidate) -> str:
    return f"{_base()}/review/candidates/{candidate.public_id}"


def to_member(user: User, interview: Interview | None, subject: str, text: str, kind: str, key: str,
               candidate_id: int | None = None) -> OutboxMessage:
    return outbox.add(org_id=user.org_id, kind=kind, to_addr=user.email, to_name=user.name, subject=subject,
                      body_text=text, body_html=mail_content.to_html(text), user_id=user.id,
                      interview_id=interview.id if interview else None, candidate_id=candidate_id,
                      dedupe_key=key)


def add_digests(now: datetime) -> int:
    """After DIGEST_HOUR (UTC), each member who chose the digest gets one e-mail listing the interviews
    completed in the past day that they may see (none if there were none); at most one a day."""
    if not mail.configured() or now.hour < current_app.config["DIGEST_HOUR"]:
        return 0
    day = now.date().isoformat()
    users = db.session.execute(
        sa.select(User).where(User.active.is_(True), User.notify == "digest")).scalars().all()
    added = 0
    for user in users:
        key = f"digest:{user.id}:{day}"
        if db.session.execute(sa.select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)).first():
            continue
        lines = _digest_lines(user, now - timedelta(days=1), now)
        if lines:
            text = "\n".join([f"Completed interviews in the past day ({len(lines)}):", "", *lines, "",
                              "Change how often you hear from Oneway under Account."])
            to_member(user, None, f"Oneway: {len(lines)} completed interview(s) to review", text,
                       MailKind.DIGEST, key)
            added += 1
    db.session.commit()
    return added


def _digest_lines(user: User, since: datetime, until: datetime) -> list[str]:
    rows = db.session.execute(
        sa.select(Candidate, Interview).join(Interview, Interview.id == Candidate.interview_id)
        .where(Candidate.org_id == user.org_id, Candidate.status == CandidateStatus.COMPLETED,
               Candidate.completed_at >= since, Candidate.completed_at < until, interview_visible(user))
        .order_by(Interview.title, Candidate.completed_at)).all()
    labels = {}
    lines = []
    for candidate, interview in rows:
        if interview.id not in labels:
            labels[interview.id] = anonymity.labeller(user, interview)
        lines.append(f"- {labels[interview.id](candidate)} · {interview.title} · {_review_link(candidate)}")
    return lines
