"""Changing an interview after it exists (owners and recruiters): settings, questions and their
order, copies and templates, closing and archiving."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.blueprints import prompts
from app.errors import flash_refusal, form_refusal
from app.services import applying, authoring, interviews, prompt_media
from app.services.forms import errors_of

bp = Blueprint("authoring", __name__)

_STATUS_SAID = {"open": _l("Interview open: candidates can be invited and start."),
                "closed": _l("Interview closed: nobody new can start it; those who started may finish."),
                "archived": _l("Interview archived: out of the list, its data kept until its deletion "
                               "dates.")}


@bp.before_request
@login_required
def _staff_only():
    return None


def _interview(public_id: str):
    """The interview, if this user may see it (else 404) and change it (else 403)."""
    interview = interviews.get_interview(current_user, public_id)
    authoring.require_author(current_user)
    return interview


@bp.route("/interviews/<public_id>/edit", methods=["GET", "POST"])
def edit(public_id: str):
    """The settings; a change that invited candidates notice is confirmed before it is saved."""
    interview = _interview(public_id)
    if request.method == "GET":
        return render_template("authoring/edit.html", interview=interview, form=None, errors={}, impact=None,
                               prompt=prompts.section(interview))
    with form_refusal() as refused:
        impact = authoring.update_settings(current_user, interview, request.form,
                                           confirmed=request.form.get("confirmed") == "yes")
    if refused:
        return render_template("authoring/edit.html", interview=interview, form=request.form,
                               errors=errors_of(refused), impact=None,
                               prompt=prompts.section(interview)), refused.status
    if impact.needs_confirmation and request.form.get("confirmed") != "yes":
        return render_template("authoring/edit.html", interview=interview, form=request.form, errors={},
                               impact=impact, prompt=prompts.section(interview))
    flash(_("Settings saved.") if impact.changes else _("Nothing was changed."), "info")
    return redirect(url_for("interviews.show", public_id=public_id))


@bp.route("/interviews/<public_id>/questions/<question_id>/edit", methods=["GET", "POST"])
def edit_question(public_id: str, question_id: str):
    interview = _interview(public_id)
    question = authoring.find_question(interview, question_id)
    answered = interviews.is_answered(question)
    if request.method == "GET":
        return render_template("authoring/question.html", interview=interview, question=question,
                               answered=answered, form=None, errors={},
                               prompt=prompts.section(interview, question, answered))
    with form_refusal() as refused:
        authoring.edit_question(current_user, interview, question_id, request.form)
    if refused:
        return render_template("authoring/question.html", interview=interview, question=question,
                               answered=answered, form=request.form, errors=errors_of(refused),
                               prompt=prompts.section(interview, question, answered)), refused.status
    flash(_("Question saved."), "info")
    return redirect(url_for("interviews.show", public_id=public_id, _anchor=f"q-{question_id}"))


@bp.post("/interviews/<public_id>/questions/<question_id>/move")
def move_question(public_id: str, question_id: str):
    """Up or down one place; the page comes back with focus on the same button."""
    interview = _interview(public_id)
    direction = request.form.get("direction", "")
    with flash_refusal():
        authoring.move_question(current_user, interview, question_id, direction)
        flash(_("Question moved up.") if direction == "up" else _("Question moved down."), "info")
    # No #fragment: a page opened at one does not autofocus (HTML's autofocus rules), and the focused
    # button is scrolled into view anyway.
    return redirect(url_for("interviews.show", public_id=public_id, moved=question_id, direction=direction))


@bp.post("/interviews/<public_id>/questions/order")
def reorder(public_id: str):
    """The whole order at once (each question's public id, in order)."""
    interview = _interview(public_id)
    with flash_refusal():
        authoring.reorder(current_user, interview, request.form.getlist("question"))
        flash(_("Questions reordered."), "info")
    return redirect(url_for("interviews.show", public_id=public_id, _anchor="qs"))


@bp.post("/interviews/<public_id>/duplicate")
def duplicate(public_id: str):
    interview = _interview(public_id)
    copy = prompt_media.duplicate(current_user, interview,
                                  title=_("Copy of %(title)s", title=interview.title))
    flash(_("Interview copied with its questions, their videos and rubrics, without candidates."), "info")
    return redirect(url_for(".edit", public_id=copy.public_id))


@bp.post("/interviews/<public_id>/template")
def save_as_template(public_id: str):
    interview = _interview(public_id)
    prompt_media.duplicate(current_user, interview, template=True)
    flash(_("Saved as a template."), "info")
    return redirect(url_for(".templates"))


@bp.post("/interviews/<public_id>/status")
def status(public_id: str):
    """close, reopen, archive or unarchive."""
    interview = _interview(public_id)
    with flash_refusal():
        now = authoring.set_status(current_user, interview, request.form.get("action", ""))
        flash(str(_STATUS_SAID[now]), "info")
    return redirect(url_for("interviews.show", public_id=public_id))


@bp.post("/interviews/<public_id>/apply-link")
def apply_link(public_id: str):
    """Turn the open apply link on (a new link, shown once) or off (at once)."""
    interview = _interview(public_id)
    with flash_refusal():
        if request.form.get("action") == "on":
            token = applying.turn_on(current_user, interview)
            return render_template("authoring/apply_link.html", interview=interview,
                                   link=url_for("apply.form", token=token, _external=True))
        applying.turn_off(current_user, interview)
        flash(_("The apply link is off: it no longer works."), "info")
    return redirect(url_for("interviews.show", public_id=public_id))


@bp.get("/templates")
def templates():
    authoring.require_author(current_user)
    return render_template("authoring/templates.html", templates=authoring.list_templates(current_user))


@bp.post("/templates/<public_id>/use")
def use_template(public_id: str):
    template = _interview(public_id)
    if not template.is_template:
        return redirect(url_for("interviews.show", public_id=public_id))
    interview = prompt_media.duplicate(current_user, template)
    flash(_("Interview created from the template; check its settings."), "info")
    return redirect(url_for(".edit", public_id=interview.public_id))
