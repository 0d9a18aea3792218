"""The worker process: RQ's SimpleWorker (no fork), so the speech model loads once per process."""

from __future__ import annotations

import logging

from redis import Redis
from rq import Queue, SimpleWorker

from jobs import get_app, use_app


def work(queues: list[str], burst: bool = False, name: str | None = None, app=None) -> bool:
    """Serve `queues` in priority order. CTranslate2 models hang in forked children, hence no fork."""
    if app is not None:
        use_app(app)
    app = get_app()
    conn = Redis.from_url(app.config["REDIS_URL"])
    worker = SimpleWorker([Queue(q, connection=conn) for q in queues], connection=conn, name=name)
    logging.getLogger("rq.worker").setLevel(logging.INFO)
    return worker.work(burst=burst, with_scheduler=True)
