"""Grading: the queue, the next candidate to grade, submitting a review, decisions, CSV export."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user, login_required

from app.services import ServiceError, anonymity
from app.services import candidate_queue as queue_svc
from app.services import grading as svc
from app.services import search as search_svc
from app.services.interviews import get_interview
from app.services.review import get_candidate

bp = Blueprint("grading", __name__)


@bp.before_request
@login_required
def _staff_only():
    return None


@bp.get("/interviews/<public_id>/queue")
def queue(public_id: str):
    interview = get_interview(current_user, public_id)
    filters = queue_svc.parse_filters(request.args)
    page = queue_svc.queue(current_user, interview, filters)
    return render_template("grading/queue.html", interview=interview, page=page, filters=filters,
                           sorts=queue_svc.sorts(current_user, interview), graded=queue_svc.GRADED)


@bp.get("/interviews/<public_id>/next")
def next_candidate(public_id: str):
    """The next candidate I have not graded (after ?after=<candidate>), or back to the queue."""
    interview = get_interview(current_user, public_id)
    after = request.args.get("after")
    current = get_candidate(current_user, after) if after else None
    found = queue_svc.next_ungraded(current_user, interview, current)
    if found is None:
        flash("You have graded every candidate with a recording in this interview.", "info")
        return redirect(url_for(".queue", public_id=public_id))
    return redirect(url_for("review.candidate", public_id=found.public_id))


@bp.post("/review/candidates/<public_id>/submit")
def submit(public_id: str):
    cand = get_candidate(current_user, public_id)
    try:
        svc.submit_review(current_user, cand, request.form.get("recommendation", ""),
                          request.form.get("comment", ""))
        flash("Review submitted. The other graders' scores are now shown.", "info")
    except ServiceError as e:
        if e.status == 404:
            raise
        flash(e.message, "error")
    return redirect(url_for("review.candidate", public_id=public_id, _anchor="overall"))


@bp.post("/review/candidates/<public_id>/reveal")
def reveal(public_id: str):
    cand = get_candidate(current_user, public_id)
    svc.reveal_without_grading(current_user, cand)
    flash("Scores shown. You will not grade this candidate.", "info")
    return redirect(url_for("review.candidate", public_id=public_id, _anchor="overall"))


@bp.post("/review/candidates/<public_id>/decision")
def decide(public_id: str):
    cand = get_candidate(current_user, public_id)
    try:
        d = svc.decide(current_user, cand, request.form.get("value", ""), request.form.get("note", ""))
        flash(f"Decision recorded: {svc.DECISION_LABELS[d.value]}.", "info")
    except ServiceError as e:
        if e.status in (403, 404):
            raise
        flash(e.message, "error")
    return redirect(url_for("review.candidate", public_id=public_id, _anchor="decision"))


@bp.get("/interviews/<public_id>/scores.csv")
def export_scores(public_id: str):
    interview = get_interview(current_user, public_id)
    body = stream_with_context(svc.scores_csv(svc.start_scores_export(current_user, interview)))
    resp = Response(body, mimetype="text/csv")
    resp.headers["Content-Disposition"] = (f'attachment; filename="scores-{interview.public_id}-'
                                           f'{svc.stamp()}.csv"')
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


@bp.get("/interviews/<public_id>/search")
def search(public_id: str):
    """Where words are spoken in the interview's answers; each hit opens the answer at that moment."""
    interview = get_interview(current_user, public_id)
    query = request.args.get("q", "")
    hits, error = [], None
    if query.strip():
        try:
            hits = search_svc.search(current_user, interview, query)
        except ServiceError as e:
            error = e.message
    return render_template("grading/search.html", interview=interview, query=query, hits=hits,
                           error=error, max_hits=search_svc.MAX_HITS), 400 if error else 200


@bp.post("/interviews/<public_id>/review-mode")
def review_mode(public_id: str):
    interview = get_interview(current_user, public_id)
    try:
        anonymity.set_mode(current_user, interview, request.form.get("anonymous") == "on",
                           request.form.get("review_media", ""))
        flash("Review settings saved.", "info")
    except ServiceError as e:
        if e.status == 403:
            raise
        flash(e.message, "error")
    return redirect(url_for("interviews.show", public_id=public_id, _anchor="review-mode"))
