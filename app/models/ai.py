"""AI assistance: advisory evaluations of answers (history kept) and drafts of questions and ideal
answers, each with the model, prompt version and settings that made it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.accounts import User
from app.models.base import UTCDateTime, new_public_id, utcnow


class AIStatus(StrEnum):
    """Where one evaluation or draft stands."""

    QUEUED = "queued"
    DONE = "done"
    FAILED = "failed"


class AIEvaluation(db.Model):
    """One advisory evaluation of one answer. A new one (after the ideal answer changed, or a retry)
    marks the older ones not current; they stay as history."""

    __tablename__ = "ai_evaluations"
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_public_id)
    answer_id: Mapped[int] = mapped_column(sa.ForeignKey("answers.id", ondelete="CASCADE"), index=True)
    candidate_id: Mapped[int] = mapped_column(sa.ForeignKey("candidates.id"), index=True)
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("questions.id"), index=True)
    current: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    status: Mapped[str] = mapped_column(sa.String(12), default=AIStatus.QUEUED)
    # {"summary", "quotes": [{"text", "start"}], "scores": {name: 1-5}, "reasons": {name: text}}
    result: Mapped[dict | None] = mapped_column(sa.JSON)
    mean: Mapped[float | None] = mapped_column(sa.Float)
    failure_reason: Mapped[str | None] = mapped_column(sa.Text)
    model: Mapped[str | None] = mapped_column(sa.String(200))
    prompt_version: Mapped[str | None] = mapped_column(sa.String(40))
    temperature: Mapped[float | None] = mapped_column(sa.Float)
    seconds: Mapped[float | None] = mapped_column(sa.Float)
    input_hash: Mapped[str | None] = mapped_column(sa.String(64))
    flagged_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    flag_note: Mapped[str | None] = mapped_column(sa.Text)
    flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    flagged_by: Mapped[User | None] = relationship()


class AIDraft(db.Model):
    """A drafting job: questions from a job description, or an ideal answer for one question. Its
    items stay suggestions until the hirer accepts each one."""

    __tablename__ = "ai_drafts"
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_public_id)
    interview_id: Mapped[int] = mapped_column(sa.ForeignKey("interviews.id"), index=True)
    question_id: Mapped[int | None] = mapped_column(sa.ForeignKey("questions.id", ondelete="SET NULL"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(sa.String(12))  # "questions" or "ideal"
    source: Mapped[str] = mapped_column(sa.Text, default="")  # the pasted job description
    count: Mapped[int] = mapped_column(default=5)
    status: Mapped[str] = mapped_column(sa.String(12), default=AIStatus.QUEUED)
    # [{"prompt", "ideal_answer", "criteria", "state": "pending"|"accepted"|"discarded"}]
    items: Mapped[list | None] = mapped_column(sa.JSON)
    failure_reason: Mapped[str | None] = mapped_column(sa.Text)
    model: Mapped[str | None] = mapped_column(sa.String(200))
    prompt_version: Mapped[str | None] = mapped_column(sa.String(40))
    seconds: Mapped[float | None] = mapped_column(sa.Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AISummary(db.Model):
    """The AI's short advisory summary of a candidate, written from the current evaluations of their
    answers (never from the recordings, and never with their name). A new one marks the older ones
    not current."""

    __tablename__ = "ai_summaries"
    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(sa.ForeignKey("candidates.id"), index=True)
    current: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    status: Mapped[str] = mapped_column(sa.String(12), default=AIStatus.QUEUED)
    text: Mapped[str | None] = mapped_column(sa.Text)
    failure_reason: Mapped[str | None] = mapped_column(sa.Text)
    model: Mapped[str | None] = mapped_column(sa.String(200))
    prompt_version: Mapped[str | None] = mapped_column(sa.String(40))
    seconds: Mapped[float | None] = mapped_column(sa.Float)
    input_hash: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
