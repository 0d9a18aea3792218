"""Answers through the API: status, transcript with word times, captions, and media through
short-lived signed URLs, within what the interview's review mode lets a reader load.

A signed URL names the answer, the kind of media and the key that asked for it; it works for
MEDIA_URL_SECONDS and only while that key is live, so revoking a key stops its URLs too."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.captions import to_webvtt
from app.extensions import db
from app.models import Answer, ApiKey, ReviewMedia, utcnow
from app.services import ServiceError, access, anonymity, api_keys
from app.services.api import get_candidate, reader
from app.services.takes import WRITTEN, current_answers

_SALT = "oneway.api.media"
KINDS = ("video", "audio", "poster")


def _kind(answer: Answer) -> str:
    if answer.content_type.startswith(WRITTEN):
        return "written"
    return "video" if answer.width else "audio"


def answer_view(answer: Answer) -> dict:
    return {
        "id": answer.public_id, "question_id": answer.question.public_id, "take": answer.take,
        "status": answer.status, "failure_reason": answer.failure_reason, "kind": _kind(answer),
        "duration_s": answer.duration_s, "has_transcript": bool(answer.transcript),
        "quality_flags": answer.quality_flags, "ready_at": answer.ready_at,
    }


def answers_of(key: ApiKey, candidate_public_id: str) -> list[dict]:
    """The kept take of each answered question, in question order."""
    candidate = get_candidate(key, candidate_public_id)
    kept = current_answers(candidate)
    return [answer_view(kept[q.id]) for q in candidate.interview.questions if q.id in kept]


def get_answer(key: ApiKey, public_id: str) -> Answer:
    return access.get_answer(reader(key), public_id)


def transcript(key: ApiKey, public_id: str) -> dict:
    """The transcript with each word's start and end (seconds), or a written answer's text."""
    answer = get_answer(key, public_id)
    if answer.content_type.startswith(WRITTEN):
        text = answer.written_text or ""
        return {"answer_id": answer.public_id, "language": None, "text": text, "segments": []}
    if not answer.transcript:
        raise ServiceError("This answer has no transcript yet.", 404)
    segments = [{"start": float(s.get("start") or 0), "end": float(s.get("end") or 0),
                 "text": str(s.get("text") or ""),
                 "words": [{"word": str(w.get("word") or ""), "start": w.get("start"), "end": w.get("end")}
                           for w in s.get("words") or []]}
                for s in answer.transcript.get("segments") or []]
    return {"answer_id": answer.public_id, "language": answer.transcript.get("language"),
            "text": answer.transcript.get("text") or "", "segments": segments}


def captions(key: ApiKey, public_id: str) -> str:
    answer = get_answer(key, public_id)
    if not answer.transcript:
        raise ServiceError("This answer has no captions yet.", 404)
    return to_webvtt(answer.transcript.get("segments", []))


def _allowed(key: ApiKey, answer: Answer) -> dict[str, bool]:
    """Which media this key may load for the answer: as a reviewer of its interview may."""
    user, interview = reader(key), answer.candidate.interview
    mode = anonymity.media_mode(user, interview)
    return {"video": mode == ReviewMedia.VIDEO and answer.mp4_key is not None,
            "audio": mode != ReviewMedia.TRANSCRIPT and anonymity.sound_only(answer) is not None,
            "poster": mode == ReviewMedia.VIDEO and not anonymity.hides_identity(user, interview)
            and answer.poster_key is not None}


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def media_urls(key: ApiKey, public_id: str) -> dict:
    """Signed URLs for what the key may load of this answer (null where it may not, or none yet)."""
    answer = get_answer(key, public_id)
    seconds = current_app.config.get("API_MEDIA_URL_SECONDS", 300)
    allowed = _allowed(key, answer)
    sign = _serializer().dumps

    def url(kind: str) -> str | None:
        if not allowed[kind]:
            return None
        return url_for("api_media.media", token=sign([answer.public_id, kind, key.public_id]), _external=True)

    return {"answer_id": answer.public_id, "video_url": url("video"), "audio_url": url("audio"),
            "poster_url": url("poster"), "expires_at": utcnow() + timedelta(seconds=seconds)}


def signed_media(token: str) -> tuple[str, int | None, str]:
    """The stored key, its size (None: ask the store) and content type a signed URL names, once
    checked: not expired, its key live, and the media still allowed; anything else is 404."""
    seconds = current_app.config.get("API_MEDIA_URL_SECONDS", 300)
    try:
        answer_id, kind, key_id = _serializer().loads(token, max_age=seconds)
    except (BadSignature, ValueError, TypeError):
        raise ServiceError("This media link is unknown or has expired.", 404) from None
    key = db.session.execute(db.select(ApiKey).filter_by(public_id=key_id)).scalar_one_or_none()
    if key is None or not api_keys.is_live(key) or kind not in KINDS:
        raise ServiceError("This media link is unknown or has expired.", 404)
    answer = get_answer(key, answer_id)
    if not _allowed(key, answer)[kind]:
        raise ServiceError("This media link is unknown or has expired.", 404)
    if kind == "video":
        return answer.mp4_key, answer.mp4_size, "video/mp4" if answer.width else "audio/mp4"
    if kind == "poster":
        return answer.poster_key, answer.poster_size, "image/jpeg"
    found_key, content_type = anonymity.sound_only(answer)
    return found_key, answer.mp4_size if found_key == answer.mp4_key else None, content_type
