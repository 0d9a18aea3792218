"""Job: a candidate's complete erasure asked for through the API (app.services.api.request_erasure)."""

from __future__ import annotations

import logging

from jobs import app_context

log = logging.getLogger(__name__)


def run(erasure_id: int) -> None:
    """Erase the candidate as an owner's erasure does, and record how it went on the row. Safe to
    run twice: a done erasure is left alone, and a candidate already gone counts as erased."""
    from app.extensions import db
    from app.models import ApiErasure, ApiKey, Candidate, utcnow
    from app.services.api_keys import acting_user
    from app.services.retention import purge_candidate
    from app.storage import StorageError

    with app_context():
        erasure = db.session.get(ApiErasure, erasure_id)
        if erasure is None or erasure.status == "done":
            return
        candidate = db.session.execute(db.select(Candidate).filter_by(
            public_id=erasure.candidate_public_id, org_id=erasure.org_id)).scalar_one_or_none()
        key = db.session.get(ApiKey, erasure.api_key_id) if erasure.api_key_id else None
        try:
            if candidate is not None:
                purge_candidate(candidate, erased_by=acting_user(key) if key else None)
        except StorageError as exc:
            db.session.rollback()
            erasure = db.session.get(ApiErasure, erasure_id)
            erasure.status, erasure.failure_reason = "failed", f"The file store did not answer: {exc}"[:2000]
            erasure.finished_at = utcnow()
            db.session.commit()
            raise
        erasure = db.session.get(ApiErasure, erasure_id)
        erasure.status, erasure.failure_reason, erasure.finished_at = "done", None, utcnow()
        db.session.commit()
        log.info("api erasure %s: candidate %s erased", erasure.public_id, erasure.candidate_public_id)
