"""Writing interviews and inviting candidates (owners and recruiters); the list for every role."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app import mail
from app.errors import flash_refusal, form_refusal
from app.services import (
    access,
    accommodations,
    ai_evaluation,
    anonymity,
    authoring,
    backlog,
    candidate_queue,
    interviews,
    prompt_media,
    rights,
    team,
)
from app.services.forms import errors_of

bp = Blueprint("interviews", __name__)


@bp.before_request
@login_required
def _staff_only():
    return None


@bp.get("/")
def index():
    archived = request.args.get("archived") == "1"
    return render_template("interviews/index.html", archived=archived,
                           interviews=interviews.list_interviews(current_user, archived=archived),
                           requests=rights.pending(current_user))


def _spoken_guess() -> str:
    """The spoken language a new interview's form starts with: the author's browser's first language,
    else English. A set language keeps Whisper from detecting the wrong one on a short or accented
    answer; the author may change it, or clear it to detect per answer."""
    for asked, _quality in request.accept_languages:
        code = asked.split("-")[0].lower()
        if len(code) == 2 and code.isalpha():
            return code
    return "en"


@bp.route("/interviews/new", methods=["GET", "POST"])
def new():
    if request.method == "GET":
        return render_template("interviews/new.html", form={"language": _spoken_guess()}, errors={},
                               templates=authoring.list_templates(current_user))
    with form_refusal() as refused:
        interview = interviews.create_from_form(current_user, request.form)
    if refused:
        return render_template("interviews/new.html", form=request.form, errors=errors_of(refused),
                               templates=authoring.list_templates(current_user)), refused.status
    flash("Interview created.", "info")
    return redirect(url_for(".show", public_id=interview.public_id))


@bp.get("/interviews/<public_id>")
def show(public_id: str):
    interview = interviews.get_interview(current_user, public_id)
    page = candidate_queue.queue(current_user, interview, candidate_queue.Filters())
    return render_template("interviews/show.html", interview=interview, page=page,
                           extra_time_requests=accommodations.pending(current_user, interview),
                           filters=candidate_queue.Filters(),
                           sorts=candidate_queue.sorts(current_user, interview),
                           graded=candidate_queue.GRADED,
                           assignment=team.assignment_view(current_user, interview), query="",
                           review_media=anonymity.REVIEW_MEDIA_LABELS,
                           answered=(interviews.answered_question_ids(interview) if current_user.can_author
                                     else set()),
                           status=authoring.status_of(interview), status_labels=authoring.STATUS_LABELS,
                           prompt_videos=prompt_media.for_interview(interview),
                           mail_on=mail.configured(),
                           ai_agreement=(ai_evaluation.agreement(interview)
                                         if interview.ai_evaluation else None),
                           backlog=backlog.for_interview(interview.id))


@bp.post("/interviews/<public_id>/questions")
def add_question(public_id: str):
    interview = interviews.get_interview(current_user, public_id)
    with flash_refusal():
        interviews.add_question(current_user, interview, interviews.parse_question(request.form))
        flash("Question added.", "info")
    return redirect(url_for(".show", public_id=public_id))


@bp.post("/interviews/<public_id>/questions/<question_id>/delete")
def delete_question(public_id: str, question_id: str):
    interview = interviews.get_interview(current_user, public_id)
    with flash_refusal():
        interviews.delete_question(current_user, interview, question_id)
        flash("Question removed.", "info")
    return redirect(url_for(".show", public_id=public_id))


@bp.post("/interviews/<public_id>/candidates")
def invite(public_id: str):
    interview = interviews.get_interview(current_user, public_id)
    with flash_refusal():
        candidate, token = interviews.invite_candidate(current_user, interview, request.form.get("name", ""),
                                                       request.form.get("email", ""),
                                                       send_email=request.form.get("send_email") == "on")
        # The link is shown once, on this page only; only its hash is stored.
        return render_template("interviews/invited.html", interview=interview, candidate=candidate,
                               link=url_for("candidate.landing", token=token, _external=True))
    return redirect(url_for(".show", public_id=public_id))


@bp.post("/interviews/<public_id>/candidates/<candidate_id>/extra-time")
def extra_time(public_id: str, candidate_id: str):
    interview = interviews.get_interview(current_user, public_id)
    candidate = access.interview_candidate(current_user, interview, candidate_id)
    grant = request.form.get("decision") == "grant"
    accommodations.decide(current_user, candidate, grant)
    flash(f"Extra time {'granted to' if grant else 'declined for'} {candidate.name}.", "info")
    return redirect(url_for(".show", public_id=public_id))


@bp.post("/interviews/<public_id>/interface-language")
def interface_language(public_id: str):
    """The language of this interview's candidate pages (the spoken language stays as it is)."""
    interview = interviews.get_interview(current_user, public_id)
    with flash_refusal():
        interviews.set_interface_language(current_user, interview, request.form.get("interface_language"))
        flash(_("Candidates' language saved."), "info")
    return redirect(url_for(".show", public_id=public_id, _anchor="interface-language"))


@bp.post("/interviews/<public_id>/questions/<question_id>/rubric")
def rubric(public_id: str, question_id: str):
    interview = interviews.get_interview(current_user, public_id)
    with flash_refusal():
        question = interviews.set_rubric(current_user, interview, question_id,
                                         request.form.get("ideal_answer", ""),
                                         request.form.get("criteria", ""))
        # The AI's evaluations against the old rubric stay, as history; new ones are made.
        ai_evaluation.reevaluate_question(question)
        flash("Rubric saved.", "info")
    return redirect(url_for(".show", public_id=public_id, _anchor="qs"))
