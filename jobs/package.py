"""Job: write the candidate's review package, a versioned manifest.json, once every answer is ready."""

from __future__ import annotations

import json
import logging

from jobs import app_context

log = logging.getLogger(__name__)


def run(candidate_id: int) -> None:
    from app.extensions import db
    from app.models import Candidate
    from app.services.package import build_manifest
    from app.services.takes import current_answers
    from app.states import AnswerStatus, CandidateStatus
    from app.storage import candidate_prefix, current_storage

    with app_context():
        candidate = db.session.get(Candidate, candidate_id)
        if candidate is None or candidate.status != CandidateStatus.COMPLETED:
            return
        answers = current_answers(candidate)
        if not answers or any(a.status != AnswerStatus.READY for a in answers.values()):
            log.info("package for candidate %s waits for answers", candidate.public_id)
            return
        manifest = build_manifest(candidate, answers)
        key = candidate_prefix(candidate.public_id) + "manifest.json"
        current_storage().put_bytes(key, json.dumps(manifest, indent=2).encode(), "application/json")
        candidate.package_key = key
        candidate.package_version = manifest["package_version"]
        db.session.commit()
        log.info("package v%s written for candidate %s", candidate.package_version,
                 candidate.public_id)
