"""Delivering webhook messages (app.services.webhooks): Standard Webhooks signatures, one worker's
claim on a message, the attempt's record with exponential backoff, an endpoint disabled after days
of failures, and the workers' pass that sends what is due and takes back dead workers' claims."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.models import WebhookAttempt, WebhookEndpoint, WebhookMessage, utcnow
from app.services import audit, notifications
from app.services.webhooks import SECRET_PREFIX, dispatch

log = logging.getLogger(__name__)


# -- delivery -------------------------------------------------------------------------------------


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """Standard Webhooks: v1,base64(HMAC-SHA256(secret, "id.timestamp.body"))."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def headers_for(endpoint: WebhookEndpoint, message: WebhookMessage, body: bytes, now: datetime) -> dict:
    timestamp = int(now.timestamp())
    signatures = [sign(endpoint.secret, message.public_id, timestamp, body)]
    if endpoint.previous_secret and endpoint.previous_secret_until and endpoint.previous_secret_until > now:
        signatures.append(sign(endpoint.previous_secret, message.public_id, timestamp, body))
    return {
        "Content-Type": "application/json",
        "User-Agent": "Oneway-Webhooks/1",
        "webhook-id": message.public_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signatures),
    }


def claim(message_id: int) -> WebhookMessage | None:
    """pending -> sending in one conditional UPDATE, committed: of two workers one wins."""
    won = db.session.execute(
        sa.update(WebhookMessage)
        .where(WebhookMessage.id == message_id, WebhookMessage.status == "pending")
        .values(status="sending", sending_at=utcnow(), attempts=WebhookMessage.attempts + 1),
        execution_options={"synchronize_session": False},
    ).rowcount
    db.session.commit()
    return db.session.get(WebhookMessage, message_id) if won else None


def give_up(message: WebhookMessage, reason: str) -> None:
    """Failed for good without an attempt (its endpoint was disabled meanwhile)."""
    message.status, message.sending_at, message.last_error = "failed", None, reason
    db.session.commit()


def body_of(message: WebhookMessage) -> bytes:
    return json.dumps(message.payload, separators=(",", ":"), ensure_ascii=False).encode()


def record(message: WebhookMessage, status_code: int | None, duration_ms: int, error: str | None) -> None:
    """The attempt's outcome: delivered, again later with backoff, or failed; the endpoint's health."""
    now = utcnow()
    endpoint = message.endpoint
    db.session.add(
        WebhookAttempt(
            message_id=message.id,
            status_code=status_code,
            duration_ms=duration_ms,
            error=(error or None) and error[:2000],
            created_at=now,
        )
    )
    if status_code is not None and 200 <= status_code < 300:
        message.status, message.delivered_at, message.last_error = "delivered", now, None
        endpoint.failing_since = None
    else:
        _retry_or_fail(message, error or f"HTTP {status_code}", now)
        endpoint.failing_since = endpoint.failing_since or now
        _disable_if_dead(endpoint, message.last_error or "", now)
    message.sending_at = None
    db.session.commit()


def _retry_or_fail(message: WebhookMessage, reason: str, now: datetime) -> None:
    delays = [int(x) for x in str(current_app.config["WEBHOOK_RETRY_SECONDS"]).split(",") if x.strip()]
    message.last_error = reason[:2000]
    if message.attempts > len(delays):
        message.status = "failed"
        return
    message.status, message.next_attempt_at = "pending", now + timedelta(seconds=delays[message.attempts - 1])


def _disable_if_dead(endpoint: WebhookEndpoint, reason: str, now: datetime) -> None:
    days = current_app.config["WEBHOOK_DISABLE_AFTER_DAYS"]
    if endpoint.active and days > 0 and endpoint.failing_since <= now - timedelta(days=days):
        endpoint.active = False
        endpoint.disabled_reason = f"Every delivery failed for {days} days; Oneway disabled it."
        audit.record(
            "webhook.disabled",
            ("webhook", endpoint.public_id),
            label=audit.SYSTEM_WEBHOOKS,
            org_id=endpoint.org_id,
            url=endpoint.url[:200],
            days=days,
        )
        notifications.webhook_disabled(endpoint, reason)
        log.warning("webhooks: endpoint %s disabled after %d days of failures", endpoint.public_id, days)


# -- the workers' pass ----------------------------------------------------------------------------


def recover_stale(now: datetime) -> int:
    """Claims older than WEBHOOK_LEASE_SECONDS belong to workers that died: pending again."""
    stale = now - timedelta(seconds=current_app.config["WEBHOOK_LEASE_SECONDS"])
    n = db.session.execute(
        sa.update(WebhookMessage)
        .where(WebhookMessage.status == "sending", WebhookMessage.sending_at < stale)
        .values(
            status="pending",
            sending_at=None,
            next_attempt_at=now,
            last_error="The worker sending it stopped; sent again with the same webhook-id.",
        ),
        execution_options={"synchronize_session": False},
    ).rowcount
    db.session.commit()
    return n


def send_due(now: datetime, limit: int = 1000) -> int:
    """Queue delivery of what is due; each is not picked again for WEBHOOK_LEASE_SECONDS."""
    ids = list(
        db.session.execute(
            sa.select(WebhookMessage.id)
            .where(WebhookMessage.status == "pending", WebhookMessage.next_attempt_at <= now)
            .order_by(WebhookMessage.next_attempt_at)
            .limit(limit)
        ).scalars()
    )
    if not ids:
        return 0
    again = now + timedelta(seconds=current_app.config["WEBHOOK_LEASE_SECONDS"])
    db.session.execute(
        sa.update(WebhookMessage)
        .where(WebhookMessage.id.in_(ids), WebhookMessage.status == "pending")
        .values(next_attempt_at=again),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()
    dispatch(ids)
    return len(ids)
