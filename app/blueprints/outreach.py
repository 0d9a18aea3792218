"""Reaching candidates (owners and recruiters): the invitation's template and preview, the deadline
and reminder schedule, inviting a list, moving deadlines, a new link, and every message per candidate."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.errors import flash_refusal, form_refusal
from app.services import (
    ServiceError,
    access,
    bulk_invites,
    deadline_requests,
    interviews,
    notifications,
    outbox,
    outreach,
)

bp = Blueprint("outreach", __name__)


@bp.before_request
@login_required
def _staff_only():
    return None


def _page(interview, status: int = 200, **extra):
    data = outreach.overview(current_user, interview)
    extra.setdefault("requests", deadline_requests.pending(current_user, interview))
    extra.setdefault("preview", outreach.preview(interview))
    return render_template("outreach/index.html", interview=interview, o=data, **extra), status


@bp.get("/interviews/<public_id>/outreach")
def index(public_id: str):
    return _page(interviews.get_interview(current_user, public_id))


@bp.post("/interviews/<public_id>/outreach/template")
def template(public_id: str):
    """Preview the text as written (nothing saved), save it, or go back to the default."""
    interview = interviews.get_interview(current_user, public_id)
    form = request.form
    action, subject, body = form.get("action"), form.get("subject", ""), form.get("body", "")
    with form_refusal() as refused:
        if action == "preview":
            outreach.require_author(current_user)
            return _page(interview, preview=outreach.preview(interview, subject, body), draft=(subject, body))
        if action == "reset":
            outreach.reset_template(current_user, interview)
        else:
            outreach.save_template(current_user, interview, subject, body)
    if refused:
        return _page(interview, refused.status, draft=(subject, body), template_error=refused.message,
                     preview=None)
    flash("Invitation text saved." if action != "reset" else "Back to the default invitation.", "info")
    return redirect(url_for(".index", public_id=public_id, _anchor="template"))


@bp.post("/interviews/<public_id>/outreach/schedule")
def schedule(public_id: str):
    interview = interviews.get_interview(current_user, public_id)
    with flash_refusal():
        outreach.save_schedule(current_user, interview, request.form)
        flash("Deadline and reminders saved.", "info")
    return redirect(url_for(".index", public_id=public_id, _anchor="schedule"))


@bp.post("/interviews/<public_id>/bulk")
def bulk_preview(public_id: str):
    """Read the list and show each row's problem; nothing is made yet."""
    interview = interviews.get_interview(current_user, public_id)
    outreach.require_author(current_user)
    upload = request.files.get("file")
    with form_refusal() as refused:
        if upload and upload.filename:
            text, note = bulk_invites.decode(upload.read(bulk_invites.MAX_BYTES + 1))
        else:
            text, note = request.form.get("lines", ""), ""
        preview = bulk_invites.parse(interview, text, note)
        return render_template("outreach/bulk.html", interview=interview, preview=preview)
    return _page(interview, refused.status, bulk_error=refused.message)


@bp.post("/interviews/<public_id>/bulk/create")
def bulk_create(public_id: str):
    interview = interviews.get_interview(current_user, public_id)
    with form_refusal() as refused:
        made, left = bulk_invites.create(current_user, interview, request.form.get("text", ""))
    if refused:
        return _page(interview, refused.status, bulk_error=refused.message)
    flash(f"{made} candidate(s) invited; their e-mails are on their way."
          + (f" {left} row(s) with problems were left out." if left else ""), "info")
    return redirect(url_for("interviews.show", public_id=public_id))


@bp.post("/interviews/<public_id>/deadlines")
def extend(public_id: str):
    """Move the deadline of the chosen candidates, or of every unfinished one."""
    interview = interviews.get_interview(current_user, public_id)
    with flash_refusal():
        outreach.require_author(current_user)
        deadline = outreach.parse_deadline(request.form.get("deadline", ""), interview)
        n = outreach.extend(current_user, interview, request.form.getlist("candidate"), deadline,
                            notify=request.form.get("notify") == "on")
        flash(f"Deadline moved for {n} candidate(s).", "info")
    if request.form.get("back") == "queue":
        return redirect(url_for("grading.queue", public_id=public_id))
    return redirect(url_for(".index", public_id=public_id, _anchor="deadlines"))


@bp.post("/interviews/<public_id>/deadline-requests/<candidate_id>")
def deadline_request(public_id: str, candidate_id: str):
    """Grant or decline a candidate's request for a later deadline."""
    candidate = access.interview_candidate(current_user, interviews.get_interview(current_user, public_id),
                                           candidate_id)
    grant = request.form.get("decision") == "grant"
    deadline_requests.decide(current_user, candidate, grant)
    flash(f"Later deadline {'granted to' if grant else 'declined for'} {candidate.name}.", "info")
    return redirect(url_for(".index", public_id=public_id, _anchor="deadline-requests"))


def _candidate(public_id: str):
    candidate = access.get_candidate(current_user, public_id)
    outreach.require_author(current_user)
    return candidate


@bp.get("/outreach/candidates/<public_id>/messages")
def messages(public_id: str):
    """Every e-mail to this candidate: what, when, delivered or why not."""
    candidate = _candidate(public_id)
    return render_template("outreach/messages.html", candidate=candidate, shown=outbox.shown,
                           messages=outreach.messages(current_user, candidate))


@bp.post("/outreach/candidates/<public_id>/resend")
def resend(public_id: str):
    """A new link (the old one stops working), e-mailed or shown once to copy."""
    candidate = _candidate(public_id)
    email = request.form.get("email") == "on"
    with flash_refusal():
        token = outreach.resend(current_user, candidate, email=email)
        if not email:
            link = url_for("candidate.landing", token=token, _external=True)
            return render_template("interviews/invited.html", interview=candidate.interview,
                                   candidate=candidate, link=link)
        flash("A new link is on its way; the old one no longer works.", "info")
    return redirect(url_for(".messages", public_id=public_id))


@bp.post("/outreach/candidates/<public_id>/deadline")
def candidate_deadline(public_id: str):
    candidate = _candidate(public_id)
    with flash_refusal():
        deadline = outreach.parse_deadline(request.form.get("deadline", ""), candidate.interview)
        if not outreach.extend(current_user, candidate.interview, [candidate.public_id], deadline,
                               notify=request.form.get("notify") == "on"):
            raise ServiceError("Only an unfinished candidate's deadline can move, and only later.", 409)
        flash("Deadline moved.", "info")
    return redirect(url_for(".messages", public_id=public_id))


@bp.post("/account/notifications")
def notify_choice():
    """Each member's own choice: an e-mail per completed interview, a daily digest, or none."""
    with flash_refusal():
        notifications.set_choice(current_user, request.form.get("notify", ""))
        flash("Notification choice saved.", "info")
    return redirect(url_for("auth.change_password"))
