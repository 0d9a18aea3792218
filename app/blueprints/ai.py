"""AI assistance for staff: an interview's AI settings and agreement figures, drafting questions and
ideal answers (a job, with a page that follows it), and, on a candidate, flagging an evaluation or
asking for a new one. Every view only parses, calls one service and renders or redirects."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.errors import flash_refusal
from app.services import access, ai_drafting, ai_evaluation
from app.services.interviews import get_interview

bp = Blueprint("ai", __name__)


@bp.before_request
@login_required
def _staff_only():
    return None


@bp.get("/interviews/<public_id>/ai")
def index(public_id: str):
    """The interview's AI page: settings, agreement with the graders, drafting."""
    interview = get_interview(current_user, public_id)
    return render_template("ai/index.html", interview=interview,
                           agreement=ai_evaluation.agreement(interview),
                           default_count=ai_drafting.DEFAULT_COUNT)


@bp.post("/interviews/<public_id>/ai/options")
def options(public_id: str):
    interview = get_interview(current_user, public_id)
    with flash_refusal():
        ai_evaluation.set_options(current_user, interview, request.form.get("evaluation") == "on",
                                  request.form.get("before_grading") == "on")
        flash("AI assistance settings saved.", "info")
    return redirect(url_for(".index", public_id=public_id))


@bp.post("/interviews/<public_id>/ai/drafts")
def draft_questions(public_id: str):
    interview = get_interview(current_user, public_id)
    row = None
    with flash_refusal():
        row = ai_drafting.start_questions(current_user, interview, request.form.get("job_description", ""),
                                          request.form.get("count", ""))
    if row is None:
        return redirect(url_for(".index", public_id=public_id))
    return redirect(url_for(".draft", public_id=public_id, draft_id=row.public_id))


@bp.post("/interviews/<public_id>/questions/<question_id>/ai-ideal")
def draft_ideal(public_id: str, question_id: str):
    interview = get_interview(current_user, public_id)
    row = None
    with flash_refusal():
        row = ai_drafting.start_ideal(current_user, interview, question_id)
    if row is None:
        return redirect(url_for("interviews.show", public_id=public_id, _anchor="qs"))
    return redirect(url_for(".draft", public_id=public_id, draft_id=row.public_id))


@bp.get("/interviews/<public_id>/ai/drafts/<draft_id>")
def draft(public_id: str, draft_id: str):
    """The draft's page: refreshes itself while the job runs, then one form per suggestion."""
    interview = get_interview(current_user, public_id)
    row = ai_drafting.get(current_user, interview, draft_id)
    return render_template("ai/draft.html", interview=interview, draft=row)


@bp.post("/interviews/<public_id>/ai/drafts/<draft_id>/items/<index>")
def draft_item(public_id: str, draft_id: str, index: str):
    """Accept (as drafted or edited) or discard one suggestion."""
    interview = get_interview(current_user, public_id)
    row = ai_drafting.get(current_user, interview, draft_id)
    with flash_refusal():
        if request.form.get("action") == "discard":
            ai_drafting.discard(current_user, interview, row, index)
            flash("Suggestion discarded.", "info")
        else:
            ai_drafting.accept(current_user, interview, row, index, request.form.get("prompt", ""),
                               request.form.get("ideal_answer", ""), request.form.get("criteria", ""))
            flash("Suggestion added to the interview." if row.kind == "questions"
                  else "Ideal answer saved.", "info")
    return redirect(url_for(".draft", public_id=public_id, draft_id=draft_id))


@bp.post("/ai/candidates/<public_id>/evaluations/<evaluation_id>/flag")
def flag(public_id: str, evaluation_id: str):
    cand = access.get_candidate(current_user, public_id)
    with flash_refusal():
        row = ai_evaluation.flag(current_user, cand, evaluation_id, request.form.get("note", ""))
        flash("Thank you: the AI evaluation is marked as wrong, with your note.", "info")
        return redirect(url_for("grading.candidate", public_id=public_id, _anchor=f"ai-{row.public_id}"))
    return redirect(url_for("grading.candidate", public_id=public_id))


@bp.post("/ai/candidates/<public_id>/questions/<question_id>/evaluate")
def evaluate_again(public_id: str, question_id: str):
    cand = access.get_candidate(current_user, public_id)
    question = next((q for q in cand.interview.questions if q.public_id == question_id), None)
    if question is None:
        abort(404)
    with flash_refusal():
        ai_evaluation.evaluate_again(current_user, cand, question)
        flash("A new AI evaluation was asked for; the old one is kept.", "info")
    return redirect(url_for("grading.candidate", public_id=public_id, _anchor=f"q-{question_id}"))
