"""What views and jobs call: validate, write, commit, then enqueue."""

from __future__ import annotations

from typing import TypeVar

from app.extensions import db
from app.security import hash_token, looks_like_token

M = TypeVar("M")


class ServiceError(Exception):
    """A refusal a person can understand, with the HTTP status a view should answer."""

    def __init__(self, message: str, status: int = 400, field: str | None = None):
        super().__init__(message)
        self._message = message  # a lazy message (flask_babel.lazy_gettext) is translated when read
        self.status = status
        self.field = field  # the form field it is about, for a form that shows it beside that field
        # Not allowed, not found, gone: a refusal of the page itself, which the error page shows.
        # Any other refusal is about what a form sent, and the form shows it (app.errors).
        self.refuses_access = status in (403, 404, 410)

    @property
    def message(self) -> str:
        """The refusal in words, in the language of the page or script it is answered to."""
        return str(self._message)


def by_token(model: type[M], token: str, *options) -> M | None:
    """The row of `model` whose token_hash is this link token's SHA-256 (an invite, a share link, a
    team invite, a password reset); None for an unknown token, and for text that cannot be one of
    ours (app.security.looks_like_token: never hashed nor looked up). `options`: loader options
    (what to read in the same query)."""
    if not looks_like_token(token):
        return None
    return db.session.execute(
        db.select(model).filter_by(token_hash=hash_token(token)).options(*options)).scalar_one_or_none()


def commit_keeping_loaded() -> None:
    """Commit without expiring what the session holds, for a hot path that goes on to read only
    what it has just written: otherwise the first read after the commit queries it back."""
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True
