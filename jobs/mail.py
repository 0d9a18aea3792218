"""Send outbox rows by id (app.services.outbox), over one SMTP connection per job. A row another
worker claimed, or one already settled, is left alone, so running a job twice sends nothing twice."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from jobs import app_context

log = logging.getLogger("jobs.mail")
_DOWN = object()  # what _send_one returns for the connection when none could be made


def send(ids: list[int]) -> int:
    """Send each queued row of `ids`; returns how many the server accepted."""
    from app.services import outbox

    accepted, conn = 0, None
    with app_context():
        try:
            for message_id in ids:
                row = outbox.claim(message_id)
                if row is None:
                    continue
                ok, conn = _send_one(row, conn)
                accepted += ok
                if conn is _DOWN:
                    # No connection could be made: the rest stay queued, for the outreach pass to
                    # send when their time comes, instead of each waiting out the same timeout.
                    conn = None
                    break
        finally:
            _close(conn)
    log.info("mail: %d of %d accepted", accepted, len(ids))
    return accepted


def _send_one(row, conn) -> tuple[bool, object]:
    """Send one claimed row and record how it went; returns (accepted, the connection to go on with)."""
    from app import mail
    from app.extensions import db
    from app.models import utcnow
    from app.services import outbox

    if outbox.over_rate(row.org_id):
        # This organisation's share of the minute is spent: the next minute, no attempt counted.
        outbox.release(row, utcnow() + timedelta(seconds=61 - time.time() % 60), count=False)
        return False, conn
    why_not = outbox.pointless(row)
    text, html = outbox.with_link(row, row.body_text), outbox.with_link(row, row.body_html)
    if why_not is None and (text is None or html is None):
        why_not = "The link could not be made (erased, used, revoked or expired, or the secret key changed)."
    if why_not:
        outbox.cancel(row, why_not)
        db.session.commit()
        return False, conn
    try:
        conn = conn or mail.connect()
        message = mail.build(row, conn)
        message.body, message.alternatives = text, [(html, "text/html")]
        message.send()
    except Exception as exc:  # sorted by classify; every failure is recorded on the row
        permanent, reason = mail.classify(exc)
        log.warning("mail %s %s: %s", row.public_id, "refused" if permanent else "deferred", reason)
        if permanent:
            outbox.fail(row, reason)
            return False, conn
        outbox.retry_or_fail(row, reason)
        return False, _DOWN if conn is None else _close(conn)
    outbox.sent(row)
    return True, conn


def _close(conn) -> None:
    if conn is not None:
        try:
            conn.close()
        except Exception:  # closing a broken connection: nothing left to do with it
            log.debug("closing the SMTP connection failed", exc_info=True)
    return None
