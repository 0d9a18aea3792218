"""Fairness benchmark: the owners' adverse-impact report at 5,000 candidates (server time), and the
peak memory of a candidate's own ZIP download of 10 answers of 60 s (it must not grow with size).

    .venv/bin/python bench/fairness.py > bench/results/fairness-$(date +%F).json

It builds a migrated SQLite database in a temporary folder and starts a private redis-server and
`rclone serve s3` (stack/services.py). One interview gets --candidates finished candidates, each
with voluntary self-identification (sex x race, some preferring not to say), a decision and a
rating, and --graders graders' submitted scores. The report page (per interview and for the
organisation), its CSV and the graders' page are requested with Flask's test client (server time
only). Then one candidate gets --answers answers of --seconds s at --kbps (the prepared MP4 and the
recording as received, both stored), and their ZIP is read through to the end while tracemalloc
records the peak of Python's allocations; the same at a tenth of the length shows whether the peak
grows with the media's size. One JSON object goes to stdout; progress to stderr.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.review import finish, log, measure  # noqa: E402

SEXES = ["female", "male", None]
RACES = ["hispanic_latino", "white", "black", "pacific_islander", "asian", "american_indian", "two_or_more",
         None]


def fill(db, interview, graders, n: int) -> None:
    """Bulk-insert n finished candidates with self-identification, a decision, a rating and scores."""
    import sqlalchemy as sa

    from app.models import Candidate, CandidateStats, Review, Score, SelfIdentification

    now = datetime.now(UTC)
    rows = [dict(public_id=secrets.token_urlsafe(12), org_id=interview.org_id, interview_id=interview.id,
                 name=f"Candidate {i}", email=f"c{i}@example.com", token_hash=secrets.token_hex(32),
                 expires_at=now + timedelta(days=14), status="completed", package_version=0,
                 completed_at=now - timedelta(minutes=i), created_at=now, updated_at=now) for i in range(n)]
    db.session.execute(sa.insert(Candidate.__table__), rows)
    ids = list(db.session.execute(sa.select(Candidate.id).where(Candidate.interview_id == interview.id)
                                  .order_by(Candidate.id)).scalars())
    q = interview.questions[0]
    selfids, stats, reviews, scores = [], [], [], []
    for k, cid in enumerate(ids):
        sex, race = SEXES[k % 3], RACES[(k * 7) % 8]
        if sex or race:
            selfids.append(dict(candidate_id=cid, sex=sex, race=race, created_at=now, updated_at=now))
        values = [1 + (k + g * 2) % 5 for g in range(len(graders))]
        stats.append(dict(candidate_id=cid, rating=sum(values) / len(values), reviews=len(graders),
                          decision="advance" if (k % 5) < (2 if sex == "female" else 3) else "reject",
                          updated_at=now))
        for g, v in zip(graders, values, strict=True):
            reviews.append(dict(candidate_id=cid, user_id=g.id, recommendation="yes", comment="",
                                submitted_at=now, created_at=now, updated_at=now))
            scores.append(dict(candidate_id=cid, question_id=q.id, user_id=g.id, value=v, comment="",
                               created_at=now, updated_at=now))
    for table, part in ((SelfIdentification.__table__, selfids), (CandidateStats.__table__, stats),
                        (Review.__table__, reviews), (Score.__table__, scores)):
        for i in range(0, len(part), 5000):
            db.session.execute(sa.insert(table), part[i:i + 5000])
    db.session.commit()


def zip_peak(app, owner, answers: int, size: int, work: Path) -> dict:
    """Stream one candidate's own ZIP of `answers` answers of `size` bytes (MP4 and original each);
    the peak of Python's allocations while it streams, and the bytes sent."""
    from app.extensions import db
    from app.models import Answer
    from app.services import interviews
    from app.services.interviews import QuestionInput
    from app.states import AnswerStatus
    from app.storage import current_storage

    blob = work / f"media-{size}.bin"
    with blob.open("wb") as f:
        block = os.urandom(1 << 20)
        left = size
        while left > 0:
            f.write(block[:min(left, len(block))])
            left -= len(block)
    with app.app_context():
        owner = db.session.merge(owner)
        qs = [QuestionInput(f"Question {i + 1}", 5, 90, 1) for i in range(answers)]
        iv = interviews.create_interview(owner, f"ZIP {size}", "", "en", qs)
        cand, token = interviews.invite_candidate(owner, iv, "Zip Candidate", "zip@example.com")
        store = current_storage()
        for q in iv.questions:
            public_id = secrets.token_urlsafe(12)
            mp4, original = f"answers/{public_id}/review.mp4", f"answers/{public_id}/original.webm"
            store.put_file(mp4, blob, "video/mp4")
            store.put_file(original, blob, "video/webm")
            db.session.add(Answer(public_id=public_id, candidate_id=cand.id, question_id=q.id, take=1,
                                  status=AnswerStatus.READY, content_type="video/webm", mp4_key=mp4,
                                  mp4_size=size, original_key=original, original_size=size, width=1280,
                                  height=720, duration_s=60.0, transcript={"text": "words", "segments": []}))
        cand.status = "completed"
        db.session.commit()
    client = app.test_client()
    tracemalloc.start()
    t0 = time.perf_counter()
    resp = client.get(f"/i/{token}/export.zip", buffered=False)
    sent = 0
    for piece in resp.response:
        sent += len(piece)
    resp.close()
    seconds = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert resp.status_code == 200 and sent > 2 * answers * size, (resp.status_code, sent)
    return {"answers": answers, "media_bytes_each": size, "zip_bytes": sent,
            "peak_python_alloc_mb": round(peak / 2**20, 2), "seconds": round(seconds, 2)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--candidates", type=int, default=5000)
    ap.add_argument("--graders", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--answers", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--kbps", type=int, default=2500, help="bit rate of each stored recording")
    args = ap.parse_args()
    from stack.services import free_port, start_redis, start_s3, stop

    tmp = tempfile.TemporaryDirectory(prefix="oneway-bench-fairness-")
    work = Path(tmp.name)
    redis_port, s3_port = free_port(), free_port()
    redis = start_redis(redis_port, work / "redis", persist=False)
    s3 = start_s3(s3_port, work / "s3", "bench-access", "bench-secret-key")
    try:
        return run(args, work, redis_port, s3_port)
    finally:
        stop(redis, s3)
        tmp.cleanup()


def run(args, work: Path, redis_port: int, s3_port: int) -> int:
    url = f"sqlite:///{work / 'bench.sqlite3'}"
    os.environ.update(ONEWAY_ENV="testing", SECRET_KEY="bench-not-secret", DATABASE_URL=url)
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from app.models import Role
    from app.services import accounts, interviews
    from app.services.interviews import QuestionInput
    from app.storage import current_storage
    from tests.helpers import CsrfClient

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SESSION_COOKIE_SECURE": False,
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1", "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
                      "S3_ENDPOINT": f"http://127.0.0.1:{s3_port}", "S3_ACCESS_KEY": "bench-access",
                      "S3_SECRET_KEY": "bench-secret-key", "S3_BUCKET": "bench"})
    load_start = round(os.getloadavg()[0], 2)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        current_storage().ensure_bucket()
        org = accounts.create_organisation("Bench")
        owner = accounts.create_user(org, "owner@bench.local", "Owner", "password123", Role.OWNER)
        graders = [accounts.create_user(org, f"g{i}@bench.local", f"Grader {i}", "password123", Role.REVIEWER)
                   for i in range(args.graders)]
        db.session.commit()
        iv = interviews.create_interview(owner, "Big", "", "en", [QuestionInput("Question 1")])
        log(f"filling {args.candidates} candidates ...")
        fill(db, iv, graders, args.candidates)
        iv_id = iv.public_id
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    client = CsrfClient(app.test_client())
    client.login("owner@bench.local")
    log("measuring the report ...")
    per_interview = measure(app, client, f"/fairness?interview={iv_id}", args.rounds)
    whole_org = measure(app, client, "/fairness", args.rounds)
    csv_export = measure(app, client, f"/fairness/report.csv?interview={iv_id}", max(5, args.rounds // 4))
    graders_page = measure(app, client, f"/fairness/graders?interview={iv_id}", max(5, args.rounds // 4))
    size = int(args.seconds * args.kbps * 1000 / 8)
    log(f"candidate ZIP: {args.answers} answers of {size} bytes (twice: recording and MP4) ...")
    small = zip_peak(app, owner, args.answers, size // 10, work)
    full = zip_peak(app, owner, args.answers, size, work)
    result = {
        "candidates": args.candidates, "graders": args.graders, "rounds": args.rounds, "database": "sqlite",
        "report_p50_ms": per_interview["p50_ms"], "report_p95_ms": per_interview["p95_ms"],
        "report_queries": per_interview["queries"], "report_cpu_p50_ms": per_interview["cpu_p50_ms"],
        "organisation_report_p95_ms": whole_org["p95_ms"], "csv_p95_ms": csv_export["p95_ms"],
        "graders_p95_ms": graders_page["p95_ms"], "target_p95_ms": 200,
        "meets_target": per_interview["p95_ms"] < 200 and whole_org["p95_ms"] < 200,
        "candidate_zip": full, "candidate_zip_tenth_size": small,
        "candidate_zip_peak_mb": full["peak_python_alloc_mb"],
        "zip_peak_grows_with_size": full["peak_python_alloc_mb"] > 2 * small["peak_python_alloc_mb"] + 1,
    }
    return finish(app, result, load_start)


if __name__ == "__main__":
    raise SystemExit(main())
