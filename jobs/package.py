"""Job: write the candidate's review package, a versioned manifest.json, once every answer is ready."""

from __future__ import annotations

import json
import logging

from jobs import app_context

log = logging.getLogger(__name__)
SCHEMA_VERSION = 1


def build_manifest(candidate, answers: dict) -> dict:
    """The manifest described in docs/review-package.md."""
    from app.models import utcnow

    items = []
    for q in candidate.interview.questions:
        a = answers.get(q.id)
        entry = {"question": {"id": q.public_id, "position": q.position + 1, "prompt": q.prompt,
                              "think_seconds": q.think_seconds, "answer_seconds": q.answer_seconds}}
        if a is not None:
            t = a.transcript or {}
            entry["answer"] = {
                "id": a.public_id, "take": a.take, "status": a.status,
                "duration_s": a.duration_s,
                "media": {"key": a.mp4_key, "content_type": "video/mp4" if a.width else "audio/mp4",
                          "size": a.mp4_size, "width": a.width, "height": a.height},
                "original": {"key": a.original_key, "content_type": a.content_type,
                             "size": a.original_size, "sha256": a.original_sha256},
                "poster": {"key": a.poster_key} if a.poster_key else None,
                "captions": {"key": a.captions_key, "content_type": "text/vtt"},
                "transcript": {"language": t.get("language"), "text": t.get("text", ""),
                               "segments": t.get("segments", []), "model": t.get("model")},
            }
        items.append(entry)
    return {
        "schema_version": SCHEMA_VERSION,
        "package_version": candidate.package_version + 1,
        "generated_at": utcnow().isoformat(),
        "candidate": {"id": candidate.public_id, "status": candidate.status,
                      "completed_at": candidate.completed_at.isoformat()
                      if candidate.completed_at else None},
        "interview": {"id": candidate.interview.public_id, "title": candidate.interview.title},
        "items": items,
    }


def run(candidate_id: int) -> None:
    from app import states
    from app.extensions import db
    from app.models import Candidate
    from app.services import storage
    from app.services.recording import current_answers

    with app_context():
        candidate = db.session.get(Candidate, candidate_id)
        if candidate is None or candidate.status != "completed":
            return
        answers = current_answers(candidate)
        if not answers or any(a.status != states.READY for a in answers.values()):
            log.info("package for candidate %s waits for answers", candidate.public_id)
            return
        manifest = build_manifest(candidate, answers)
        key = f"candidates/{candidate.public_id}/manifest.json"
        storage().put_bytes(key, json.dumps(manifest, indent=2).encode(), "application/json")
        candidate.package_key = key
        candidate.package_version = manifest["package_version"]
        db.session.commit()
        log.info("package v%s written for candidate %s", candidate.package_version,
                 candidate.public_id)
