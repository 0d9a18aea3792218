"""Downloads for staff: a candidate's whole review as a ZIP, streamed as it is built."""

from __future__ import annotations

from flask import Blueprint, Response, stream_with_context
from flask_login import current_user, login_required

from app.services import ServiceError, grading, review
from app.services.export import candidate_entries, stream_zip

bp = Blueprint("export", __name__)


@bp.get("/review/candidates/<public_id>/export.zip")
@login_required
def candidate_zip(public_id: str):
    candidate = review.get_candidate(current_user, public_id)
    if not current_user.can_author:  # names and media whole: not for (possibly anonymised) reviewers
        raise ServiceError("Only owners and recruiters may download a candidate's whole review.", 403)
    name = f"oneway-{candidate.public_id}.zip"
    scores = grading.my_review(current_user, candidate) is not None  # the blind rule holds here too
    body = stream_with_context(stream_zip(candidate_entries(candidate, include_scores=scores)))
    resp = Response(body, mimetype="application/zip", direct_passthrough=True)
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    resp.headers["Cache-Control"] = "private, no-store"
    return resp
