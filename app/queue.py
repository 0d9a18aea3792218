"""Enqueue background jobs by import path, so the web process never imports heavy media code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import current_app
from redis import Redis
from rq import Queue, Retry

MAIL_QUEUE = "mail"  # the outbox (app.services.outbox): short jobs, served first
MEDIA_QUEUE = "media"
ASR_QUEUE = "asr"
WEBHOOK_QUEUE = "webhooks"  # short jobs, served apart from media so a transcode never holds one up
AI_QUEUE = "ai"  # language model jobs (jobs/ai.py), kept apart so they never delay media
QUEUES = (MAIL_QUEUE, MEDIA_QUEUE, ASR_QUEUE, WEBHOOK_QUEUE, AI_QUEUE)
# One worker serving everything but the language model (make run, the image's default) takes the
# short outward jobs first, then transcription before media: an answer whose transcode is done is
# transcribed before the next answer's join and transcode start, so answers finish one after another
# in the order they were completed instead of every transcription waiting behind the whole media queue.
ONE_WORKER_QUEUES = (MAIL_QUEUE, WEBHOOK_QUEUE, ASR_QUEUE, MEDIA_QUEUE)


def redis_conn() -> Redis:
    """One Redis connection pool per app."""
    conn = current_app.extensions.get("oneway_redis")
    if conn is None:
        conn = Redis.from_url(current_app.config["REDIS_URL"])
        current_app.extensions["oneway_redis"] = conn
    return conn


def enqueue(path: str, *args, queue: str, job_id: str, timeout: int | None = None,
            retries: int | None = None, at_front: bool = False):
    """Enqueue `path(*args)` once per job id; call only after the rows it reads are committed."""
    cfg = current_app.config
    retries = cfg["JOB_RETRIES"] if retries is None else retries
    if timeout is None:
        timeout = {ASR_QUEUE: cfg["JOB_TIMEOUT_ASR"], AI_QUEUE: cfg["JOB_TIMEOUT_AI"]}.get(
            queue, cfg["JOB_TIMEOUT_MEDIA"])
    q = Queue(queue, connection=redis_conn())
    return q.enqueue(
        path,
        *args,
        job_id=job_id,
        job_timeout=timeout,
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
        retry=Retry(max=retries, interval=[5, 30]) if retries else None,
        at_front=at_front,
    )


def lease_key(job_id: str) -> str:
    return f"oneway:lease:{job_id}"


def job_alive(job_id: str, lease_seconds: int = 30) -> bool:
    """Whether a job is waiting to run, or running on a worker that still renews its lease
    (or has only just started it and may not have taken the lease yet)."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job, JobStatus

    conn = redis_conn()
    try:
        job = Job.fetch(job_id, connection=conn)
    except NoSuchJobError:
        return False
    status = job.get_status(refresh=True)
    if status in (JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED):
        return True
    if status == JobStatus.STARTED:
        if conn.exists(lease_key(job_id)):
            return True
        started = job.started_at
        if started is not None and started.tzinfo is None:
            started = started.replace(tzinfo=UTC)
        return started is not None and datetime.now(UTC) - started < timedelta(seconds=lease_seconds)
    return False


def requeue(path: str, *args, queue: str, job_id: str, at_front: bool = False):
    """Enqueue a job again under its id, first forgetting a run whose worker died."""
    from rq.registry import StartedJobRegistry

    q = Queue(queue, connection=redis_conn())
    registry = StartedJobRegistry(queue=q)
    # RQ 3 records each run as an execution "<job id>:<execution id>" in the started registry;
    # drop the dead run's entries so RQ's own cleanup does not fail the new run later.
    for jid, eid in registry.get_job_and_execution_ids(cleanup=False):
        if jid == job_id:
            redis_conn().zrem(registry.key, f"{jid}:{eid}")
    return enqueue(path, *args, queue=queue, job_id=job_id, at_front=at_front)


def enqueue_batch(path: str, jobs: list[tuple[str, tuple]], *, queue: str, timeout: int,
                  failure_ttl: int) -> bool:
    """Enqueue `path(*args)` for each (job id, args) in one round trip, for the outboxes' rows
    (app.services.after_commit). False when Redis is away: the workers' pass sends those rows later."""
    from redis.exceptions import RedisError

    try:
        Queue(queue, connection=redis_conn()).enqueue_many([
            Queue.prepare_data(path, args, timeout=timeout, result_ttl=600, failure_ttl=failure_ttl,
                               job_id=job_id)
            for job_id, args in jobs
        ])
    except RedisError:
        return False
    return True
