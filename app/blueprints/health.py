"""Health: a public liveness check, and a detailed readiness report for operators.

GET /healthz is public (load balancers, uptime monitors): 200 {"status": "ok"} when this web
process can serve, that is its database, Redis and the S3 bucket answer; else 503
{"status": "not ok"}. Nothing more, so it tells a stranger nothing about the installation.

GET /healthz/ready reports each of those and the workers (a queue nobody serves makes it 503), as
JSON, to operators only: a request carrying `Authorization: Bearer <HEALTH_TOKEN>`, or one from a
loopback or private address that came through no proxy (no X-Forwarded-For, X-Real-IP or
Forwarded header: docker compose's own health check, an operator's curl on the host). Every proxy
in front of Oneway adds X-Forwarded-For (nginx's template does), so its private address opens
nothing to the clients behind it; the token is the way in from elsewhere. Even then a failure is
a short classified reason; the error itself, which may name hosts, is logged by the web app.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging

from flask import Blueprint, current_app, jsonify, request
from rq import Worker

from app.extensions import db
from app.queue import QUEUES, redis_conn
from app.storage import current_storage

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)
_FORWARDED = ("X-Forwarded-For", "X-Real-IP", "Forwarded")
# Exception classes (by name, anywhere in the error's class hierarchy) and what they are called
# in the report; anything else is "failed (<class>)".
_REASONS = {"TimeoutError": "timed out", "Timeout": "timed out",
            "AuthenticationError": "refused the credentials", "ConnectionError": "could not connect",
            "OperationalError": "could not connect", "MaxRetryError": "could not connect",
            "OSError": "could not connect"}


class Problem(Exception):
    """A check's own finding, worded for the report (it names nothing secret)."""


def _database():
    db.session.execute(db.text("SELECT 1"))
    return {"backend": db.engine.dialect.name}


def _redis():
    redis_conn().ping()


def _storage():
    if not current_storage().bucket_ok():
        raise Problem("the bucket is missing: run `flask ensure-bucket`")
    return {"bucket": current_app.config["S3_BUCKET"]}


def _workers():
    found = Worker.all(connection=redis_conn())
    served = sorted({q for w in found for q in w.queue_names()})
    missing = [q for q in QUEUES if q not in served]
    if missing:
        raise Problem(f"no worker serves queue(s) {', '.join(missing)}")
    return {"count": len(found), "queues": served}


def _check(name: str, fn) -> dict:
    try:
        return {"ok": True, **(fn() or {})}
    except Exception as exc:  # a health check reports every failure, whatever its kind
        if isinstance(exc, Problem):
            return {"ok": False, "reason": str(exc)}
        log.warning("health: the %s check failed: %s: %s", name, type(exc).__name__, exc)
        reason = next((_REASONS[c.__name__] for c in type(exc).__mro__ if c.__name__ in _REASONS),
                      f"failed ({type(exc).__name__})")
        return {"ok": False, "reason": reason}


def _serving_checks() -> dict:
    """What this web process needs to serve: its database, Redis and the bucket."""
    return {"database": _check("database", _database), "redis": _check("redis", _redis),
            "storage": _check("storage", _storage)}


def _for_operators() -> bool:
    """The bearer of HEALTH_TOKEN, or a request straight from this machine or its private network."""
    token = current_app.config.get("HEALTH_TOKEN") or ""
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    if any(h in request.headers for h in _FORWARDED):
        return False
    # The connecting socket's address, before ProxyFix put the forwarded client's in its place.
    peer = request.environ.get("werkzeug.proxy_fix.orig", request.environ).get("REMOTE_ADDR") or ""
    try:
        address = ipaddress.ip_address(peer.split("%", 1)[0])
    except ValueError:  # a Unix socket, or nothing: not known to be local
        return False
    address = getattr(address, "ipv4_mapped", None) or address
    return address.is_loopback or address.is_private


@bp.get("/healthz")
def healthz():
    ok = all(c["ok"] for c in _serving_checks().values())
    return jsonify(status="ok" if ok else "not ok"), 200 if ok else 503


@bp.get("/healthz/ready")
def ready():
    if not _for_operators():
        return jsonify(error="The detailed health report is for operators: ask from this machine or "
                             "its private network, not through the proxy, or send "
                             "'Authorization: Bearer <HEALTH_TOKEN>'."), 403
    checks = _serving_checks()
    checks["workers"] = _check("workers", _workers) if checks["redis"]["ok"] else {
        "ok": False, "reason": "no redis"}
    ok = all(c["ok"] for c in checks.values())
    return jsonify(status="ok" if ok else "degraded", checks=checks), 200 if ok else 503
