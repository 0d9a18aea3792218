"""The organisation's question bank (owners and recruiters): search, save, insert, remove."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.errors import flash_refusal, form_refusal
from app.services import interviews, question_bank
from app.services.forms import errors_of

bp = Blueprint("bank", __name__)


@bp.before_request
@login_required
def _staff_only():
    return None


def _page(status: int = 200, form=None, errors=None):
    """The bank, searched by ?q=, with insert buttons for the interview named by ?into=."""
    into = request.args.get("into") or request.form.get("into")
    interview = interviews.get_interview(current_user, into) if into else None
    query = request.args.get("q", "")
    return render_template("bank/index.html", questions=question_bank.search(current_user, query),
                           query=query, interview=interview, form=form or {}, errors=errors or {}), status


@bp.get("/bank")
def index():
    return _page()


@bp.post("/bank")
def add():
    with form_refusal() as refused:
        question_bank.add(current_user, request.form)
    if refused:
        return _page(refused.status, request.form, errors_of(refused))
    flash(_("Question saved in the bank."), "info")
    return redirect(url_for(".index"))


@bp.post("/interviews/<public_id>/questions/<question_id>/bank")
def save(public_id: str, question_id: str):
    interview = interviews.get_interview(current_user, public_id)
    with flash_refusal():
        question_bank.save_from_interview(current_user, interview, question_id)
        flash(_("Question saved in the bank."), "info")
    return redirect(url_for("interviews.show", public_id=public_id, _anchor=f"q-{question_id}"))


@bp.post("/interviews/<public_id>/bank/<bank_id>/insert")
def insert(public_id: str, bank_id: str):
    interview = interviews.get_interview(current_user, public_id)
    with flash_refusal():
        question = question_bank.insert(current_user, interview, bank_id)
        flash(_("Question added to the interview."), "info")
        return redirect(url_for("interviews.show", public_id=public_id, _anchor=f"q-{question.public_id}"))
    return redirect(url_for(".index", into=public_id))


@bp.post("/bank/<bank_id>/delete")
def remove(bank_id: str):
    question_bank.remove(current_user, bank_id)
    flash(_("Question removed from the bank."), "info")
    return redirect(url_for(".index"))
