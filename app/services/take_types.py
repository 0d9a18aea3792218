"""What a take may be: the containers a browser's recorder produces, how each is read, and which
types each kind of question accepts. Pure lookups: the jobs import it as the web app does."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.models import Question, QuestionKind
from app.services import ServiceError

# What a browser's MediaRecorder produces: WebM on Chromium and Firefox, MP4 on Safari, and Ogg
# as the recorder's last resort for sound; by the original's file extension.
CONTAINERS = {"video/webm": "webm", "audio/webm": "webm", "video/mp4": "mp4", "audio/mp4": "m4a",
              "audio/ogg": "ogg"}
# The ffmpeg demuxer that alone may read each (app.media.probe.input_args).
DEMUXERS = {"webm": "matroska", "mp4": "mov", "m4a": "mov", "ogg": "ogg"}
# What each kind of question accepts: a camera recording, a sound recording, or typed text.
KIND_TYPES = {QuestionKind.VIDEO: ("video/",), QuestionKind.AUDIO: ("audio/", "video/"),
              QuestionKind.WRITTEN: ("text/plain",)}
# A recording of the wrong kind for the question (a video for a written question, say).
_KIND_REFUSALS = {QuestionKind.VIDEO: _l("This question asks for a video answer."),
                  QuestionKind.AUDIO: _l("This question asks for an audio answer."),
                  QuestionKind.WRITTEN: _l("This question asks for a written answer.")}


def demuxer(content_type: str) -> str | None:
    """How a take of this declared type is read: the demuxer of its container; None for a type
    that is not a recording (which media code then refuses)."""
    return DEMUXERS.get(CONTAINERS.get((content_type or "").split(";")[0].strip().lower(), ""))


def require_accepted(question: Question, content_type: str) -> str:
    """The take's base type (`video/webm` of `video/webm;codecs=vp8`) if the question accepts it;
    else 415 for a type no browser records that we read, 409 for the wrong kind for the question."""
    base_type = (content_type or "").split(";")[0].strip().lower()
    if base_type not in CONTAINERS and base_type != "text/plain":
        raise ServiceError(_l("Recordings of type “%(type)s” are not accepted; use a current Chrome, Edge, "
                              "Firefox or Safari.", type=(content_type or "?")[:100]), 415)
    if not base_type.startswith(KIND_TYPES.get(question.kind, KIND_TYPES[QuestionKind.VIDEO])):
        raise ServiceError(_KIND_REFUSALS.get(question.kind, _KIND_REFUSALS[QuestionKind.VIDEO]), 409)
    return base_type
