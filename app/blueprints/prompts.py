"""Prompt videos (owners and recruiters): recording one in the browser chunk by chunk, uploading a
file, removing it; and their playback to staff who may see the interview."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.delivery import require, stream_object
from app.errors import flash_refusal, form_refusal
from app.services import authoring, interviews
from app.services import prompt_media as prompts

bp = Blueprint("prompts", __name__)


@bp.before_request
@login_required
def _staff_only():
    return None


@bp.url_value_preprocessor
def _file_limit(endpoint: str | None, _values: dict | None) -> None:
    """A prompt's file may be larger than one chunk (MAX_CONTENT_LENGTH): its upload alone may carry
    up to the prompt's limit and the form around it. Set here because this runs before every
    before_request, the CSRF check included, which reads the form (and so the body) first; the
    service counts the file's bytes against the limit itself too."""
    if endpoint == "prompts.upload":
        request.max_content_length = current_app.config["PROMPT_MAX_BYTES"] + 64 * 1024


def _interview(public_id: str):
    """The interview, if this user may see it (else 404) and change it (else 403)."""
    interview = interviews.get_interview(current_user, public_id)
    authoring.require_author(current_user)
    return interview


def section(interview, question=None, frozen: bool = False, error: str | None = None) -> dict:
    """What the editing pages' prompt-video part shows (authoring/_prompt_media.html), for a question
    or, without one, the welcome on the landing page."""
    cfg = current_app.config
    welcome = question is None
    return {"interview": interview, "slot": prompts.WELCOME if welcome else question.public_id,
            "media": prompts.current(interview, question), "frozen": frozen, "error": error,
            "anchor": "welcome-video" if welcome else "prompt-video",
            "heading": _WELCOME_SAID[0] if welcome else _QUESTION_SAID[0],
            "hint": _WELCOME_SAID[1] if welcome else _QUESTION_SAID[1],
            "status_said": prompts.STATUS_SAID, "max_seconds": cfg["PROMPT_MAX_SECONDS"],
            "max_mib": cfg["PROMPT_MAX_BYTES"] // (1024 * 1024)}


_QUESTION_SAID = (_l("Ask it on video (optional)"),
                  _l("Candidates see you ask the question, with captions made from your speech, before their "
                     "thinking time starts; its words stay on their screen. Without a video they read the "
                     "words alone."))
_WELCOME_SAID = (_l("Welcome video (optional)"),
                 _l("Shown with captions on the page candidates open first, above what to expect."))


def _page_again(interview, slot: str, error: str):
    """The editing page the upload came from, with the refusal beside the file field."""
    from flask import render_template

    question = prompts.place(interview, slot)
    if question is None:
        return render_template("authoring/edit.html", interview=interview, form=None, errors={}, impact=None,
                               prompt=section(interview, error=error))
    answered = interviews.is_answered(question)
    return render_template("authoring/question.html", interview=interview, question=question,
                           answered=answered, form=None, errors={},
                           prompt=section(interview, question, answered, error))


def _back(interview, slot: str):
    if slot == prompts.WELCOME:
        return redirect(url_for("authoring.edit", public_id=interview.public_id, _anchor="welcome-video"))
    return redirect(url_for("authoring.edit_question", public_id=interview.public_id, question_id=slot,
                            _anchor="prompt-video"))


@bp.post("/interviews/<public_id>/prompts/<slot>/recordings")
def start_recording(public_id: str, slot: str):
    interview = _interview(public_id)
    body = request.get_json(silent=True) or {}
    media = prompts.start_recording(current_user, interview, slot, str(body.get("content_type", "")))
    return jsonify(media_id=media.public_id, max_chunk_bytes=current_app.config["MAX_CONTENT_LENGTH"]), 201


@bp.put("/interviews/<public_id>/prompt-media/<media_id>/chunks/<int(signed=True):seq>")
def put_chunk(public_id: str, media_id: str, seq: int):
    interview = _interview(public_id)
    return jsonify(prompts.put_chunk(current_user, interview, media_id, seq, request.get_data(cache=False)))


@bp.post("/interviews/<public_id>/prompt-media/<media_id>/finalize")
def finalize(public_id: str, media_id: str):
    interview = _interview(public_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, _("Finalize needs a JSON body with chunks and sha256."))
    try:
        chunks = int(body.get("chunks"))
    except (TypeError, ValueError, OverflowError):  # OverflowError: 1e999, read as infinity
        abort(400, _("chunks must be a whole number."))
    media = prompts.finalize(current_user, interview, media_id, chunks, str(body.get("sha256", "")))
    return jsonify(media_id=media.public_id, bytes=media.original_size, sha256=media.original_sha256,
                   status=media.status)


@bp.post("/interviews/<public_id>/prompts/<slot>/upload")
def upload(public_id: str, slot: str):
    """A file from the page's form; a refusal shows the page again with why, beside the file field."""
    interview = _interview(public_id)
    with form_refusal() as refused:
        prompts.upload(current_user, interview, slot, request.files.get("file"))
    if refused:
        return _page_again(interview, slot, refused.message), refused.status
    flash(_("Video uploaded. Candidates see it once it is processed and captioned (usually within a "
            "minute)."), "info")
    return _back(interview, slot)


@bp.post("/interviews/<public_id>/prompts/<slot>/delete")
def remove(public_id: str, slot: str):
    interview = _interview(public_id)
    with flash_refusal():
        if prompts.remove(current_user, interview, slot):
            flash(_("Video removed: candidates see the question's words alone."), "info")
    return _back(interview, slot)


def _viewed(public_id: str, media_id: str):
    """A prompt of an interview this user may see (reviewers too: they see what candidates saw)."""
    return prompts.for_staff(interviews.get_interview(current_user, public_id), media_id)


@bp.get("/interviews/<public_id>/prompt-media/<media_id>/video")
def video(public_id: str, media_id: str):
    media = _viewed(public_id, media_id)
    return stream_object(require(media.mp4_key), media.mp4_size, "video/mp4" if media.width else "audio/mp4")


@bp.get("/interviews/<public_id>/prompt-media/<media_id>/poster.jpg")
def poster(public_id: str, media_id: str):
    media = _viewed(public_id, media_id)
    return stream_object(require(media.poster_key), media.poster_size, "image/jpeg")


@bp.get("/interviews/<public_id>/prompt-media/<media_id>/captions.vtt")
def captions(public_id: str, media_id: str):
    from app.captions import to_webvtt

    media = _viewed(public_id, media_id)
    require(media.transcript)
    return to_webvtt(media.transcript.get("segments", [])), 200, {
        "Content-Type": "text/vtt; charset=utf-8", "Cache-Control": "private"}
