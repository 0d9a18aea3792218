"""GET /healthz: the state of the database, Redis, the S3 bucket and the workers, as JSON."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from rq import Worker

from app.extensions import db
from app.queue import QUEUES, redis_conn

bp = Blueprint("health", __name__)


def _check(fn):
    try:
        return {"ok": True, **(fn() or {})}
    except Exception as exc:  # a health check reports every failure, whatever its kind
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}


@bp.get("/healthz")
def healthz():
    def database():
        db.session.execute(db.text("SELECT 1"))
        return {"backend": db.engine.dialect.name}

    def redis():
        redis_conn().ping()

    def storage():
        if not current_app.extensions["oneway_storage"].bucket_ok():
            raise RuntimeError(f"bucket {current_app.config['S3_BUCKET']!r} is missing")
        return {"bucket": current_app.config["S3_BUCKET"]}

    def workers():
        found = Worker.all(connection=redis_conn())
        served = sorted({q for w in found for q in w.queue_names()})
        missing = [q for q in QUEUES if q not in served]
        if missing:
            raise RuntimeError(f"no worker serves queue(s) {', '.join(missing)}")
        return {"count": len(found), "queues": served}

    checks = {"database": _check(database), "redis": _check(redis), "storage": _check(storage)}
    checks["workers"] = _check(workers) if checks["redis"]["ok"] else {"ok": False, "error": "no redis"}
    ok = all(c["ok"] for c in checks.values())
    return jsonify(status="ok" if ok else "degraded", checks=checks), 200 if ok else 503
