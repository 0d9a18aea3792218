"""API benchmark: GET /api/v1/candidates at 5,000 candidates; server time and SQL query count.

    .venv/bin/python bench/api.py > bench/results/api-$(date +%F).json

It builds a migrated SQLite database in a temporary folder and a private redis-server (the API's
limit per key counts there), fills one organisation with --candidates candidates (every one rated,
a third decided) over two interviews, makes an API key, and requests the candidate list with
Flask's test client (server time, no network): the first page, a page deep in by cursor, a page
since a time, a page of one status, and the whole list walked 200 at a time. Each call goes
through everything a real one does: the key's lookup, its limit in Redis, its audit row and its
last use.

Then webhooks (--webhooks N, 0 to skip): an endpoint on a receiver on 127.0.0.1 that dedupes by
webhook-id, two `flask worker webhooks` processes, and decisions made --rate a second, each
committed with its decision.made event: first --healthy of them with the receiver taking every
call (`webhook_latency_p95_ms`: from each change's commit to the receiver), then N with the
receiver failing a random 20% of calls (HTTP 500): how many events never arrived (`lost`) and how
many arrived under two webhook-ids (`duplicates_after_dedupe`), both to be 0, and the latency
there too (`failing_20pct`), where a failed call waits its retry.

One JSON object goes to stdout, with `list_candidates_p95_ms` (target under 100 ms) and
`webhook_latency_p95_ms` (target under 2,000 ms); progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def fill(db, interviews, n: int) -> None:
    """Bulk-insert n candidates spread over the interviews, each with its figures."""
    import sqlalchemy as sa

    from app.models import Candidate, CandidateStats
    from app.states import CandidateStatus

    now = datetime.now(UTC)
    statuses = [CandidateStatus.INVITED, CandidateStatus.STARTED, CandidateStatus.COMPLETED]
    rows = [dict(public_id=secrets.token_urlsafe(12), org_id=interviews[0].org_id,
                 interview_id=interviews[i % len(interviews)].id, name=f"Candidate {i}",
                 email=f"c{i}@example.com", token_hash=secrets.token_hex(32),
                 expires_at=now + timedelta(days=14), status=statuses[i % 3], package_version=0,
                 created_at=now - timedelta(days=30, seconds=-i), updated_at=now - timedelta(seconds=n - i))
            for i in range(n)]
    for i in range(0, n, 2000):
        db.session.execute(sa.insert(Candidate.__table__), rows[i:i + 2000])
    ids = list(db.session.execute(sa.select(Candidate.id)).scalars())
    stats = [dict(candidate_id=cid, rating=1 + (k % 40) / 10, reviews=2,
                  decision="advance" if k % 3 == 0 else None, updated_at=now) for k, cid in enumerate(ids)]
    for i in range(0, len(stats), 2000):
        db.session.execute(sa.insert(CandidateStats.__table__), stats[i:i + 2000])
    db.session.commit()


def measure(client, url: str, headers: dict, rounds: int, engine) -> dict:
    """Median and p95 server time of GET url, and its SQL statements."""
    from sqlalchemy import event

    count = 0

    def before(*_a, **_k):
        nonlocal count
        count += 1

    for _ in range(3):
        assert client.get(url, headers=headers).status_code == 200
    times, counts = [], []
    event.listen(engine, "before_cursor_execute", before)
    try:
        for _ in range(rounds):
            count = 0
            t0 = time.perf_counter()
            resp = client.get(url, headers=headers)
            times.append((time.perf_counter() - t0) * 1000)
            assert resp.status_code == 200, resp.get_data(as_text=True)
            counts.append(count)
    finally:
        event.remove(engine, "before_cursor_execute", before)
    times.sort()
    return {"p50_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 2), "queries": max(counts)}


def walk(client, headers: dict) -> dict:
    """The whole list, 200 at a time by cursor: pages, candidates seen, total time."""
    t0, seen, pages, cursor = time.perf_counter(), 0, 0, None
    while True:
        url = "/api/v1/candidates?limit=200" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=headers).get_json()
        seen, pages, cursor = seen + len(page["data"]), pages + 1, page["next_cursor"]
        if cursor is None:
            break
    return {"pages": pages, "candidates": seen, "total_ms": round((time.perf_counter() - t0) * 1000, 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--candidates", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=60)
    ap.add_argument("--webhooks", type=int, default=1000, help="events for the failing receiver (0: skip)")
    ap.add_argument("--healthy", type=int, default=200, help="events for the healthy receiver first")
    ap.add_argument("--rate", type=float, default=10.0, help="events made per second")
    args = ap.parse_args()
    from stack.services import free_port, start_redis, stop

    tmp = tempfile.TemporaryDirectory(prefix="oneway-bench-api-")
    port = free_port()
    redis = start_redis(port, Path(tmp.name) / "redis", persist=False)
    try:
        return run(args, f"sqlite:///{Path(tmp.name) / 'bench.sqlite3'}", f"redis://127.0.0.1:{port}/0")
    finally:
        stop(redis)
        tmp.cleanup()


def run(args, url: str, redis_url: str) -> int:
    os.environ.update(ONEWAY_ENV="testing", SECRET_KEY="bench-not-secret", DATABASE_URL=url)
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from app.models import Role
    from app.services import accounts, api_keys, interviews
    from app.services.interviews import QuestionInput

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": redis_url,
                      "RATELIMIT_STORAGE_URI": redis_url, "API_RATE_LIMIT": "1000000/minute"})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        org = accounts.create_organisation("Bench")
        owner = accounts.create_user(org, "owner@example.com", "Owner", "password123", Role.OWNER)
        db.session.commit()
        made = [interviews.create_interview(owner, f"Interview {i}", "", "en", [QuestionInput("Q?")])
                for i in range(2)]
        log(f"filling {args.candidates} candidates")
        fill(db, made, args.candidates)
        _key, token = api_keys.create(owner, "bench", "read")
        since = (datetime.now(UTC) - timedelta(seconds=args.candidates // 2)).isoformat()
        engine = db.engine
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    middle = client.get("/api/v1/candidates?limit=200", headers=headers).get_json()["next_cursor"]
    urls = {"first_page": "/api/v1/candidates",
            "by_cursor": f"/api/v1/candidates?cursor={middle}",
            "updated_since": f"/api/v1/candidates?updated_since={since.replace('+', '%2B')}",
            "status_completed": "/api/v1/candidates?status=completed",
            "page_of_200": "/api/v1/candidates?limit=200"}
    results = {}
    for name, path in urls.items():
        log(f"measuring {name}")
        results[name] = measure(client, path, headers, args.rounds, engine)
    p95 = max(r["p95_ms"] for name, r in results.items() if name != "page_of_200")
    out = {"benchmark": "api", "candidates": args.candidates, "rounds": args.rounds,
           "database": "sqlite", "python": platform.python_version(), "cpus": os.cpu_count(),
           "list_candidates_p95_ms": p95, "target_ms": 100, "meets_target": p95 < 100,
           "pages": results, "walk_all_by_200": walk(client, headers)}
    if args.webhooks:
        with app.app_context():
            out |= webhook_figures(app, args, url, redis_url)
    print(json.dumps(out, indent=2))
    return 0


RETRIES = "1,2,4,8,16,32"


def _p(values: list[float], q: float) -> float | None:
    values = sorted(values)
    return round(values[max(0, int(len(values) * q) - 1)], 1) if values else None


def webhook_figures(app, args, url: str, redis_url: str) -> dict:
    """decision.made events through two real workers: --healthy to a receiver that takes every call
    (the latency), then --webhooks to one that fails a random 20% (lost, duplicates, latency)."""
    import random
    import subprocess

    import sqlalchemy as sa

    from app.extensions import db
    from app.models import Candidate, User, WebhookMessage
    from app.services import webhook_endpoints
    from tests import webhook_receiver

    receiver, server = webhook_receiver.start()
    owner = db.session.execute(sa.select(User)).scalars().first()
    webhook_endpoints.create_endpoint(owner, receiver.url, ["decision.made"])
    # The retries compressed (1, 2, 4... s rather than up to 10 h) so that every event's fate is
    # known within the run: `lost` counts what the machinery loses, not what the schedule delays.
    env = dict(os.environ, DATABASE_URL=url, REDIS_URL=redis_url, WEBHOOK_ALLOW_PRIVATE="1",
               WEBHOOK_PASS_SECONDS="0.5", WEBHOOK_RETRY_SECONDS=RETRIES, RECONCILE_SECONDS="3600",
               PURGE_EXPIRED_SECONDS="0")
    command = [sys.executable, "-m", "flask", "--app", "app:create_app", "worker", "webhooks"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    workers = [subprocess.Popen(command, env=env, cwd=ROOT, **quiet) for _ in range(2)]
    candidates = list(db.session.execute(sa.select(Candidate).limit(args.healthy + args.webhooks)).scalars())
    try:
        _until_listening(len(workers))
        healthy = _phase(owner, candidates[:args.healthy], args.rate, receiver)
        rng = random.Random(7)
        receiver.script[:] = [500 if rng.random() < 0.2 else 200 for _ in range(args.webhooks * 3)]
        failing = _phase(owner, candidates[args.healthy:], args.rate, receiver)
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(30)
        server.shutdown()
    db.session.rollback()
    statuses = dict(db.session.execute(sa.select(WebhookMessage.status, sa.func.count())
                                       .group_by(WebhookMessage.status)).all())
    return {"webhook_latency_p95_ms": healthy["webhook_latency_p95_ms"],
            "webhook_latency_p50_ms": healthy["webhook_latency_p50_ms"],
            "webhook_meets_target": (healthy["webhook_latency_p95_ms"] or 1e9) < 2000,
            "webhook_healthy_events": healthy["webhook_events"],
            "lost": failing["lost"], "duplicates_after_dedupe": failing["duplicates_after_dedupe"],
            "failing_20pct": failing, "webhook_message_statuses": statuses,
            "webhook_retry_seconds": RETRIES, "webhook_rate_per_s": args.rate,
            "webhook_workers": len(workers)}


def _phase(owner, candidates: list, rate: float, receiver) -> dict:
    """One decision per candidate at `rate` a second; wait (60 s at most) until all arrived."""
    from app.services import grading

    receiver.calls.clear()
    committed: dict[str, float] = {}
    arrived: dict[str, float] = {}  # the receiver's dedupe: first 2xx per event
    failing = sum(status >= 300 for status in receiver.script)
    log(f"webhooks: {len(candidates)} events at {rate}/s; {failing} of the receiver's next answers are 500")
    t0 = time.monotonic()
    for i, candidate in enumerate(candidates):
        time.sleep(max(0.0, t0 + i / rate - time.monotonic()))
        grading.decide(owner, candidate, "hold")
        committed[candidate.public_id] = time.time()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(_arrivals(receiver.calls, arrived)) < len(committed):
        time.sleep(0.5)
    return _webhook_summary(list(receiver.calls), arrived, committed)


def _until_listening(count: int, timeout: float = 120) -> None:
    """Wait until `count` RQ workers listen (a worker process takes seconds to start)."""
    from rq import Worker

    from app.queue import redis_conn

    deadline = time.monotonic() + timeout
    while Worker.count(connection=redis_conn()) < count:
        if time.monotonic() > deadline:
            raise RuntimeError("the webhook workers did not start")
        time.sleep(0.2)
    time.sleep(1)  # past their first registry clean-up


def _arrivals(calls: list, arrived: dict) -> dict[str, set]:
    """Per event (candidate), the webhook-ids taken in with a 2xx; first arrival times in `arrived`."""
    per_event: dict[str, set] = {}
    for call in list(calls):
        if call.headers["status"] < 300:
            event = json.loads(call.body)["data"]["candidate_id"]
            per_event.setdefault(event, set()).add(call.headers["webhook-id"])
            arrived.setdefault(event, call.headers["received_at"])
    return per_event


def _webhook_summary(calls: list, arrived: dict, committed: dict) -> dict:
    per_event = _arrivals(calls, arrived)
    latencies = [(arrived[e] - committed[e]) * 1000 for e in committed if e in arrived]
    failed_once = {json.loads(c.body)["data"]["candidate_id"] for c in calls
                   if c.headers["status"] >= 300}
    clean = [(arrived[e] - committed[e]) * 1000 for e in committed if e in arrived and e not in failed_once]
    p95 = _p(latencies, 0.95)
    return {"webhook_events": len(committed), "webhook_calls": len(calls),
            "webhook_failed_calls": sum(c.headers["status"] >= 300 for c in calls),
            "webhook_latency_p50_ms": _p(latencies, 0.5), "webhook_latency_p95_ms": p95,
            "webhook_latency_first_try_p95_ms": _p(clean, 0.95),
            "lost": len(committed) - len(per_event),
            "duplicates_after_dedupe": sum(len(ids) - 1 for ids in per_event.values()),
            "same_id_redelivered": sum(1 for c in calls if c.headers["status"] < 300)
            - sum(len(ids) for ids in per_event.values())}


if __name__ == "__main__":
    raise SystemExit(main())
