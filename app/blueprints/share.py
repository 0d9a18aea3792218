"""Share links: staff create, list and revoke them; guests view (and maybe score) through them.

Guest routes live under /s/<token>/..., media included, so that every request re-checks the link
and a revoked or expired link stops everything at once.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from app.captions import to_webvtt
from app.delivery import require, stream_object
from app.errors import flash_refusal, wants_json
from app.security import path_within
from app.services import sharing
from app.services.interviews import get_interview

bp = Blueprint("share", __name__)
staff = Blueprint("share_staff", __name__)


# Staff: create, list, revoke, see who looked.

@staff.before_request
@login_required
def _authors_only():
    # Links expose candidates' names, which an anonymised interview hides from reviewers.
    if not current_user.can_author:
        abort(403)


@staff.get("/interviews/<public_id>/shares")
def index(public_id: str):
    interview = get_interview(current_user, public_id)
    return render_template("share/manage.html", interview=interview,
                           candidates=sharing.recent_candidates(interview),
                           links=sharing.links_for_interview(current_user, interview))


@staff.post("/interviews/<public_id>/shares")
def create(public_id: str):
    interview = get_interview(current_user, public_id)
    with flash_refusal():
        link, token = sharing.create_link(current_user, request.form.getlist("candidate"),
                                          request.form.get("permission", "view"),
                                          request.form.get("hide_names") == "on",
                                          request.form.get("days", "7"), request.form.get("label", ""))
        # The link is shown once, here; only its hash is stored.
        return render_template("share/created.html", interview=interview, link=link,
                               url=url_for("share.landing", token=token, _external=True))
    return redirect(url_for(".index", public_id=public_id))


@staff.get("/shares/<public_id>")
def show(public_id: str):
    link = sharing.get_link(current_user, public_id)
    return render_template("share/link.html", link=link, views=sharing.views(link), sharing=sharing)


@staff.post("/shares/<public_id>/revoke")
def revoke(public_id: str):
    link = sharing.get_link(current_user, public_id)
    sharing.revoke(current_user, link)
    flash("The link is revoked; it stopped working at once.", "info")
    return redirect(url_for(".show", public_id=public_id))


# Guests.

@bp.after_request
def _no_store(resp):
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["X-Robots-Tag"] = "noindex"
    return resp


def _guest(link):
    return sharing.guest_for(link, session.get("share_guests", {}).get(link.public_id))


def _log(link, token: str, candidate=None, guest=None) -> None:
    # The token is a secret: the log keeps the path without it.
    sharing.log_view(link, request.path.replace(token, "…"), request.remote_addr or "",
                 request.user_agent.string, candidate, guest)


def _log_media(link, token: str, answer, kind: str) -> None:
    sharing.log_media(link, answer, kind, request.path.replace(token, "…"), request.remote_addr or "",
                  request.user_agent.string, _guest(link))


@bp.get("/s/<token>")
def landing(token: str):
    link = sharing.link_for_token(token)
    if len(link.candidates) == 1:  # the candidate's page logs the view
        return redirect(url_for(".candidate", token=token, cand=link.candidates[0].public_id))
    guest = _guest(link)
    _log(link, token, guest=guest)
    return render_template("share/list.html", link=link, token=token, guest=guest, sharing=sharing)


@bp.post("/s/<token>/guest")
def name(token: str):
    link = sharing.link_for_token(token)
    with flash_refusal():
        guest = sharing.register_guest(link, request.form.get("name", ""))
        names = dict(session.get("share_guests", {}))
        names[link.public_id] = guest.id
        session["share_guests"] = names
        flash(f"Thank you, {guest.name}. Your scores will show as a guest's.", "info")
    return _back_to_link(token)


def _back_to_link(token: str):
    """Back to the page of this link the form was on (its `back` field), else the link's landing
    page: the field comes from the client, so it may lead nowhere outside the link."""
    landing = url_for(".landing", token=token)
    return redirect(path_within(request.form.get("back"), landing) or landing)


@bp.get("/s/<token>/c/<cand>")
def candidate(token: str, cand: str):
    link = sharing.link_for_token(token)
    candidate = sharing.shared_candidate(link, cand)
    guest = _guest(link)
    _log(link, token, candidate, guest)
    return render_template("share/candidate.html", link=link, token=token, candidate=candidate,
                           name=sharing.display_name(link, candidate), guest=guest,
                           items=sharing.shared_items(candidate, guest))


@bp.post("/s/<token>/c/<cand>/q/<question_id>/score")
def score(token: str, cand: str, question_id: str):
    link = sharing.link_for_token(token)
    candidate = sharing.shared_candidate(link, cand)
    with flash_refusal():
        saved = sharing.save_guest_score(link, _guest(link), candidate, question_id,
                                         request.form.get("value", ""), request.form.get("comment", ""))
        if wants_json():  # review.js saves in place
            return jsonify(value=saved.value, comment=saved.comment)
        flash("Score saved.", "info")
    return redirect(url_for(".candidate", token=token, cand=cand, _anchor=f"q-{question_id}"))


@bp.get("/s/<token>/media/<answer_id>/video")
def video(token: str, answer_id: str):
    link = sharing.link_for_token(token)
    answer = sharing.shared_answer(link, answer_id)
    key = require(answer.mp4_key)
    _log_media(link, token, answer, "video")
    return stream_object(key, answer.mp4_size, "video/mp4" if answer.width else "audio/mp4")


@bp.get("/s/<token>/media/<answer_id>/poster.jpg")
def poster(token: str, answer_id: str):
    link = sharing.link_for_token(token)
    answer = sharing.shared_answer(link, answer_id)
    key = require(answer.poster_key)
    _log_media(link, token, answer, "poster")
    return stream_object(key, answer.poster_size, "image/jpeg")


@bp.get("/s/<token>/media/<answer_id>/captions.vtt")
def captions(token: str, answer_id: str):
    link = sharing.link_for_token(token)
    answer = sharing.shared_answer(link, answer_id)
    require(answer.transcript)
    _log_media(link, token, answer, "captions")
    return to_webvtt(answer.transcript.get("segments", [])), 200, {"Content-Type": "text/vtt; charset=utf-8"}
