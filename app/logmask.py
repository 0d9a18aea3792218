"""Secret link tokens kept out of logs: the path segment after /i/, /s/, /reset/ and /join/ is a
bearer secret (whoever holds it records as the candidate, reads the shared answers, sets the
password or joins the team), so every log line shows it masked.

Used by gunicorn's access and error logs (app.gunicorn_conf) and by the app's own log handlers.
"""

from __future__ import annotations

import logging
import re

MASK = "***"
# The token runs to the next separator. "%2F" counts as a slash, so a secret link carried in a
# query (?next=%2Fs%2F...) is masked too; a match inside another path only masks more, never less.
_SECRET = re.compile(r"((?:/|%2F)(?:i|s|reset|join)(?:/|%2F))[^/?#&%\s\"'<>]+", re.IGNORECASE)


def mask(text: str) -> str:
    """`text` with every secret link's token replaced by MASK."""
    return _SECRET.sub(lambda m: m.group(1) + MASK, text) if isinstance(text, str) else text


class MaskTokens(logging.Filter):
    """Masks tokens in a record's message (its arguments merged in first) and its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = mask(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = mask(record.exc_text)
        return True


def mask_handlers(logger: logging.Logger) -> None:
    """Add the mask to each of the logger's handlers, once."""
    for handler in logger.handlers:
        if not any(isinstance(f, MaskTokens) for f in handler.filters):
            handler.addFilter(MaskTokens())
