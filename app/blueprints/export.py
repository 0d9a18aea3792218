"""Downloads for staff: a candidate's whole review as a ZIP, streamed as it is built."""

from __future__ import annotations

from flask import Blueprint, Response, stream_with_context
from flask_login import current_user, login_required

from app.services.export import candidate_entries, start_candidate_export, stream_zip

bp = Blueprint("export", __name__)


@bp.get("/review/candidates/<public_id>/export.zip")
@login_required
def candidate_zip(public_id: str):
    candidate, scores = start_candidate_export(current_user, public_id)
    name = f"oneway-{candidate.public_id}.zip"
    body = stream_with_context(stream_zip(candidate_entries(candidate.id, include_scores=scores)))
    resp = Response(body, mimetype="application/zip", direct_passthrough=True)
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    resp.headers["Cache-Control"] = "private, no-store"
    return resp
