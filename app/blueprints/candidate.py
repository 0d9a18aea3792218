"""The candidate's pages and recording API, reached only through their own invite link."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.captions import to_webvtt
from app.delivery import stream_object
from app.errors import form_refusal
from app.services import (
    accommodations,
    ai_evaluation,
    chunk_uploads,
    deadline_requests,
    outreach,
    own_export,
    preferences,
    prompt_media,
    recording,
    rights,
    selfid,
    takes,
)
from app.services.export import stream_zip
from app.services.recording import Receipt
from app.states import CandidateStatus

bp = Blueprint("candidate", __name__, url_prefix="/i/<token>")


# The pages the language switcher may come back to (its `page` field); anything else: the landing page.
_PAGES = ("landing", "record", "done", "data", "decline", "about_you")


@bp.context_processor
def _notice():
    return {"notice_version": recording.NOTICE_VERSION}


def _receipt(r: Receipt, status: int = 200):
    return jsonify(answer_id=r.answer_id, bytes=r.bytes, sha256=r.sha256, chunks=r.chunks,
                   duplicate=r.duplicate, finalized=r.finalized), status


def _json_body(message: str) -> dict:
    """The request's JSON object, or a 400 that says what was expected."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, str(message))
    return body


def _state(candidate) -> dict:
    answers = takes.current_answers(candidate)
    open_takes = takes.open_takes(candidate)
    videos = prompt_media.for_interview(candidate.interview, ready_only=True)
    questions = []
    for i, q in enumerate(candidate.questions, 1):
        a = answers.get(q.id)
        think, answer_limit = accommodations.limits(candidate, q)
        questions.append({
            "id": q.public_id, "number": i, "prompt": q.prompt, "think_seconds": think,
            "answer_seconds": answer_limit, "max_takes": q.max_takes, "kind": q.kind,
            "takes_used": takes.takes_used(candidate, q),
            # Warnings are stored as msgids (app.media.quality) and read in the page's language.
            "answer": {"id": a.public_id, "bytes": a.original_size, "sha256": a.original_sha256,
                       "take": a.take, "status": a.status,
                       "warnings": [_(w) for w in a.quality_flags]} if a else None,
            "open_takes": open_takes.get(q.id, {}),
            # The hiring manager asking the question on video (played before the think time).
            "video": _prompt(videos.get(q.id)),
        })
    return {"status": candidate.status, "language": candidate.interview.language,
            "questions": questions}


def _prompt(media) -> dict | None:
    """What the recorder needs to play a prompt video: its id (for its URLs under the link), whether
    it has a picture, and the language of its captions."""
    if media is None:
        return None
    return {"id": media.public_id, "picture": media.width is not None,
            "lang": media.interview.language or (media.transcript or {}).get("language") or "en"}


@bp.get("")
def landing(token: str):
    candidate = recording.candidate_for_token(token)
    if candidate.status == CandidateStatus.COMPLETED:
        return redirect(url_for(".done", token=token))
    outreach.mark_opened(candidate)  # the candidate's status "opened", for the queue
    return render_template("candidate/landing.html", candidate=candidate, token=token,
                           interview=candidate.interview, **_welcome(candidate))


def _welcome(candidate) -> dict:
    """The landing page's welcome video, when the interview has one ready."""
    return {"welcome": _prompt(prompt_media.for_interview(candidate.interview, ready_only=True).get(None))}


@bp.get("/prompts/<media_id>/video")
def prompt_video(token: str, media_id: str):
    """A prompt video of this candidate's own interview (app.services.prompt_media.for_candidate)."""
    media = prompt_media.for_candidate(recording.candidate_for_token(token), media_id) or abort(404)
    return stream_object(media.mp4_key, media.mp4_size, "video/mp4" if media.width else "audio/mp4")


@bp.get("/prompts/<media_id>/captions.vtt")
def prompt_captions(token: str, media_id: str):
    media = prompt_media.for_candidate(recording.candidate_for_token(token), media_id) or abort(404)
    body = to_webvtt((media.transcript or {}).get("segments", []))
    return body, 200, {"Content-Type": "text/vtt; charset=utf-8", "Cache-Control": "private"}


@bp.post("/consent")
def consent(token: str):
    candidate = recording.candidate_for_token(token)
    if request.form.get("consent") != "yes":
        return render_template("candidate/landing.html", candidate=candidate, token=token,
                               interview=candidate.interview, **_welcome(candidate),
                               error=_("Please tick the box to say you agree, or contact the company for "
                                       "another way to apply.")), 400
    ai_evaluation.choose_human_only(candidate, request.form.get("human_only") == "yes")
    recording.give_consent(candidate, request.form.get("time_zone"))
    return redirect(url_for(".record", token=token))


@bp.post("/language")
def language(token: str):
    """The switcher on every page: this link's pages in the chosen language from now on."""
    candidate = recording.candidate_for_token(token)
    preferences.choose_language(candidate, request.form.get("locale"), request.form.get("time_zone"))
    page = request.form.get("page")
    return redirect(url_for(f".{page if page in _PAGES else 'landing'}", token=token))


@bp.post("/time-zone")
def time_zone(token: str):
    """The browser's time zone, sent once by timezone.js where the page did not know it yet."""
    candidate = recording.candidate_for_token(token)
    body = _json_body(_l("Send the time zone as JSON."))
    preferences.set_time_zone(candidate, str(body.get("time_zone", "")))
    return "", 204


@bp.get("/decline")
def decline(token: str):
    candidate = recording.candidate_for_token(token)
    return render_template("candidate/decline.html", candidate=candidate, token=token,
                           interview=candidate.interview)


@bp.post("/accommodation")
def accommodation(token: str):
    candidate = recording.candidate_for_token(token)
    with form_refusal() as refused:
        accommodations.request_extra_time(candidate, request.form.get("factor", ""),
                                          request.form.get("note", ""))
    if refused:
        return render_template("candidate/landing.html", candidate=candidate, token=token,
                               interview=candidate.interview, **_welcome(candidate),
                               extra_error=refused.message), refused.status
    return redirect(url_for(".landing", token=token))


@bp.post("/later-deadline")
def later_deadline(token: str):
    """The candidate asks for a later deadline: granted at once within the interview's limit."""
    candidate = recording.candidate_for_token(token)
    with form_refusal() as refused:
        deadline_requests.ask(candidate, request.form.get("days", ""), request.form.get("note", ""))
    if refused:
        return render_template("candidate/landing.html", candidate=candidate, token=token,
                               interview=candidate.interview, **_welcome(candidate),
                               deadline_error=refused.message), refused.status
    return redirect(url_for(".landing", token=token, _anchor="later-deadline"))


@bp.post("/answers/<answer_id>/written")
def written(token: str, answer_id: str):
    candidate = recording.candidate_for_token(token)
    body = _json_body(_l("A written answer needs a JSON body with its text."))
    return _receipt(recording.submit_written(candidate, answer_id, str(body.get("text", ""))))


@bp.get("/record")
def record(token: str):
    candidate = recording.candidate_for_token(token)
    if candidate.consent_at is None:
        return redirect(url_for(".landing", token=token))
    if candidate.status == CandidateStatus.COMPLETED:
        return redirect(url_for(".done", token=token))
    if candidate.withdrawn_at is not None:
        return redirect(url_for(".data", token=token))
    return render_template("candidate/record.html", candidate=candidate, token=token,
                           state=_state(candidate))


@bp.get("/state")
def state(token: str):
    return jsonify(_state(recording.candidate_for_token(token)))


@bp.post("/questions/<question_id>/takes")
def start_take(token: str, question_id: str):
    candidate = recording.candidate_for_token(token)
    body = request.get_json(silent=True) or {}
    answer = recording.start_take(candidate, question_id, str(body.get("content_type", "")))
    # The most one chunk may carry: the recorder joins pieces up to it (app/static/js/uploader.js).
    return jsonify(answer_id=answer.public_id, take=answer.take,
                   max_chunk_bytes=current_app.config["MAX_CONTENT_LENGTH"]), 201


@bp.put("/answers/<answer_id>/chunks/<int(signed=True):seq>")
def put_chunk(token: str, answer_id: str, seq: int):
    h = request.headers
    # The last chunk may carry the finalize: the recording's chunk count, SHA-256 and duration.
    closing = ({"chunks": h.get("X-Recording-Chunks"), "sha256": h.get("X-Recording-SHA256"),
                "duration_ms": h.get("X-Recording-Duration-Ms") or None}
               if "X-Recording-SHA256" in h or "X-Recording-Chunks" in h else None)
    return _receipt(chunk_uploads.put_chunk(token, answer_id, seq, request.get_data(cache=False),
                                            h.get("X-Chunk-SHA256"), closing))


@bp.post("/answers/<answer_id>/finalize")
def finalize(token: str, answer_id: str):
    return _receipt(chunk_uploads.finalize(token, answer_id, request.get_json(silent=True)))


@bp.post("/answers/<answer_id>/abandon")
def abandon(token: str, answer_id: str):
    """The browser dropped a take that a reload cut off: it is let go, and costs no take."""
    recording.abandon(recording.candidate_for_token(token), answer_id)
    return jsonify(answer_id=answer_id, abandoned=True)


@bp.post("/finish")
def finish(token: str):
    candidate = recording.candidate_for_token(token, allow_expired=True)
    recording.finish(candidate)
    if request.is_json:
        return jsonify(status=CandidateStatus.COMPLETED, next=url_for(".done", token=token))
    return redirect(url_for(".done", token=token))


@bp.get("/done")
def done(token: str):
    candidate = recording.candidate_for_token(token, allow_expired=True)
    return render_template("candidate/done.html", candidate=candidate, token=token,
                           state=_state(candidate))


def _data_page(candidate, token: str, status: int = 200, document: bool = False, **extra):
    numbers = {q.id: i for i, q in enumerate(candidate.questions, 1)}
    every_take = sorted(candidate.answers, key=lambda a: (numbers.get(a.question_id, 0), a.take))
    kept = {a.id for a in takes.current_answers(candidate).values()}
    return render_template("candidate/data.html", candidate=candidate, token=token,
                           interview=candidate.interview, takes=every_take, numbers=numbers, kept=kept,
                           about_you=selfid.own_labels(candidate), rereview=rights.open_rereview(candidate),
                           decision=rights.notice_of_decision(candidate), document=document,
                           days_left=rights.days_left(candidate), ai=ai_evaluation.for_candidate(candidate),
                           ai_total=ai_evaluation.overall(candidate),
                           ai_summary=ai_evaluation.current_summary(candidate), **extra), status


@bp.get("/data")
def data(token: str):
    """What is stored about this candidate, every take included, in plain words; and their choices."""
    return _data_page(recording.candidate_for_token(token, allow_expired=True), token)


@bp.get("/export.zip")
def export_zip(token: str):
    """Everything about this candidate, as a ZIP streamed as it is built."""
    candidate = recording.candidate_for_token(token, allow_expired=True)
    page, _status = _data_page(candidate, token, document=True)
    rights.record_download(candidate)
    body = stream_with_context(stream_zip(own_export.entries(candidate.id, page)))
    resp = Response(body, mimetype="application/zip", direct_passthrough=True)
    resp.headers["Content-Disposition"] = 'attachment; filename="my-interview-data.zip"'
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


def _data_form(token: str, action) -> Response:
    """Run one of the data page's forms: back to the page, or the page again with the refusal."""
    candidate = recording.candidate_for_token(token, allow_expired=True)
    with form_refusal() as refused:
        action(candidate)
    if refused:
        return _data_page(candidate, token, refused.status, choice_error=refused.message)
    return redirect(url_for(".data", token=token, _anchor="choices"))


@bp.post("/deletion")
def ask_deletion(token: str):
    return _data_form(token, lambda c: rights.request_deletion(c, request.form.get("confirm") == "yes"))


@bp.post("/deletion/cancel")
def cancel_deletion(token: str):
    return _data_form(token, rights.cancel_deletion)


@bp.post("/withdraw")
def withdraw(token: str):
    return _data_form(token, lambda c: rights.withdraw(c, request.form.get("confirm") == "yes"))


@bp.post("/rereview")
def ask_rereview(token: str):
    return _data_form(token, lambda c: rights.ask_rereview(c, request.form.get("reason", "")))


@bp.route("/about-you", methods=["GET", "POST"])
def about_you(token: str):
    """The voluntary self-identification form, after finishing only; nothing is required."""
    candidate = recording.candidate_for_token(token, allow_expired=True)
    if not selfid.may_answer(candidate):
        return redirect(url_for(".landing", token=token))
    questions = selfid.scheme(candidate.interview.organisation)
    if request.method == "GET":
        return render_template("candidate/about_you.html", candidate=candidate, token=token,
                               questions=questions, row=selfid.answers_of(candidate))
    with form_refusal() as refused:
        selfid.save(candidate, request.form)
    if refused:
        return render_template("candidate/about_you.html", candidate=candidate, token=token,
                               questions=questions, row=None, error=refused.message), refused.status
    return redirect(url_for(".done", token=token, saved="about-you"))
