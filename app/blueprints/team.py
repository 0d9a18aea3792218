"""The team page (members, roles, reviewers' interviews, removal, restoring, invites, password reset
links), the audit log, joining by link, assigning reviewers."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app import mail
from app.errors import Refusal, flash_refusal, form_refusal
from app.models import Role
from app.services import audit, passwords, signin, team
from app.services.interviews import get_interview

bp = Blueprint("team", __name__)


def _team_page(status: int = 200):
    owner = current_user.role == Role.OWNER
    return render_template("team/index.html", members=team.members(current_user),
                           removed=team.members(current_user, active=False) if owner else [],
                           invites=team.pending_invites(current_user) if owner else [],
                           resets=passwords.pending_resets(current_user.org_id) if owner else {},
                           reset_hours=passwords.RESET_HOURS, scopes=team.SCOPES,
                           assigned=team.assignment_counts(current_user), roles=list(Role),
                           mail_on=mail.configured()), status


def _refused(refused: Refusal):
    """The team page again, with why a change to a member was refused."""
    flash(refused.message, "error")
    return _team_page(refused.status)


@bp.get("/team")
@login_required
def index():
    return _team_page()


@bp.get("/team/audit")
@login_required
def audit_log():
    page = audit.events_page(current_user, request.args.get("page", "1"))
    return render_template("team/audit.html", page=page,
                           keep_days=current_app.config["AUDIT_RETENTION_DAYS"])


def _member_changed(change, message):
    """Run a service change to a member; flash what it did, or show why not."""
    with form_refusal() as refused:
        member = change()
    if refused:
        return _refused(refused)
    flash(message(member), "info")
    return redirect(url_for(".index"))


@bp.post("/team/members/<public_id>/role")
@login_required
def change_role(public_id: str):
    return _member_changed(lambda: team.change_role(current_user, public_id, request.form.get("role", "")),
                           lambda m: f"{m.name} is now {m.role}.")


@bp.post("/team/members/<public_id>/scope")
@login_required
def scope(public_id: str):
    """An owner chooses whether a reviewer sees every interview or only those assigned to them."""
    return _member_changed(
        lambda: team.set_scope(current_user, public_id, request.form.get("scope", "")),
        lambda m: f"{m.name} now sees {team.SCOPES['all' if m.all_interviews else 'assigned'].lower()}.")


@bp.post("/team/members/<public_id>/remove")
@login_required
def remove(public_id: str):
    with form_refusal() as refused:
        member = team.remove_member(current_user, public_id)
    if refused:
        return _refused(refused)
    if member.id == current_user.id:
        signin.log_out()
        flash("You have left the team and are signed out.", "info")
        return redirect(url_for("auth.login"))
    flash(f"{member.name} was removed from the team and can no longer sign in. "
          "Their scores and reviews stay.", "info")
    return redirect(url_for(".index"))


@bp.post("/team/members/<public_id>/restore")
@login_required
def restore(public_id: str):
    return _member_changed(
        lambda: team.restore_member(current_user, public_id, request.form.get("role", "")),
        lambda m: f"{m.name} is back in the team as {m.role} and can sign in with their password "
                  "again. Reviewer assignments and access to all interviews are not restored.")


@bp.post("/team/members/<public_id>/password-reset")
@login_required
def password_reset(public_id: str):
    with form_refusal() as refused:
        reset, token = team.make_reset_link(current_user, public_id,
                                            send_email=request.form.get("send_email") == "on")
    if refused:
        return _refused(refused)
    # Shown once, here, for the owner to pass on; only the hash is stored.
    return render_template("team/reset_link.html", reset=reset, hours=passwords.RESET_HOURS,
                           url=url_for("auth.reset_password", token=token, _external=True))


@bp.post("/team/invites")
@login_required
def invite():
    with flash_refusal():
        inv, token = team.invite(current_user, request.form.get("email", ""), request.form.get("role", ""),
                                 send_email=request.form.get("send_email") == "on")
        # Shown once, here, for the owner to send; only the hash is stored.
        return render_template("team/invited.html", invite=inv,
                               url=url_for(".join", token=token, _external=True))
    return redirect(url_for(".index"))


@bp.post("/team/invites/<public_id>/revoke")
@login_required
def revoke(public_id: str):
    team.revoke_invite(current_user, public_id)
    flash("Invite revoked.", "info")
    return redirect(url_for(".index"))


@bp.route("/join/<token>", methods=["GET", "POST"])
def join(token: str):
    inv = team.invite_for_token(token)
    if request.method == "POST":
        with form_refusal() as refused:
            user = team.accept(token, request.form.get("name", ""), request.form.get("password", ""))
        if refused:
            flash(refused.message, "error")
            name = request.form.get("name", "")
            return render_template("team/join.html", invite=inv, name=name), refused.status
        signin.log_in(user)
        flash("Welcome to Oneway.", "info")
        return redirect(url_for("interviews.index"))
    return render_template("team/join.html", invite=inv, name="")


@bp.post("/interviews/<public_id>/assignments")
@login_required
def assign(public_id: str):
    interview = get_interview(current_user, public_id)
    with flash_refusal():
        team.set_assignment(current_user, interview, request.form.get("user", ""),
                            request.form.get("assigned") == "1")
        flash("Assignments saved.", "info")
    return redirect(url_for("interviews.show", public_id=public_id, _anchor="assignments"))
