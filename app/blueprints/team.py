"""The team page (members, invites), joining by invite link, and assigning reviewers to interviews."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user

from app.models import ROLES
from app.services import ServiceError
from app.services import team as svc
from app.services.interviews import get_interview

bp = Blueprint("team", __name__)


@bp.get("/team")
@login_required
def index():
    return render_template("team/index.html", members=svc.members(current_user),
                           invites=svc.pending_invites(current_user) if current_user.role == "owner" else [],
                           roles=ROLES)


@bp.post("/team/invites")
@login_required
def invite():
    try:
        inv, token = svc.invite(current_user, request.form.get("email", ""), request.form.get("role", ""))
    except ServiceError as e:
        if e.status == 403:
            raise
        flash(e.message, "error")
        return redirect(url_for(".index"))
    # Shown once, here, for the owner to send; only the hash is stored.
    return render_template("team/invited.html", invite=inv,
                           url=url_for(".join", token=token, _external=True))


@bp.post("/team/invites/<public_id>/revoke")
@login_required
def revoke(public_id: str):
    svc.revoke_invite(current_user, public_id)
    flash("Invite revoked.", "info")
    return redirect(url_for(".index"))


@bp.route("/join/<token>", methods=["GET", "POST"])
def join(token: str):
    inv = svc.invite_for_token(token)
    if request.method == "POST":
        try:
            user = svc.accept(token, request.form.get("name", ""), request.form.get("password", ""))
        except ServiceError as e:
            if e.status in (404, 410):
                raise
            flash(e.message, "error")
            return render_template("team/join.html", invite=inv, name=request.form.get("name", "")), e.status
        login_user(user)
        flash("Welcome to Oneway.", "info")
        return redirect(url_for("interviews.index"))
    return render_template("team/join.html", invite=inv, name="")


@bp.post("/interviews/<public_id>/assignments")
@login_required
def assign(public_id: str):
    interview = get_interview(current_user, public_id)
    try:
        svc.set_assignment(current_user, interview, request.form.get("user", ""),
                           request.form.get("assigned") == "1")
        flash("Assignments saved.", "info")
    except ServiceError as e:
        if e.status in (403, 404):
            raise
        flash(e.message, "error")
    return redirect(url_for("interviews.show", public_id=public_id, _anchor="assignments"))
