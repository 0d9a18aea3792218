"""The open apply link: a public page where candidates give their name and e-mail for an invite."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for

from app.errors import form_refusal
from app.i18n import use_interview
from app.services import applying
from app.services.forms import errors_of

bp = Blueprint("apply", __name__, url_prefix="/apply/<token>")


@bp.route("", methods=["GET", "POST"])
def form(token: str):
    interview = applying.interview_for_link(token)
    use_interview(interview)
    if request.method == "GET":
        return render_template("candidate/apply.html", interview=interview, form={}, errors={})
    with form_refusal() as refused:
        candidate, invite = applying.apply(interview, request.form)
    if refused:
        return render_template("candidate/apply.html", interview=interview, form=request.form,
                               errors=errors_of(refused)), refused.status
    # Shown once, here; e-mailed too once outreach exists. Only its hash is stored.
    return render_template("candidate/applied.html", interview=interview, candidate=candidate,
                           link=url_for("candidate.landing", token=invite, _external=True))
