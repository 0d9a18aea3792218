"""The worker process: RQ's SimpleWorker (no fork), so the speech model loads once per process."""

from __future__ import annotations

import json
import logging
import os
import threading
import time

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker

from jobs import get_app, use_app

log = logging.getLogger("jobs.worker")


def yield_cpu(nice: int) -> None:
    """Run this worker at a lower CPU priority (its ffmpeg and model threads inherit it), so that
    on a machine it shares with the web app, chunk uploads and pages are served first: under a
    backlog processing may lag, uploads must not (issue 22). Where each worker has cores of its
    own (docker compose, Kubernetes) this changes nothing. WORKER_NICE=0 leaves it as it is."""
    current = os.nice(0)
    if nice > current:
        os.nice(nice - current)


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
        threading.Thread(target=_outreach_loop, args=(app, conn, stop), name="outreach",
                         daemon=True).start()
        threading.Thread(target=_forget_erased, args=(app, conn, stop), name="spool-erasures",
                         daemon=True).start()
        if "webhooks" in queues:
            from jobs.webhooks import pass_loop

            threading.Thread(target=pass_loop, args=(app, conn, stop), name="webhooks", daemon=True).start()
    try:
        return worker.work(burst=burst, with_scheduler=True)
    finally:
        stop.set()


def _reconcile_loop(app, conn: Redis, stop: threading.Event) -> None:
    """Every few seconds, one worker of the fleet (a Redis lock decides) looks for stuck answers."""
    from app.extensions import db
    from app.services.ai_evaluation import reconcile as ai_reconcile
    from app.services.pipeline import reconcile, reconcile_packages
    from app.services.prompt_media import reconcile as reconcile_prompts

    interval = app.config["RECONCILE_SECONDS"]
    while not stop.wait(interval):
        purge_pass(app, conn, interval)
        if not conn.set("oneway:reconcile-lock", "1", nx=True, ex=max(1, int(interval))):
            continue
        with app.app_context():
            try:
                acted = reconcile(app.config["RECONCILE_MIN_AGE_SECONDS"], app.config["MAX_RECOVERIES"],
                          app.config["JOB_LEASE_SECONDS"])
                if acted:
                    log.warning("reconciled answers: %s", ", ".join(acted))
                if prompts := reconcile_prompts(app.config["RECONCILE_MIN_AGE_SECONDS"],
                                                app.config["JOB_LEASE_SECONDS"]):
                    log.warning("reconciled prompt videos: %s", ", ".join(prompts))
                if packages := reconcile_packages(app.config["RECONCILE_MIN_AGE_SECONDS"],
                                                  app.config["JOB_LEASE_SECONDS"]):
                    log.warning("queued candidate packages again: %s", ", ".join(packages))
                if requeued := ai_reconcile():
                    log.warning("queued %d AI evaluations again", requeued)
            except Exception:  # keep the loop alive whatever one pass hits; it is logged
                log.exception("reconcile pass failed")
            finally:
                db.session.remove()


def _outreach_loop(app, conn: Redis, stop: threading.Event) -> None:
    """Every OUTREACH_TICK_SECONDS, one worker of the fleet sends what is due (app.services.outbox)."""
    while not stop.wait(app.config["OUTREACH_TICK_SECONDS"]):
        outreach_pass(app, conn)


def outreach_pass(app, conn: Redis, now=None) -> bool:
    """At most one worker at a time (a Redis lock for one tick): queue again the messages of workers
    that died mid-send, add the reminders and digests that fell due, and send every message whose
    time has come. Returns whether this worker ran the pass."""
    from app.extensions import db
    from app.models import utcnow
    from app.services import notifications, outbox, reminders

    every = app.config["OUTREACH_TICK_SECONDS"]
    try:
        if not conn.set("oneway:outreach:pass", "1", nx=True, ex=max(1, int(every))):
            return False
    except RedisError:  # Redis is away: a later turn tries again
        return False
    with app.app_context():
        try:
            now = now or utcnow()
            outbox.recover_stale(now)
            reminders.add_due(now)
            notifications.add_digests(now)
            outbox.send_due(now)
        except Exception:  # keep the loop alive whatever one pass hits; it is logged
            log.exception("outreach pass failed")
        finally:
            db.session.remove()
    return True


def _forget_erased(app, conn: Redis, stop: threading.Event) -> None:
    """Remove erased answers' copies from this machine's spool: at once when a purge announces
    them, and, for those announced while this worker was not listening or written since by a job
    that was running then, from the list of the day's purged folders, on start and every
    RECONCILE_SECONDS."""
    from app.services.retention import ERASED_CHANNEL, recently_purged_answers
    from jobs import spool

    every = app.config["RECONCILE_SECONDS"]
    while not stop.is_set():
        pubsub = conn.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(ERASED_CHANNEL)
            swept = float("-inf")
            while not stop.is_set():
                if time.monotonic() - swept >= every:
                    spool.forget(recently_purged_answers(conn))
                    swept = time.monotonic()
                message = pubsub.get_message(timeout=1.0)
                if message:
                    removed = spool.forget(json.loads(message["data"]))
                    if removed:
                        log.info("spool: removed %d copies of erased answers", removed)
        except Exception:  # keep listening whatever one turn hits (Redis away, a bad message); logged
            log.warning("spool: listening for erasures failed; again in 5 s", exc_info=True)
            stop.wait(5)
        finally:
            pubsub.close()


def purge_pass(app, conn: Redis, loop_seconds: float = 0) -> bool:
    """At most once every PURGE_EXPIRED_SECONDS across the fleet (a Redis key with that expiry),
    delete the data of candidates whose deletion date has passed (and audit events past
    AUDIT_RETENTION_DAYS), let go of takes nobody can finish any more, and delete sign-ins past
    their lifetime. Returns whether this pass ran."""
    from datetime import timedelta

    from app.extensions import db
    from app.models import utcnow
    from app.services.retention import purge_expired
    from app.services.signin import end_old_sign_ins
    from app.services.takes import let_go_abandoned

    every = app.config["PURGE_EXPIRED_SECONDS"]
    try:
        if not every or not conn.set("oneway:retention:pass", "1", nx=True, ex=every):
            return False
    except RedisError:  # Redis is away: a later turn of the loop tries again
        log.warning("retention pass skipped: Redis did not answer")
        return False
    with app.app_context():
        try:
            # The next pass is up to `every` (and a turn of the loop) away: what falls due before
            # then goes now, so nothing is kept past the date the candidate was given.
            purge_expired(utcnow() + timedelta(seconds=every + loop_seconds))
        except Exception:  # keep the loop alive; the next pass tries again
            log.exception("retention pass failed")
        try:
            db.session.rollback()
            let_go_abandoned(utcnow())
        except Exception:  # as above
            log.exception("letting go of abandoned takes failed")
        try:
            db.session.rollback()
            end_old_sign_ins(utcnow())
        except Exception:  # as above
            log.exception("deleting old sign-ins failed")
        finally:
            db.session.remove()
    return True
