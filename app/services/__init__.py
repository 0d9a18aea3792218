"""What views and jobs call: validate, write, commit, then enqueue."""

from __future__ import annotations

from flask import current_app

from app.storage import Storage


class ServiceError(Exception):
    """A refusal a person can understand, with the HTTP status a view should answer."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def storage() -> Storage:
    return current_app.extensions["oneway_storage"]
