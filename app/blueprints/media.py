"""Staff playback of one answer's media: video, poster, sound alone and captions, within what their
role and the interview's review mode allow. It owns every /media/answers/... URL."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user, login_required

from app.captions import to_webvtt
from app.delivery import require, stream_object
from app.models import ReviewMedia
from app.services import ServiceError, access, anonymity
from app.storage import StorageError, current_storage

bp = Blueprint("media", __name__, url_prefix="/media/answers/<public_id>")


@bp.before_request
@login_required
def _staff_only():
    return None


@bp.get("/video")
def video(public_id: str):
    answer = access.get_answer(current_user, public_id)
    if anonymity.media_mode(current_user, answer.candidate.interview) != ReviewMedia.VIDEO:
        abort(403)
    content_type = "video/mp4" if answer.width else "audio/mp4"
    return stream_object(require(answer.mp4_key), answer.mp4_size, content_type)


@bp.get("/poster.jpg")
def poster(public_id: str):
    answer = access.get_answer(current_user, public_id)
    interview = answer.candidate.interview
    if anonymity.hides_identity(current_user, interview) or \
            anonymity.media_mode(current_user, interview) != ReviewMedia.VIDEO:
        abort(403)
    return stream_object(require(answer.poster_key), answer.poster_size, "image/jpeg")


@bp.get("/audio")
def audio(public_id: str):
    """The answer's sound alone, for audio-only review: never a file that holds the picture."""
    answer = access.get_answer(current_user, public_id)
    if anonymity.media_mode(current_user, answer.candidate.interview) == ReviewMedia.TRANSCRIPT:
        abort(403)
    found = anonymity.sound_only(answer)
    if found is None:
        raise ServiceError("This answer's sound is not available without its picture; its transcript "
                           "is on the candidate's page.", 404)
    key, content_type = found
    if key == answer.mp4_key:
        return stream_object(key, answer.mp4_size, content_type)
    # The WAV's size is not kept on the row; ask the bucket (S3 HEAD) rather than widen the schema.
    try:
        size = current_storage().size(key)
    except StorageError:
        abort(404, "This file is not available.")
    return stream_object(key, size, content_type)


@bp.get("/captions.vtt")
def captions(public_id: str):
    answer = access.get_answer(current_user, public_id)
    require(answer.transcript)
    body = to_webvtt(answer.transcript.get("segments", []))
    return body, 200, {"Content-Type": "text/vtt; charset=utf-8", "Cache-Control": "private"}
