"""The outbox: every e-mail Oneway sends, written in the transaction of the change that causes it and
sent by a worker after commit (app.services.outbox, jobs.mail)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import Timestamps, UTCDateTime, new_public_id
from app.states import MailStatus


class MailKind:
    """What a message is for (stored as the value)."""

    INVITATION = "invitation"
    RESEND = "resend"  # a new link; the old one stopped working
    REMINDER = "reminder"
    EXTENSION = "extension"  # the deadline moved
    CONFIRMATION = "confirmation"  # to the candidate: answers received, with receipts
    DECISION = "decision"  # to the candidate: a rejection, with the team's message
    DELETION = "deletion"  # to the candidate: their request to delete everything, and its date
    NOTIFICATION = "notification"  # to a member: a candidate completed
    DIGEST = "digest"  # to a member: the day's completed candidates
    TEAM_INVITE = "team_invite"  # to a colleague: a link to join the team
    PASSWORD_RESET = "password_reset"  # to a member: a link to set a new password
    WEBHOOK_DISABLED = "webhook_disabled"  # to the owners: Oneway disabled a failing endpoint

    CANDIDATE_FACING = (INVITATION, RESEND, REMINDER, EXTENSION, CONFIRMATION, DECISION, DELETION)


class OutboxMessage(Timestamps, db.Model):
    """One e-mail: its whole content as sent, where it stands, and why it did not go if it did not."""

    __tablename__ = "outbox_messages"
    __table_args__ = (sa.Index("ix_outbox_messages_status_due", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_public_id)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    interview_id: Mapped[int | None] = mapped_column(sa.ForeignKey("interviews.id"), index=True)
    candidate_id: Mapped[int | None] = mapped_column(sa.ForeignKey("candidates.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    # At most one message per key (a reminder slot, a day's digest): two workers cannot both add it.
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    to_addr: Mapped[str] = mapped_column(sa.String(254))
    to_name: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    reply_to: Mapped[str | None] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(300))
    body_text: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str] = mapped_column(sa.Text)
    # Fixed when the row is written, so a message sent again after a worker died is recognisably the
    # same one (mail clients and archives merge copies with one Message-ID).
    message_id: Mapped[str] = mapped_column(sa.String(255), unique=True)
    # Whose link fills the body's token slot: None, the candidate's; "join:<public id>", a team
    # invite's; "reset:<public id>", a password reset's (app.services.outbox.with_link).
    link_ref: Mapped[str | None] = mapped_column(sa.String(80))
    locale: Mapped[str] = mapped_column(sa.String(16), default="en", server_default="en")
    status: Mapped[str] = mapped_column(sa.String(12), default=MailStatus.QUEUED,
                                        server_default=MailStatus.QUEUED.value)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sending_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
