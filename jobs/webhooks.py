"""Job: deliver one webhook message (app.services.webhooks); and the workers' webhook pass, which
sends again what is due and takes back the claims of workers that died."""

from __future__ import annotations

import logging
import threading
import time
from urllib.parse import urlsplit

from jobs import app_context

log = logging.getLogger(__name__)


def deliver(message_id: int) -> None:
    """POST the message, signed, to its endpoint and record the attempt. Does nothing for a message
    another worker holds or that is no longer pending (delivered, failed, or sent already)."""
    import requests
    from flask import current_app

    from app.models import utcnow
    from app.services import ServiceError, webhook_delivery, webhook_endpoints

    with app_context():
        message = webhook_delivery.claim(message_id)
        if message is None:
            return
        endpoint = message.endpoint
        if not endpoint.active:
            webhook_delivery.give_up(message, "The endpoint is disabled.")
            return
        body, started = webhook_delivery.body_of(message), time.monotonic()
        headers = webhook_delivery.headers_for(endpoint, message, body, utcnow())
        code, error = None, None
        try:
            if not current_app.config["WEBHOOK_ALLOW_PRIVATE"]:
                parts = urlsplit(endpoint.url)
                webhook_endpoints.refuse_private(parts.hostname, parts.port or 443)
            resp = requests.post(
                endpoint.url,
                data=body,
                headers=headers,
                allow_redirects=False,
                timeout=current_app.config["WEBHOOK_TIMEOUT_SECONDS"],
            )
            code = resp.status_code
            if not 200 <= code < 300:
                error = f"HTTP {code}: {resp.text[:300]}"
        except ServiceError as exc:
            error = exc.message
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        webhook_delivery.record(message, code, int((time.monotonic() - started) * 1000), error)
        log.info(
            "webhook %s (%s) to endpoint %s: %s",
            message.public_id,
            message.event_type,
            endpoint.public_id,
            code or error,
        )


def pass_loop(app, conn, stop: threading.Event) -> None:
    """Every WEBHOOK_PASS_SECONDS, one worker of the fleet (a Redis lock decides) queues what is due."""
    from app.extensions import db
    from app.models import utcnow
    from app.services import webhook_delivery

    every = app.config["WEBHOOK_PASS_SECONDS"]
    while not stop.wait(every):
        try:
            if not conn.set("oneway:webhook-pass", "1", nx=True, ex=max(1, int(every))):
                continue
            with app.app_context():
                try:
                    now = utcnow()
                    if webhook_delivery.recover_stale(now):
                        log.warning("webhooks: took back the claims of a worker that stopped")
                    webhook_delivery.send_due(now)
                finally:
                    db.session.remove()
        except Exception:  # keep the pass alive whatever one turn hits (Redis or the database away)
            log.exception("webhook pass failed")
