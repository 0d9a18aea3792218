"""The API's request and response bodies (marshmallow), from which the OpenAPI document is made."""

from __future__ import annotations

from datetime import UTC

import marshmallow as ma
from marshmallow import fields as f
from marshmallow import validate as v

from app.models import DecisionValue, QuestionKind, Recommendation, ReviewMedia
from app.states import AnswerStatus, CandidateStatus

_ID = {"metadata": {"description": "A public id", "example": "Yk3v8s0aQ2m1x9Zb"}}


class Strict(ma.Schema):
    """Request bodies: a field the API does not know is refused, not ignored."""

    class Meta:
        unknown = ma.RAISE


def _plain(text: str) -> None:
    """Text a person typed: no NUL (PostgreSQL refuses it) and nothing UTF-8 cannot hold."""
    try:
        text.encode()
    except UnicodeEncodeError:
        raise ma.ValidationError("Text must be valid Unicode.") from None
    if "\x00" in text:
        raise ma.ValidationError("Text may not hold NUL characters.")


def _not_blank(text: str) -> None:
    if not text.strip():
        raise ma.ValidationError("May not be blank.")


def text_field(max_len: int, required: bool = False, **kw) -> f.String:
    """Checked text; a required one may not be blank."""
    checks = [v.Length(min=1 if required else 0, max=max_len), _plain] + ([_not_blank] if required else [])
    return f.String(required=required, validate=checks, **kw)


class QuestionIn(Strict):
    prompt = text_field(2000, required=True)
    think_seconds = f.Integer(load_default=30, validate=v.Range(0, 600))
    answer_seconds = f.Integer(load_default=120, validate=v.Range(5, 1800))
    max_takes = f.Integer(load_default=2, validate=v.Range(1, 10))
    kind = f.String(load_default=QuestionKind.VIDEO.value, validate=v.OneOf([k.value for k in QuestionKind]))


class InterviewIn(Strict):
    title = text_field(200, required=True)
    intro = text_field(5000, load_default="")
    language = f.String(load_default=None, allow_none=True,
                        validate=v.Regexp(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})?$"),
                        metadata={"description": "The spoken language (BCP 47, e.g. en, pt-BR); "
                                                 "null: detected"})
    retention_days = f.Integer(load_default=180, validate=v.Range(1, 3650))
    questions = f.List(f.Nested(QuestionIn), required=True, validate=v.Length(min=1, max=50))


class QuestionOut(ma.Schema):
    id = f.String(attribute="public_id", required=True)
    position = f.Integer(required=True)
    prompt = f.String(required=True)
    kind = f.String(required=True)
    think_seconds = f.Integer(required=True)
    answer_seconds = f.Integer(required=True)
    max_takes = f.Integer(required=True)


class InterviewOut(ma.Schema):
    id = f.String(attribute="public_id", required=True, **_ID)
    title = f.String(required=True)
    intro = f.String(required=True)
    language = f.String(allow_none=True, required=True)
    anonymous = f.Boolean(required=True)
    review_media = f.String(required=True, validate=v.OneOf([m.value for m in ReviewMedia]))
    retention_days = f.Integer(required=True)
    created_at = f.DateTime(required=True)
    questions = f.List(f.Nested(QuestionOut), required=True)


class InterviewList(ma.Schema):
    data = f.List(f.Nested(InterviewOut), required=True)


# Candidates

class Person(Strict):
    name = text_field(200, required=True)
    email = f.Email(required=True, validate=v.Length(max=254))


class InviteIn(Strict):
    candidates = f.List(f.Nested(Person), required=True, validate=v.Length(min=1, max=500))


class IdempotencyHeader(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    idempotency_key = f.String(data_key="Idempotency-Key", load_default=None,
                               validate=[v.Length(min=1, max=200), v.Regexp(r"^[\x21-\x7e]+$")],
                               metadata={"description": "Any unique text per logical request: a "
                                                        "retry with the same key and body invites nobody "
                                                        "twice and answers as the first call did"})


_STATUSES = [s.value for s in CandidateStatus]


class CandidateOut(ma.Schema):
    id = f.String(required=True, **_ID)
    interview_id = f.String(required=True)
    name = f.String(required=True, metadata={"description": "\"Candidate N\" in an anonymised interview"})
    email = f.String(allow_none=True, required=True,
                     metadata={"description": "null in an anonymised interview"})
    status = f.String(required=True, validate=v.OneOf(_STATUSES))
    deadline = f.DateTime(required=True, metadata={"description": "When the invite link expires"})
    started_at = f.DateTime(allow_none=True, required=True)
    completed_at = f.DateTime(allow_none=True, required=True)
    created_at = f.DateTime(required=True)
    updated_at = f.DateTime(required=True)
    rating = f.Float(allow_none=True, required=True,
                     metadata={"description": "Mean of submitted reviews' question ratings (1-5)"})
    decision = f.String(allow_none=True, required=True)
    review_url = f.String(required=True, metadata={"description": "The candidate's page for staff"})


class InvitedOut(CandidateOut):
    invite_url = f.String(allow_none=True, required=True,
                          metadata={"description": "The candidate's link, shown only in this answer"})


class InvitedList(ma.Schema):
    data = f.List(f.Nested(InvitedOut), required=True)
    replayed = f.Boolean(required=True, metadata={"description": "true: answered from an earlier call "
                                                                 "with the same Idempotency-Key"})


class CandidateQuery(ma.Schema):
    interview = f.String(validate=v.Length(max=32))
    status = f.String(validate=v.OneOf(_STATUSES))
    updated_since = f.AwareDateTime(default_timezone=UTC,
                                    metadata={"description": "ISO 8601; UTC if no zone"})
    cursor = f.String(validate=v.Length(max=200))
    limit = f.Integer(load_default=50, validate=v.Range(1, 200))


class CandidatePage(ma.Schema):
    data = f.List(f.Nested(CandidateOut), required=True)
    next_cursor = f.String(allow_none=True, required=True,
                           metadata={"description": "Pass as `cursor` for the next page; null at the end"})


class DeadlineIn(Strict):
    deadline = f.AwareDateTime(required=True, default_timezone=UTC,
                               metadata={"description": "The link's new expiry, in the future"})


class ErasureOut(ma.Schema):
    id = f.String(attribute="public_id", required=True)
    candidate_id = f.String(attribute="candidate_public_id", required=True)
    status = f.String(required=True, validate=v.OneOf(["queued", "done", "failed"]))
    failure_reason = f.String(allow_none=True, required=True)
    created_at = f.DateTime(required=True)
    finished_at = f.DateTime(allow_none=True, required=True)


# Answers

class AnswerOut(ma.Schema):
    id = f.String(required=True)
    question_id = f.String(required=True)
    take = f.Integer(required=True)
    status = f.String(required=True, validate=v.OneOf([s.value for s in AnswerStatus]))
    failure_reason = f.String(allow_none=True, required=True)
    kind = f.String(required=True)
    duration_s = f.Float(allow_none=True, required=True)
    has_transcript = f.Boolean(required=True)
    quality_flags = f.List(f.String(), required=True)
    ready_at = f.DateTime(allow_none=True, required=True)


class AnswerList(ma.Schema):
    data = f.List(f.Nested(AnswerOut), required=True)


class Word(ma.Schema):
    word = f.String(required=True)
    start = f.Float(allow_none=True)
    end = f.Float(allow_none=True)


class Segment(ma.Schema):
    start = f.Float(required=True)
    end = f.Float(required=True)
    text = f.String(required=True)
    words = f.List(f.Nested(Word), required=True)


class TranscriptOut(ma.Schema):
    answer_id = f.String(required=True)
    language = f.String(allow_none=True, required=True)
    text = f.String(required=True)
    segments = f.List(f.Nested(Segment), required=True)


class MediaOut(ma.Schema):
    answer_id = f.String(required=True)
    video_url = f.String(allow_none=True, required=True)
    audio_url = f.String(allow_none=True, required=True)
    poster_url = f.String(allow_none=True, required=True)
    expires_at = f.DateTime(required=True)


# Reviews and decisions

class ScoreOut(ma.Schema):
    question_id = f.String(required=True)
    value = f.Float(required=True)
    comment = f.String(required=True)


class ReviewOut(ma.Schema):
    grader = f.String(required=True)
    kind = f.String(required=True, validate=v.OneOf(["staff", "guest"]))
    recommendation = f.String(allow_none=True, required=True,
                              validate=v.OneOf([r.value for r in Recommendation]))
    comment = f.String(required=True)
    rating = f.Float(allow_none=True, required=True)
    scores = f.List(f.Nested(ScoreOut), required=True)


class ReviewsOut(ma.Schema):
    candidate_id = f.String(required=True)
    rating = f.Float(allow_none=True, required=True)
    disagreement = f.Boolean(required=True)
    reviews = f.List(f.Nested(ReviewOut), required=True,
                     metadata={"description": "Submitted reviews only; drafts are never shown"})


_DECISIONS = [d.value for d in DecisionValue]


class DecisionIn(Strict):
    decision = f.String(required=True, validate=v.OneOf(_DECISIONS))
    note = text_field(2000, load_default="")


class DecisionOut(ma.Schema):
    decision = f.String(attribute="value", required=True, validate=v.OneOf(_DECISIONS))
    note = f.String(required=True)
    decided_by = f.String(required=True)
    created_at = f.DateTime(required=True)


class DecisionList(ma.Schema):
    data = f.List(f.Nested(DecisionOut), required=True)
