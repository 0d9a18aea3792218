"""Enqueue background jobs by import path, so the web process never imports heavy media code."""

from __future__ import annotations

from flask import current_app
from redis import Redis
from rq import Queue, Retry

MEDIA_QUEUE = "media"
ASR_QUEUE = "asr"
QUEUES = (MEDIA_QUEUE, ASR_QUEUE)


def redis_conn() -> Redis:
    """One Redis connection pool per app."""
    conn = current_app.extensions.get("oneway_redis")
    if conn is None:
        conn = Redis.from_url(current_app.config["REDIS_URL"])
        current_app.extensions["oneway_redis"] = conn
    return conn


def enqueue(path: str, *args, queue: str, job_id: str, timeout: int | None = None):
    """Enqueue `path(*args)` once per job id; call only after the rows it reads are committed."""
    cfg = current_app.config
    if timeout is None:
        timeout = cfg["JOB_TIMEOUT_ASR"] if queue == ASR_QUEUE else cfg["JOB_TIMEOUT_MEDIA"]
    q = Queue(queue, connection=redis_conn())
    return q.enqueue(
        path,
        *args,
        job_id=job_id,
        job_timeout=timeout,
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
        retry=Retry(max=2, interval=[5, 30]),
    )
