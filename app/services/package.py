"""The candidate package's manifest (docs/candidate-package.md), built from the database."""

from __future__ import annotations

from app.models import Candidate, utcnow

SCHEMA_VERSION = 1


def build_manifest(candidate: Candidate, answers: dict) -> dict:
    """The manifest described in docs/candidate-package.md."""
    items = []
    for q in candidate.questions:
        a = answers.get(q.id)
        entry = {"question": {"id": q.public_id, "position": q.position + 1, "prompt": q.prompt,
                              "think_seconds": q.think_seconds, "answer_seconds": q.answer_seconds}}
        if a is not None:
            t = a.transcript or {}
            entry["answer"] = {
                "id": a.public_id, "take": a.take, "status": a.status,
                "duration_s": a.duration_s,
                "kind": q.kind,
                "media": {"key": a.mp4_key, "content_type": "video/mp4" if a.width else "audio/mp4",
                          "size": a.mp4_size, "width": a.width, "height": a.height}
                if a.mp4_key else None,
                "written_text": a.written_text,
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
