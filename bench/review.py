"""Queue and dashboard benchmark: 5,000 candidates and 50,000 scores; server time and SQL query count.

    .venv/bin/python bench/review.py > bench/results/review-$(date +%F).json
    .venv/bin/python bench/review.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

It builds a migrated database (a temporary SQLite file unless --database-url names an empty
database), fills one interview with --candidates candidates, each with one ready answer per question
and --graders submitted reviews that score every question, and a second interview with 100
candidates filled the same way. It then requests each interview's queue page (as a grader) and
dashboard (as the owner) with Flask's test client (server time only, no network) and counts SQL
statements with a `before_cursor_execute` listener. It also times a candidate's landing page in
English and in Chinese (translation must not slow pages: within 10% of each other). One JSON object
goes to stdout; progress goes to stderr.
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
    """Progress, on stderr."""
    print(msg, file=sys.stderr, flush=True)


def fill(db, interview, graders, owner, n: int, questions) -> int:
    """Bulk-insert n candidates with answers, reviews and scores; return the number of scores."""
    import sqlalchemy as sa

    from app.models import (
        Answer,
        Candidate,
        CandidateStats,
        Decision,
        DecisionValue,
        Recommendation,
        Review,
        Score,
    )
    from app.states import AnswerStatus, CandidateStatus

    now = datetime.now(UTC)
    base = now - timedelta(days=30)
    cand_rows = [dict(public_id=secrets.token_urlsafe(12), org_id=interview.org_id,
                      interview_id=interview.id, name=f"Candidate {i}", email=f"c{i}@example.com",
                      token_hash=secrets.token_hex(32), expires_at=now + timedelta(days=14),
                      status=CandidateStatus.COMPLETED, package_version=0,
                      created_at=base + timedelta(seconds=i), updated_at=now,
                      # the dashboard's durations: opened, started an hour later, done in 20-40 minutes
                      opened_at=base + timedelta(seconds=i, hours=1),
                      started_at=base + timedelta(seconds=i, hours=2),
                      completed_at=base + timedelta(seconds=i, hours=2, minutes=20 + i % 20))
                 for i in range(n)]
    db.session.execute(sa.insert(Candidate.__table__), cand_rows)
    ids = list(db.session.execute(sa.select(Candidate.id).where(
        Candidate.interview_id == interview.id).order_by(Candidate.id)).scalars())
    answers, reviews, scores, decisions, stats = [], [], [], [], []
    recs = list(Recommendation)
    for k, cid in enumerate(ids):
        for q in questions:
            answers.append(dict(public_id=secrets.token_urlsafe(12), candidate_id=cid, question_id=q.id,
                                take=1, status=AnswerStatus.READY, content_type="video/webm", chunk_count=0,
                                received_bytes=0, recoveries=0, created_at=now, updated_at=now))
        for g, grader in enumerate(graders):
            values = [1 + (k + g + j) % 5 for j in range(len(questions))]
            reviews.append(dict(candidate_id=cid, user_id=grader.id, recommendation=recs[(k + g) % 4],
                                comment="", submitted_at=now, created_at=now, updated_at=now,
                                score_sum=sum(values), score_count=len(values), score_min=min(values),
                                score_max=max(values)))
            for j, q in enumerate(questions):
                scores.append(dict(candidate_id=cid, question_id=q.id, user_id=grader.id,
                                   value=1 + (k + g + j) % 5, comment="", created_at=now, updated_at=now))
        decision = None
        if k % 3 == 0:
            decision = list(DecisionValue)[k % 9 // 3]
            decisions.append(dict(candidate_id=cid, user_id=owner.id, value=decision, note="",
                                  created_at=now))
        # What app.services.grading.refresh_stats keeps: the mean of the question means.
        q_means = [statistics.mean(1 + (k + g + j) % 5 for g in range(len(graders)))
                   for j in range(len(questions))]
        stats.append(dict(candidate_id=cid, rating=statistics.mean(q_means), reviews=len(graders),
                          decision=decision, updated_at=now, first_reviewed_at=now))
    for table, rows in ((Answer.__table__, answers), (Review.__table__, reviews),
                        (Score.__table__, scores), (Decision.__table__, decisions),
                        (CandidateStats.__table__, stats)):
        for i in range(0, len(rows), 5000):
            db.session.execute(sa.insert(table), rows[i:i + 5000])
    db.session.commit()
    return len(scores)


def measure(app, client, url: str, rounds: int) -> dict:
    """Median and p95 server time of GET url, and its number of SQL statements."""
    from sqlalchemy import event

    from app.extensions import db

    count = 0

    def before(*_a, **_k):
        nonlocal count
        count += 1

    with app.app_context():
        engine = db.engine
    for _ in range(3):  # warm caches (templates, statement cache, SQLite pages)
        assert client.get(url).status_code == 200
    times, cpu, counts = [], [], []
    event.listen(engine, "before_cursor_execute", before)
    try:
        for _ in range(rounds):
            count = 0
            t0, c0 = time.perf_counter(), time.process_time()
            resp = client.get(url)
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
            assert resp.status_code == 200, resp.status_code
            counts.append(count)
    finally:
        event.remove(engine, "before_cursor_execute", before)
    times.sort()
    # CPU time of this process (the web side, and SQLite itself): less skewed than wall time
    # when other work shares the machine.
    return {"cpu_p50_ms": round(statistics.median(cpu), 2),
            "p50_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 2),
            "queries": max(counts), "queries_min": min(counts)}


def landing_pages(app, tokens: dict[str, str], rounds: int) -> dict:
    """Server time of the candidate landing page per interface language, measured in turns (en, zh,
    en, zh...) so that a slower moment of the machine falls on both; wall and CPU time (the CPU time
    of this process, less skewed when other work shares the machine); and zh's median over en's."""
    clients = {code: app.test_client() for code in tokens}
    wall: dict[str, list[float]] = {code: [] for code in tokens}
    cpu: dict[str, list[float]] = {code: [] for code in tokens}
    for i in range(rounds + 3):
        for code, token in tokens.items():
            t0, c0 = time.perf_counter(), time.process_time()
            resp = clients[code].get(f"/i/{token}")
            t1, c1 = time.perf_counter(), time.process_time()
            assert resp.status_code == 200, resp.status_code
            assert f'lang="{code.replace("_", "-")}"' in resp.get_data(as_text=True)[:200], code
            if i >= 3:  # the first rounds warm the catalogues and templates
                wall[code].append((t1 - t0) * 1000)
                cpu[code].append((c1 - c0) * 1000)
    p50 = {code: round(statistics.median(t), 2) for code, t in wall.items()}
    cpu_p50 = {code: round(statistics.median(t), 2) for code, t in cpu.items()}
    ratio = cpu_p50["zh_Hans"] / cpu_p50["en"]
    return {"landing_p50_ms": p50, "landing_cpu_p50_ms": cpu_p50, "landing_zh_over_en": round(ratio, 3),
            "landing_zh_over_en_wall": round(p50["zh_Hans"] / p50["en"], 3),
            "landing_meets_target": abs(ratio - 1) <= 0.10}


def main() -> int:
    """Parse flags, make the database, run, clean up."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--candidates", type=int, default=5000)
    ap.add_argument("--questions", type=int, default=5)
    ap.add_argument("--graders", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=60)
    ap.add_argument("--database-url", default="", help="an empty database to fill")
    ap.add_argument("--postgres", default="", metavar="ADMIN_URL",
                    help="create (and drop afterwards) a database on this PostgreSQL server, e.g. "
                         "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = ap.parse_args()

    tmp = tempfile.TemporaryDirectory(prefix="oneway-bench-review-")
    url = args.database_url or f"sqlite:///{Path(tmp.name) / 'bench.sqlite3'}"
    pg_name = None
    if args.postgres:
        import sqlalchemy as sa

        pg_name = f"oneway_bench_{secrets.token_hex(5)}"
        admin = sa.create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{pg_name}"')
        url = args.postgres.rsplit("/", 1)[0] + f"/{pg_name}"
    try:
        return run(args, url)
    finally:
        if pg_name:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
            admin.dispose()
        tmp.cleanup()


def run(args, url: str) -> int:
    """Fill the database at url, measure, print the JSON."""
    os.environ.update(ONEWAY_ENV="testing", SECRET_KEY="bench-not-secret", DATABASE_URL=url)
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from app.models import Role
    from app.services import accounts, interviews
    from app.services.interviews import QuestionInput
    from tests.helpers import CsrfClient

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SESSION_COOKIE_SECURE": False,
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1"})
    t_start = time.time()
    load_start = round(os.getloadavg()[0], 2)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        org = accounts.create_organisation("Bench")
        owner = accounts.create_user(org, "owner@bench.local", "Owner", "password123", Role.OWNER)
        graders = [accounts.create_user(org, f"g{i}@bench.local", f"Grader {i}", "password123", Role.REVIEWER)
                   for i in range(args.graders)]
        for g in graders:  # an owner's choice: reviewers see only their assigned interviews otherwise
            g.all_interviews = True
        db.session.commit()
        qs = [QuestionInput(f"Question {i + 1}") for i in range(args.questions)]
        big = interviews.create_interview(owner, "Big", "", "en", qs)
        small = interviews.create_interview(owner, "Small", "", "en", qs)
        log(f"filling {args.candidates} candidates ...")
        n_scores = fill(db, big, graders, owner, args.candidates, big.questions)
        fill(db, small, graders, owner, 100, small.questions)
        big_id, small_id, grader_email = big.public_id, small.public_id, graders[0].email
        # One fresh candidate per interface language, for the landing page's figures.
        tokens = {}
        for code in ("en", "zh_Hans"):
            spoken = interviews.create_interview(owner, f"Landing {code}", "", code[:2], qs)
            tokens[code] = interviews.invite_candidate(owner, spoken, "Ada Lovelace", "ada@example.com")[1]
        with db.engine.begin() as conn:  # fresh planner statistics, as a live database would have
            conn.exec_driver_sql("ANALYZE")
    log(f"filled in {time.time() - t_start:.1f}s; measuring ...")
    client = CsrfClient(app.test_client())
    client.login(grader_email)
    owner_client = CsrfClient(app.test_client())
    owner_client.login("owner@bench.local")
    result = {
        "candidates": args.candidates, "scores": n_scores, "questions": args.questions,
        "graders": args.graders, "database": url.split(":", 1)[0], "rounds": args.rounds,
    }
    default = measure(app, client, f"/interviews/{big_id}/queue", args.rounds)
    by_rating = measure(app, client, f"/interviews/{big_id}/queue?sort=rating_high&graded=mine",
                        args.rounds)
    small_default = measure(app, client, f"/interviews/{small_id}/queue", args.rounds)
    dash = measure(app, owner_client, f"/interviews/{big_id}/dashboard", args.rounds)
    small_dash = measure(app, owner_client, f"/interviews/{small_id}/dashboard", args.rounds)
    landing = landing_pages(app, tokens, args.rounds)
    result.update(
        queue_p50_ms=default["p50_ms"], queue_p95_ms=default["p95_ms"], queries=default["queries"],
        queue_cpu_p50_ms=default["cpu_p50_ms"],
        queries_at_100_candidates=small_default["queries"],
        queue_at_100_candidates_p50_ms=small_default["p50_ms"],
        queue_sorted_by_rating={k: by_rating[k] for k in ("p50_ms", "p95_ms", "cpu_p50_ms", "queries")},
        target_p95_ms=100, meets_target=default["p95_ms"] < 100 and by_rating["p95_ms"] < 100,
        dashboard_p50_ms=dash["p50_ms"], dashboard_p95_ms=dash["p95_ms"],
        dashboard_cpu_p50_ms=dash["cpu_p50_ms"],
        dashboard_queries=dash["queries"], dashboard_queries_at_100_candidates=small_dash["queries"],
        dashboard_target_p95_ms=150, dashboard_meets_target=dash["p95_ms"] < 150,
        **landing,
    )
    return finish(app, result, load_start)


def finish(app, result: dict, load_start: float) -> int:
    """Add the machine and the date to the figures, print them as JSON, and close the database."""
    from app.extensions import db

    result.update(machine={"cores": os.cpu_count(), "python": platform.python_version(),
                           "loadavg_1m_at_start": load_start, "loadavg_1m": round(os.getloadavg()[0], 2)},
                  date=datetime.now(UTC).isoformat(timespec="seconds"))
    print(json.dumps(result, indent=2))
    with app.app_context():
        db.engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
