"""Webhooks: owners' endpoints, the messages written for them in the transaction of each change (an
outbox of its own), and every attempt to deliver one."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import Timestamps, UTCDateTime, new_public_id, utcnow


class WebhookEndpoint(Timestamps, db.Model):
    """A URL of the organisation's that hears the event types it chose, signed with its own secret
    (Standard Webhooks). After a rotation the previous secret also signs until it lapses, so a
    receiver can switch without losing a message. Disabled by its owner, or by Oneway once it has
    failed for WEBHOOK_DISABLE_AFTER_DAYS."""

    __tablename__ = "webhook_endpoints"
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_public_id)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    url: Mapped[str] = mapped_column(sa.String(2000))
    description: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    event_types: Mapped[str] = mapped_column(sa.String(400))  # comma-separated, in EVENT_TYPES order
    # The signing secret must be kept as it is (HMAC needs it); it is shown to owners only.
    secret: Mapped[str] = mapped_column(sa.String(100))
    previous_secret: Mapped[str | None] = mapped_column(sa.String(100))
    previous_secret_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    disabled_reason: Mapped[str | None] = mapped_column(sa.Text)
    # Since when every delivery has failed (None: the last one succeeded).
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def events(self) -> list[str]:
        return [e for e in self.event_types.split(",") if e]


class WebhookMessage(db.Model):
    """One event for one endpoint. Its public id is the `webhook-id` every attempt carries, so a
    receiver can drop copies (delivery is at least once)."""

    __tablename__ = "webhook_messages"
    __table_args__ = (sa.Index("ix_webhook_messages_status_next_attempt_at", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(40), unique=True)
    endpoint_id: Mapped[int] = mapped_column(
        sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    event_type: Mapped[str] = mapped_column(sa.String(40))
    payload: Mapped[dict] = mapped_column(sa.JSON)
    status: Mapped[str] = mapped_column(
        sa.String(12), default="pending"
    )  # pending, sending, delivered, failed
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sending_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    endpoint: Mapped[WebhookEndpoint] = relationship()


class WebhookAttempt(db.Model):
    """One try at delivering a message: when, the HTTP status (None: no answer), how long, why not."""

    __tablename__ = "webhook_attempts"
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        sa.ForeignKey("webhook_messages.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_code: Mapped[int | None] = mapped_column()
    duration_ms: Mapped[int] = mapped_column()
    error: Mapped[str | None] = mapped_column(sa.Text)
