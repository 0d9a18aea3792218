"""Sending one outbox row through SMTP with Flask-Mailman: multipart text and HTML, a Message-ID
fixed when the row was written, header values that cannot carry a newline (Flask-Mailman refuses
them, and our senders strip them first), and each SMTP failure sorted into "try again" or "never"."""

from __future__ import annotations

import smtplib
import socket
import ssl
from email.utils import formataddr, parseaddr
from functools import cache

from flask import Flask, current_app
from flask_mailman import EmailMultiAlternatives, Mail

mailman = Mail()


def init_app(app: Flask) -> None:
    """Flask-Mailman from the MAIL_* settings (config.py)."""
    app.config.setdefault("MAIL_BACKEND", "smtp")
    mailman.init_app(app)


def configured() -> bool:
    """Whether e-mail can be sent at all: without a server nothing is written to the outbox."""
    return bool(current_app.config.get("MAIL_SERVER"))


def one_line(text: str | None, limit: int = 200) -> str:
    """A header value from user text (a name, a title): no line breaks or control characters."""
    cleaned = "".join(" " if ord(c) < 32 or c in "\u2028\u2029\x7f" else c for c in (text or ""))
    return " ".join(cleaned.split())[:limit]


def message_id(public_id: str) -> str:
    """The Message-ID of an outbox row: <public_id.oneway@sender's domain>, the same on every try."""
    return f"<{public_id}.oneway@{_domain(current_app.config['MAIL_DEFAULT_SENDER'])}>"


@cache
def _domain(sender: str) -> str:
    return parseaddr(sender)[1].rpartition("@")[2] or "oneway.invalid"


def build(row, connection=None) -> EmailMultiAlternatives:
    """The e-mail of an outbox row, ready for `connection`."""
    to = formataddr((one_line(row.to_name), row.to_addr)) if row.to_name else row.to_addr
    headers = {"Message-ID": row.message_id, "Auto-Submitted": "auto-generated"}
    if row.locale:
        headers["Content-Language"] = row.locale.replace("_", "-")
    msg = EmailMultiAlternatives(
        subject=one_line(row.subject, 300), body=row.body_text,
        from_email=current_app.config["MAIL_DEFAULT_SENDER"], to=[to],
        reply_to=[row.reply_to] if row.reply_to else None, headers=headers, connection=connection)
    msg.attach_alternative(row.body_html, "text/html")
    return msg


def connect():
    """An open SMTP connection (Flask-Mailman's backend); close it when done."""
    conn = mailman.get_connection(fail_silently=False, timeout=current_app.config["MAIL_TIMEOUT"])
    conn.open()
    return conn


def classify(exc: BaseException) -> tuple[bool, str]:
    """(permanent, reason in words) for an exception from connecting or sending."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()), (0, b""))
        return 500 <= code < 600, _reply(code, text)
    if isinstance(exc, smtplib.SMTPResponseException):
        # 530/535: our credentials are wrong or missing; once the operator fixes them it goes.
        permanent = 500 <= exc.smtp_code < 600 and exc.smtp_code not in (530, 535)
        return permanent, _reply(exc.smtp_code, exc.smtp_error)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return False, f"The mail server closed the connection ({exc})."
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return False, "The mail server did not answer in time."
    if isinstance(exc, ssl.SSLError):
        return False, f"TLS with the mail server failed ({exc})."
    if isinstance(exc, OSError):
        return False, f"Could not reach the mail server ({exc.strerror or exc})."
    return False, f"{type(exc).__name__}: {exc}"


def _reply(code: int, text) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"The mail server answered {code}: {one_line(str(text), 500)}"
