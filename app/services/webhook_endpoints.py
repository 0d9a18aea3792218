"""Owners' webhook endpoints: create, list, rotate the signing secret, disable or enable, the
delivery log and "Send again". The URL check refuses private addresses (SSRF) unless
WEBHOOK_ALLOW_PRIVATE. Events and their delivery: app.services.webhooks, webhook_delivery."""

from __future__ import annotations

import base64
import ipaddress
import secrets
import socket
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.models import ApiKey, Role, User, WebhookAttempt, WebhookEndpoint, WebhookMessage, utcnow
from app.services import ServiceError
from app.services.webhooks import EVENT_TYPES, SECRET_PREFIX, dispatch

ROTATION_GRACE = timedelta(hours=24)  # the previous secret still signs this long after a rotation


@dataclass(frozen=True)
class _Manager:
    org_id: int
    user_id: int
    name: str


def _manager(who: User | ApiKey) -> _Manager:
    """Who manages endpoints: an owner, or an API key with the webhooks scope (checked by the API
    layer), acting for the owner who made it."""
    if isinstance(who, ApiKey):
        return _Manager(who.org_id, who.created_by_id, who.label)
    if who.role != Role.OWNER:
        raise ServiceError("Only owners may manage webhooks.", 403)
    return _Manager(who.org_id, who.id, who.name)


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def check_url(url: str) -> str:
    """An endpoint URL Oneway may call: https (http only where private addresses are allowed), a
    host name, and, unless WEBHOOK_ALLOW_PRIVATE, no private, loopback or link-local address."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 (a bad port raises here)
    except ValueError:
        raise ServiceError("Enter the endpoint's full URL, https://...") from None
    allow_private = current_app.config["WEBHOOK_ALLOW_PRIVATE"]
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes or not host or len(url) > 2000 or parts.username or parts.password:
        raise ServiceError("Enter the endpoint's full URL, https://... (no user or password in it).")
    if not allow_private:
        refuse_private(host, parts.port or 443)
    return url


def refuse_private(host: str, port: int) -> None:
    """Refuse a host that is, or resolves to, anything but a public address (SSRF)."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise ServiceError(f"The endpoint's host {host} could not be found.") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address.is_global:
            raise ServiceError("Webhooks may not be sent to private, loopback or link-local addresses.")


def parse_events(raw) -> str:
    chosen = {
        str(e).strip() for e in (raw.split(",") if isinstance(raw, str) else raw or []) if str(e).strip()
    }
    unknown = chosen - EVENT_TYPES.keys()
    if unknown:
        raise ServiceError(f"Unknown event type(s): {', '.join(sorted(unknown))}.")
    if not chosen:
        raise ServiceError("Choose at least one event type.")
    return ",".join(e for e in EVENT_TYPES if e in chosen)


def create_endpoint(who: User | ApiKey, url: str, events, description: str = "") -> WebhookEndpoint:
    manager = _manager(who)
    endpoint = WebhookEndpoint(
        org_id=manager.org_id,
        created_by_id=manager.user_id,
        url=check_url(url),
        event_types=parse_events(events),
        description=(description or "").strip()[:200],
        secret=new_secret(),
    )
    db.session.add(endpoint)
    db.session.commit()
    return endpoint


def endpoints_of(who: User | ApiKey) -> list[WebhookEndpoint]:
    org_id = _manager(who).org_id
    return list(
        db.session.execute(
            sa.select(WebhookEndpoint)
            .where(WebhookEndpoint.org_id == org_id)
            .order_by(WebhookEndpoint.created_at.desc())
        ).scalars()
    )


def get_endpoint(who: User | ApiKey, public_id: str) -> WebhookEndpoint:
    org_id = _manager(who).org_id
    endpoint = db.session.execute(
        sa.select(WebhookEndpoint).where(
            WebhookEndpoint.public_id == public_id, WebhookEndpoint.org_id == org_id
        )
    ).scalar_one_or_none()
    if endpoint is None:
        raise ServiceError("Webhook endpoint not found.", 404)
    return endpoint


def rotate_secret(who: User | ApiKey, public_id: str) -> WebhookEndpoint:
    """A new secret; the old one also signs for ROTATION_GRACE, so the receiver can switch."""
    endpoint = get_endpoint(who, public_id)
    endpoint.previous_secret, endpoint.previous_secret_until = endpoint.secret, utcnow() + ROTATION_GRACE
    endpoint.secret = new_secret()
    db.session.commit()
    return endpoint


def set_active(who: User | ApiKey, public_id: str, active: bool) -> WebhookEndpoint:
    """Disable, or enable again (its failures forgotten)."""
    endpoint = get_endpoint(who, public_id)
    endpoint.active = active
    endpoint.disabled_reason = None if active else f"Disabled by {_manager(who).name}."
    endpoint.failing_since = None
    db.session.commit()
    return endpoint


def messages_of(endpoint: WebhookEndpoint, limit: int = 100) -> list[WebhookMessage]:
    """The endpoint's delivery log, newest first."""
    return list(
        db.session.execute(
            sa.select(WebhookMessage)
            .where(WebhookMessage.endpoint_id == endpoint.id)
            .order_by(WebhookMessage.id.desc())
            .limit(limit)
        ).scalars()
    )


def last_attempts(messages: list[WebhookMessage]) -> dict[int, WebhookAttempt]:
    ids = [m.id for m in messages]
    if not ids:
        return {}
    latest = (
        sa.select(sa.func.max(WebhookAttempt.id))
        .where(WebhookAttempt.message_id.in_(ids))
        .group_by(WebhookAttempt.message_id)
    )
    return {
        a.message_id: a
        for a in db.session.execute(sa.select(WebhookAttempt).where(WebhookAttempt.id.in_(latest))).scalars()
    }


def redeliver(user: User, endpoint_public_id: str, message_public_id: str) -> WebhookMessage:
    """Send a message again now, whatever became of it (same webhook-id)."""
    endpoint = get_endpoint(user, endpoint_public_id)
    message = db.session.execute(
        sa.select(WebhookMessage).where(
            WebhookMessage.public_id == message_public_id, WebhookMessage.endpoint_id == endpoint.id
        )
    ).scalar_one_or_none()
    if message is None:
        raise ServiceError("Webhook message not found.", 404)
    if message.status == "sending":
        raise ServiceError("This message is being sent right now.", 409)
    message.status, message.next_attempt_at, message.last_error = "pending", utcnow(), None
    db.session.commit()
    dispatch([message.id])
    return message
