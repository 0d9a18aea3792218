"""/api/v1 answers (status, transcript, captions, signed media URLs), reviews and decisions."""

from __future__ import annotations

from flask import Blueprint as FlaskBlueprint
from flask import Response, g
from flask_smorest import Blueprint

from app.blueprints.api import schemas as s
from app.blueprints.api.core import needs, protected
from app.delivery import stream_object
from app.services import ServiceError, api, api_answers
from app.storage import StorageError, current_storage

answers_bp = protected(Blueprint("api_answers", __name__, url_prefix="/api/v1",
                                 description="Answers, reviews and decisions"))
# Signed media URLs: the signature is the authority, so no key header (a browser or an ATS fetches
# them as links); not part of the OpenAPI document's operations that need a key.
media_bp = FlaskBlueprint("api_media", __name__, url_prefix="/api/v1/media")


@answers_bp.route("/candidates/<candidate_id>/answers", methods=["GET"])
@needs(answers_bp, "read")
@answers_bp.response(200, s.AnswerList)
def list_answers(candidate_id: str):
    """The kept take of each answered question, in question order"""
    return {"data": api_answers.answers_of(g.api_key, candidate_id)}


@answers_bp.route("/answers/<answer_id>", methods=["GET"])
@needs(answers_bp, "read")
@answers_bp.response(200, s.AnswerOut)
def get_answer(answer_id: str):
    """One answer's status"""
    return api_answers.answer_view(api_answers.get_answer(g.api_key, answer_id))


@answers_bp.route("/answers/<answer_id>/transcript", methods=["GET"])
@needs(answers_bp, "read")
@answers_bp.response(200, s.TranscriptOut)
def transcript(answer_id: str):
    """The transcript, each word with its start and end in seconds"""
    return api_answers.transcript(g.api_key, answer_id)


@answers_bp.route("/answers/<answer_id>/captions", methods=["GET"])
@needs(answers_bp, "read")
@answers_bp.response(200, {"type": "string"}, content_type="text/vtt")
def captions(answer_id: str):
    """Captions as WebVTT"""
    return Response(api_answers.captions(g.api_key, answer_id), mimetype="text/vtt")


@answers_bp.route("/answers/<answer_id>/media", methods=["GET"])
@needs(answers_bp, "read")
@answers_bp.response(200, s.MediaOut)
def media_urls(answer_id: str):
    """Short-lived signed URLs for what the interview's review mode lets a reader load"""
    return api_answers.media_urls(g.api_key, answer_id)


@answers_bp.route("/candidates/<candidate_id>/reviews", methods=["GET"])
@needs(answers_bp, "read")
@answers_bp.response(200, s.ReviewsOut)
def reviews(candidate_id: str):
    """Submitted reviews (scores, ratings, recommendations); drafts are never shown"""
    return api.reviews(g.api_key, candidate_id)


@answers_bp.route("/candidates/<candidate_id>/decisions", methods=["GET"])
@needs(answers_bp, "read")
@answers_bp.response(200, s.DecisionList)
def decisions(candidate_id: str):
    """Every decision, newest first (the first is the current one)"""
    return {"data": api.decisions(g.api_key, candidate_id)}


@answers_bp.route("/candidates/<candidate_id>/decisions", methods=["POST"])
@needs(answers_bp, "decide")
@answers_bp.arguments(s.DecisionIn)
@answers_bp.response(201, s.DecisionOut)
def decide(data, candidate_id: str):
    """Record advance, hold or reject"""
    return api.decide(g.api_key, candidate_id, data["decision"], data["note"])


@media_bp.get("/<token>")
def media(token: str):
    """One answer's media through a signed URL, with HTTP Range."""
    key, size, content_type = api_answers.signed_media(token)
    if size is None:
        try:
            size = current_storage().size(key)
        except StorageError:
            raise ServiceError("This file is not available.", 404) from None
    return stream_object(key, size, content_type)
