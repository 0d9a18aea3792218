"""Graders: one candidate at a time, the answers' media, transcripts and scores."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from minio.error import S3Error

from app.delivery import require, stream_object
from app.extensions import db
from app.media.captions import to_webvtt
from app.services import ServiceError, anonymity, grading, pipeline, retention
from app.services import review as svc

bp = Blueprint("review", __name__)


@bp.before_request
@login_required
def _staff_only():
    return None


@bp.get("/review/candidates/<public_id>")
def candidate(public_id: str):
    cand = svc.get_candidate(current_user, public_id)
    mine = grading.my_review(current_user, cand)
    hidden = anonymity.hides_identity(current_user, cand.interview)
    # Blind by default: the others' scores are loaded only once this grader has submitted.
    return render_template("review/candidate.html", candidate=cand,
                           items=svc.review_items(current_user, cand), my_review=mine,
                           summary=grading.summary(cand) if mine else None,
                           decisions=grading.decisions(cand), grading=grading,
                           previous=svc.previous_candidate(cand), hide_identity=hidden,
                           label=f"Candidate {anonymity.number(cand)}" if hidden else cand.name,
                           mode=anonymity.media_mode(current_user, cand.interview),
                           steps=pipeline.steps, sound_only=svc.sound_only)


@bp.route("/review/candidates/<public_id>/erase", methods=["GET", "POST"])
def erase(public_id: str):
    """An owner deletes everything about a candidate now: a page that says what goes, then a POST."""
    cand = retention.erasable(current_user, public_id)
    if request.method == "GET":
        return render_template("review/erase.html", candidate=cand, held=retention.holdings(cand))
    interview_id = cand.interview.public_id
    try:
        purged = retention.erase(current_user, public_id, request.form.get("confirm") == "yes")
    except ServiceError as e:
        if e.status in (403, 404):
            raise
        return render_template("review/erase.html", candidate=cand, held=retention.holdings(cand),
                               error=e.message), e.status
    flash(f"The candidate's data was deleted: {purged.answers} answer(s) and {purged.objects} stored "
          "file(s), with their scores, reviews and decisions.", "info")
    return redirect(url_for("interviews.show", public_id=interview_id))


@bp.post("/review/candidates/<public_id>/questions/<question_id>/score")
def score(public_id: str, question_id: str):
    cand = svc.get_candidate(current_user, public_id)
    wants_json = request.accept_mimetypes.best == "application/json"  # review.js saves in place
    try:
        saved = svc.save_score(current_user, cand, question_id, request.form.get("value", ""),
                               request.form.get("comment", ""), svc.criteria_from_form(request.form))
        if wants_json:
            return jsonify(value=saved.value, comment=saved.comment)
        flash("Score saved.", "info")
    except ServiceError as e:
        if e.status == 404 or wants_json:
            raise
        flash(e.message, "error")
    return redirect(url_for(".candidate", public_id=public_id, _anchor=f"q-{question_id}"))


@bp.post("/review/answers/<public_id>/retry")
def retry(public_id: str):
    answer = svc.get_answer(current_user, public_id)
    try:
        svc.retry(current_user, answer)
        flash("Processing started again.", "info")
    except ValueError as e:  # an illegal move, or an answer never uploaded whole: say why
        db.session.rollback()
        flash(f"Could not retry: {e}", "error")
    return redirect(url_for(".candidate", public_id=answer.candidate.public_id))


@bp.get("/review/answers/<public_id>/status")
def answer_status(public_id: str):
    """Where an answer is in its processing; the grader's page asks while it waits."""
    answer = svc.get_answer(current_user, public_id)
    return jsonify(status=answer.status, failure_reason=answer.failure_reason,
                   steps=pipeline.steps(answer))


@bp.get("/media/answers/<public_id>/video")
def video(public_id: str):
    answer = svc.get_answer(current_user, public_id)
    if anonymity.media_mode(current_user, answer.candidate.interview) != "video":
        abort(403)
    content_type = "video/mp4" if answer.width else "audio/mp4"
    return stream_object(require(answer.mp4_key), answer.mp4_size, content_type)


@bp.get("/media/answers/<public_id>/poster.jpg")
def poster(public_id: str):
    answer = svc.get_answer(current_user, public_id)
    interview = answer.candidate.interview
    if anonymity.hides_identity(current_user, interview) or \
            anonymity.media_mode(current_user, interview) != "video":
        abort(403)
    return stream_object(require(answer.poster_key), answer.poster_size, "image/jpeg")


@bp.get("/media/answers/<public_id>/audio")
def audio(public_id: str):
    """The answer's sound alone, for audio-only review: never a file that holds the picture."""
    answer = svc.get_answer(current_user, public_id)
    if anonymity.media_mode(current_user, answer.candidate.interview) == "transcript":
        abort(403)
    found = svc.sound_only(answer)
    if found is None:
        raise ServiceError("This answer's sound is not available without its picture; its transcript "
                           "is on the candidate's page.", 404)
    key, content_type = found
    if key == answer.mp4_key:
        return stream_object(key, answer.mp4_size, content_type)
    # The WAV's size is not kept on the row; ask the bucket (S3 HEAD) rather than widen the schema.
    store = current_app.extensions["oneway_storage"]
    try:
        size = store.client.stat_object(store.bucket, key).size
    except S3Error:
        abort(404, "This file is not available.")
    return stream_object(key, size, content_type)


@bp.get("/media/answers/<public_id>/captions.vtt")
def captions(public_id: str):
    answer = svc.get_answer(current_user, public_id)
    require(answer.transcript)
    body = to_webvtt(answer.transcript.get("segments", []))
    return body, 200, {"Content-Type": "text/vtt; charset=utf-8", "Cache-Control": "private"}
