"""The worker process: RQ's SimpleWorker (no fork), so the speech model loads once per process."""

from __future__ import annotations

import logging
import threading

from redis import Redis
from rq import Queue, SimpleWorker

from jobs import get_app, use_app

log = logging.getLogger("jobs.worker")


def work(queues: list[str], burst: bool = False, name: str | None = None, app=None) -> bool:
    """Serve `queues` in priority order. CTranslate2 models hang in forked children, hence no fork."""
    if app is not None:
        use_app(app)
    app = get_app()
    conn = Redis.from_url(app.config["REDIS_URL"])
    worker = SimpleWorker([Queue(q, connection=conn) for q in queues], connection=conn, name=name)
    logging.getLogger("rq.worker").setLevel(logging.INFO)
    stop = threading.Event()
    if not burst:
        threading.Thread(target=_reconcile_loop, args=(app, conn, stop), name="reconcile",
                         daemon=True).start()
    try:
        return worker.work(burst=burst, with_scheduler=True)
    finally:
        stop.set()


def _reconcile_loop(app, conn: Redis, stop: threading.Event) -> None:
    """Every few seconds, one worker of the fleet (a Redis lock decides) looks for stuck answers."""
    from app.extensions import db
    from app.services.pipeline import reconcile

    interval = app.config["RECONCILE_SECONDS"]
    while not stop.wait(interval):
        if not conn.set("oneway:reconcile-lock", "1", nx=True, ex=max(1, int(interval))):
            continue
        with app.app_context():
            try:
                acted = reconcile(app.config["RECONCILE_MIN_AGE_SECONDS"], app.config["MAX_RECOVERIES"],
                          app.config["JOB_LEASE_SECONDS"])
                if acted:
                    log.warning("reconciled answers: %s", ", ".join(acted))
            except Exception:  # keep the loop alive whatever one pass hits; it is logged
                log.exception("reconcile pass failed")
            finally:
                db.session.remove()
