"""Background jobs: one module per job type. Each takes ids only and is safe to run twice."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any, TypeVar

from rq import get_current_job

log = logging.getLogger("jobs")
_app = None
Result = TypeVar("Result")


def use_app(app) -> None:
    """Run jobs in this process against `app` (the `flask worker` command and tests do this)."""
    global _app
    _app = app


def get_app():
    """The Flask app of this worker process, created on first use (never at import time)."""
    global _app
    if _app is None:
        from app import create_app

        _app = create_app()
    return _app


@contextmanager
def app_context():
    app = get_app()
    with app.app_context():
        from app.extensions import db

        try:
            yield app
        finally:
            db.session.remove()


@contextmanager
def lease(seconds: int):
    """Renew a Redis key while the current job runs; a killed worker stops renewing it."""
    from app.queue import lease_key, redis_conn

    job = get_current_job()
    if job is None:
        yield
        return
    conn, key, done = redis_conn(), lease_key(job.id), threading.Event()
    conn.set(key, job.worker_name or "worker", ex=seconds)

    def renew():
        while not done.wait(seconds / 3):
            conn.set(key, job.worker_name or "worker", ex=seconds)

    beat = threading.Thread(target=renew, name=f"lease-{job.id}", daemon=True)
    beat.start()
    try:
        yield
    finally:
        done.set()
        beat.join(2)
        conn.delete(key)


def _last_attempt() -> bool:
    job = get_current_job()
    return job is None or not getattr(job, "retries_left", None)


class Steps:
    """Where a stage's time goes, for its log line: `with steps("fetch"): ...` adds up the
    seconds spent in each named step; str() lists them in the order first seen."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str):
        began = time.perf_counter()
        try:
            yield
        finally:
            self.spent[name] = self.spent.get(name, 0.0) + time.perf_counter() - began

    def __str__(self) -> str:
        return ", ".join(f"{name} {s:.2f}s" for name, s in self.spent.items())


def run_answer_stage(stage: str, answer_id: int, fn: Callable[[Any], Result],
                     then: Callable[[Any, Result], None]) -> None:
    """Run `fn(answer)`, commit its outputs with the stage's timing, then call
    `then(answer, result)` with what `fn` returned: what only the follow-up needs, such as
    objects to remove once the outputs are committed.

    `fn` leaves outputs that already exist alone, so a re-run does no work twice.
    A problem with the media itself (MediaError) fails the answer at once; anything else is
    re-raised so RQ retries it, and fails the answer only when no retry is left.
    """
    from app.models import Answer
    from app.services import lifecycle, pipeline

    run_media_stage(stage, Answer, answer_id, fn, then, move=lifecycle.move_answer, fail=pipeline.fail,
                    record=pipeline.record_stage, retry_note="It can be retried.")


def run_media_stage(stage: str, model, row_id: int, fn: Callable[[Any], Result],
                    then: Callable[[Any, Result], None], *, move: Callable, fail: Callable[[int, str], None],
                    record: Callable | None = None, retry_note: str = "") -> None:
    """run_answer_stage for any row that goes through the answer's lifecycle (an answer, a prompt
    video): `move(row, status)` moves it, `fail(row_id, reason)` fails it, `record(row, stage,
    seconds)` (if given) adds the stage's timing to what is committed."""
    from app.extensions import db
    from app.media import MediaError
    from app.states import AnswerStatus

    noun = model.__tablename__.removesuffix("s")
    with app_context() as app, lease(app.config["JOB_LEASE_SECONDS"]):
        row = db.session.get(model, row_id)
        if row is None or row.status not in (AnswerStatus.UPLOADED, AnswerStatus.PROCESSING):
            log.info("%s: %s %s gone or settled, nothing to do", stage, noun, row_id)
            return
        if row.status == AnswerStatus.UPLOADED:
            move(row, AnswerStatus.PROCESSING)
            db.session.commit()
        started = time.perf_counter()
        try:
            result = fn(row)
        except MediaError as exc:
            fail(row_id, str(exc))
            return
        except Exception as exc:
            log.exception("%s failed for %s %s", stage, noun, row_id)
            if _last_attempt():
                fail(row_id, f"{stage.capitalize()} failed unexpectedly ({type(exc).__name__}: {exc}). "
                     f"{retry_note}".strip())
            raise
        elapsed = time.perf_counter() - started
        if record is not None:
            record(row, stage, elapsed)
        db.session.commit()
        log.info("%s done for %s %s in %.2fs", stage, noun, row.public_id, elapsed)
        then(row, result)
