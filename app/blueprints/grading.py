"""Grading. It owns every /review/... URL: one candidate's page, scores, submitting a review, decisions,
processing an answer again, its status, erasure and the ZIP. Per interview: the queue, the next
candidate, search, the scores CSV and how reviewers see candidates."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user, login_required

from app.errors import flash_refusal, form_refusal, wants_json
from app.extensions import db
from app.services import (
    access,
    ai_evaluation,
    anonymity,
    backlog,
    candidate_queue,
    export,
    grading,
    pipeline,
    reprocess,
    retention,
    rights,
    scoring,
    search,
)
from app.services.interviews import get_interview

bp = Blueprint("grading", __name__)


@bp.before_request
@login_required
def _staff_only():
    return None


@bp.get("/interviews/<public_id>/queue")
def queue(public_id: str):
    interview = get_interview(current_user, public_id)
    filters = candidate_queue.parse_filters(request.args)
    page = candidate_queue.queue(current_user, interview, filters)
    return render_template("grading/queue.html", interview=interview, page=page, filters=filters,
                           sorts=candidate_queue.sorts(current_user, interview),
                           graded=candidate_queue.GRADED, backlog=backlog.for_interview(interview.id))


@bp.get("/interviews/<public_id>/next")
def next_candidate(public_id: str):
    """The next candidate I have not graded (after ?after=<candidate>), or back to the queue."""
    interview = get_interview(current_user, public_id)
    after = request.args.get("after")
    current = access.get_candidate(current_user, after) if after else None
    found = candidate_queue.next_ungraded(current_user, interview, current)
    if found is None:
        flash("You have graded every candidate with a recording in this interview.", "info")
        return redirect(url_for(".queue", public_id=public_id))
    return redirect(url_for(".candidate", public_id=found.public_id))


@bp.get("/review/candidates/<public_id>")
def candidate(public_id: str):
    cand = access.get_candidate(current_user, public_id)
    mine = grading.my_review(current_user, cand)
    hidden = anonymity.hides_identity(current_user, cand.interview)
    items = scoring.question_items(current_user, cand)
    # Blind by default: the others' scores (and the AI's view of an answer, until this grader has
    # scored it) are loaded only once this grader has submitted.
    return render_template("grading/candidate.html", candidate=cand, items=items, my_review=mine,
                           ai=ai_evaluation.for_grader(current_user, cand, items, mine is not None),
                           ai_total=ai_evaluation.overall(cand) if mine else None,
                           ai_summary=ai_evaluation.current_summary(cand) if mine else None,
                           ai_left_out=ai_evaluation.left_out(cand) if mine else [],
                           summary=grading.summary(cand) if mine else None,
                           decisions=grading.decisions(cand), grading=grading,
                           previous=access.previous_candidate(cand), hide_identity=hidden,
                           label=f"Candidate {anonymity.number(cand)}" if hidden else cand.name,
                           mode=anonymity.media_mode(current_user, cand.interview),
                           steps=pipeline.steps, place=backlog.place, sound_only=anonymity.sound_only,
                           rereview=rights.open_rereview(cand) if current_user.can_author else None)


@bp.post("/review/candidates/<public_id>/questions/<question_id>/score")
def score(public_id: str, question_id: str):
    cand = access.get_candidate(current_user, public_id)
    with flash_refusal():
        saved = scoring.save_score(current_user, cand, question_id, request.form.get("value", ""),
                                   request.form.get("comment", ""), scoring.criteria_from_form(request.form))
        if wants_json():  # review.js saves in place
            return jsonify(value=saved.value, comment=saved.comment)
        flash("Score saved.", "info")
    return redirect(url_for(".candidate", public_id=public_id, _anchor=f"q-{question_id}"))


@bp.post("/review/candidates/<public_id>/submit")
def submit(public_id: str):
    cand = access.get_candidate(current_user, public_id)
    with flash_refusal():
        grading.submit_review(current_user, cand, request.form.get("recommendation", ""),
                              request.form.get("comment", ""))
        flash("Review submitted. The other graders' scores are now shown.", "info")
    return redirect(url_for(".candidate", public_id=public_id, _anchor="overall"))


@bp.post("/review/candidates/<public_id>/reveal")
def reveal(public_id: str):
    cand = access.get_candidate(current_user, public_id)
    grading.reveal_without_grading(current_user, cand)
    flash("Scores shown. You will not grade this candidate.", "info")
    return redirect(url_for(".candidate", public_id=public_id, _anchor="overall"))


@bp.post("/review/candidates/<public_id>/decision")
def decide(public_id: str):
    cand = access.get_candidate(current_user, public_id)
    with flash_refusal():
        d = grading.decide(current_user, cand, request.form.get("value", ""), request.form.get("note", ""),
                           request.form.get("candidate_message", ""))
        flash(f"Decision recorded: {grading.DECISION_LABELS[d.value]}.", "info")
    return redirect(url_for(".candidate", public_id=public_id, _anchor="decision"))


@bp.route("/review/candidates/<public_id>/erase", methods=["GET", "POST"])
def erase(public_id: str):
    """An owner deletes everything about a candidate now: a page that says what goes, then a POST."""
    cand = retention.erasable(current_user, public_id)
    if request.method == "GET":
        return render_template("grading/erase.html", candidate=cand, held=retention.holdings(cand))
    interview_id = cand.interview.public_id
    with form_refusal() as refused:
        purged = retention.erase(current_user, public_id, request.form.get("confirm") == "yes")
    if refused:
        return render_template("grading/erase.html", candidate=cand, held=retention.holdings(cand),
                               error=refused.message), refused.status
    flash(f"The candidate's data was deleted: {purged.answers} answer(s) and {purged.objects} stored "
          "file(s), with their scores, reviews and decisions.", "info")
    return redirect(url_for("interviews.show", public_id=interview_id))


@bp.post("/review/candidates/<public_id>/rereview/answered")
def rereview_answered(public_id: str):
    """The candidate's request for a new review has been dealt with (a decision made again)."""
    with flash_refusal():
        rights.handle_rereview(current_user, public_id)
        flash("The request for a new review is marked as answered.", "info")
    return redirect(url_for(".candidate", public_id=public_id, _anchor="requests"))


@bp.get("/review/candidates/<public_id>/export.zip")
def candidate_zip(public_id: str):
    """The candidate's whole file as a ZIP, streamed as it is built."""
    cand, scores, ai_seen = export.start_candidate_export(current_user, public_id)
    body = stream_with_context(export.stream_zip(export.candidate_entries(
        cand.id, include_scores=scores, ai_questions=ai_seen)))
    resp = Response(body, mimetype="application/zip", direct_passthrough=True)
    resp.headers["Content-Disposition"] = f'attachment; filename="oneway-{cand.public_id}.zip"'
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


@bp.post("/review/answers/<public_id>/retry")
def retry(public_id: str):
    answer = access.get_answer(current_user, public_id)
    try:
        reprocess.retry(current_user, answer)
        flash("Processing started again.", "info")
    except ValueError as e:  # an illegal move, or an answer never uploaded whole: say why
        db.session.rollback()
        flash(f"Could not retry: {e}", "error")
    return redirect(url_for(".candidate", public_id=answer.candidate.public_id))


@bp.get("/review/answers/<public_id>/status")
def answer_status(public_id: str):
    """Where an answer is in its processing; the grader's page asks while it waits."""
    answer = access.get_answer(current_user, public_id)
    where = backlog.place(answer)
    return jsonify(status=answer.status, failure_reason=answer.failure_reason,
                   steps=pipeline.steps(answer), place=where.place if where else None,
                   minutes=where.minutes if where else None)


@bp.get("/interviews/<public_id>/scores.csv")
def export_scores(public_id: str):
    interview = get_interview(current_user, public_id)
    body = stream_with_context(grading.scores_csv(grading.start_scores_export(current_user, interview)))
    resp = Response(body, mimetype="text/csv")
    resp.headers["Content-Disposition"] = (f'attachment; filename="scores-{interview.public_id}-'
                                           f'{grading.stamp()}.csv"')
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


@bp.get("/interviews/<public_id>/search")
def search_answers(public_id: str):
    """Where words are spoken in the interview's answers; each hit opens the answer at that moment."""
    interview = get_interview(current_user, public_id)
    query = request.args.get("q", "")
    hits = []
    with form_refusal() as refused:
        if query.strip():
            hits = search.search(current_user, interview, query)
    return render_template("grading/search.html", interview=interview, query=query, hits=hits,
                           error=refused.message, max_hits=search.MAX_HITS), refused.status


@bp.post("/interviews/<public_id>/review-mode")
def review_mode(public_id: str):
    interview = get_interview(current_user, public_id)
    with flash_refusal():
        anonymity.set_mode(current_user, interview, request.form.get("anonymous") == "on",
                           request.form.get("review_media", ""))
        flash("Review settings saved.", "info")
    return redirect(url_for("interviews.show", public_id=public_id, _anchor="review-mode"))
