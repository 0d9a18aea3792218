"""Rows that start a job once their transaction commits: the mail outbox's messages
(app.services.outbox) and webhook messages (app.services.webhooks).

The ids of a kind's new rows are gathered after each flush, handed to its dispatcher after the commit,
and forgotten on a rollback, so no job ever runs for a row that was never committed. A dispatcher that
cannot reach Redis leaves its rows to the workers' pass, which sends what is due."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session


def dispatch_after_commit(model: type, dispatch: Callable[[list[int]], None],
                          when: Callable[[], bool] = lambda: True) -> None:
    """After each commit, call `dispatch(ids)` with the ids of the `model` rows it inserted (if
    `when()`: webhooks dispatch only inside an app, where their settings are)."""
    key = _key(model)

    @event.listens_for(Session, "after_flush")
    def _remember(session, _flush_context) -> None:
        remember(session, model, [o.id for o in session.new if isinstance(o, model)])

    @event.listens_for(Session, "after_commit")
    def _dispatch(session) -> None:
        ids = session.info.pop(key, None)
        if ids and when():
            dispatch(ids)

    @event.listens_for(Session, "after_rollback")
    def _forget(session) -> None:
        session.info.pop(key, None)


def remember(session: Session, model: type, ids: list[int]) -> None:
    """Dispatch these rows after the commit too: for rows inserted by a statement, not as objects."""
    if ids:
        session.info.setdefault(_key(model), []).extend(ids)


def _key(model: type) -> str:
    return f"after_commit:{model.__tablename__}"
