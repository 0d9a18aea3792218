"""API benchmark: GET /api/v1/candidates at 5,000 candidates; server time and SQL query count.

    .venv/bin/python bench/api.py > bench/results/api-$(date +%F).json

It builds a migrated SQLite database in a temporary folder and a private redis-server (the API's
limit per key counts there), fills one organisation with --candidates candidates (every one rated,
a third decided) over two interviews, makes an API key, and requests the candidate list with
Flask's test client (server time, no network): the first page, a page deep in by cursor, a page
since a time, a page of one status, and the whole list walked 200 at a time. Each call goes
through everything a real one does: the key's lookup, its limit in Redis, its audit row and its
last use. One JSON object goes to stdout, with `list_candidates_p95_ms` (target under 100 ms);
progress goes to stderr.
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
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
