"""Interviews, their questions, and the reviewers assigned to them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.accounts import Organisation
from app.models.base import Timestamps, UTCDateTime, new_public_id, utcnow


class ReviewMedia(StrEnum):
    """What reviewers of an interview may load (owners and recruiters always get everything)."""

    VIDEO = "video"
    AUDIO = "audio"  # the sound alone, and the transcript
    TRANSCRIPT = "transcript"


class AccommodationPolicy(StrEnum):
    """How an interview answers candidates' requests for extra time."""

    REVIEW = "review"  # an owner or recruiter grants or declines each one
    AUTO = "auto"  # granted at once


class QuestionKind(StrEnum):
    """What a question asks for."""

    VIDEO = "video"
    AUDIO = "audio"  # sound only
    WRITTEN = "written"  # typed, within answer_seconds


class Interview(Timestamps, db.Model):
    __tablename__ = "interviews"
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_public_id)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    intro: Mapped[str] = mapped_column(sa.Text, default="")
    # The spoken language (what answers are given in; transcription uses it); None: detected.
    language: Mapped[str | None] = mapped_column(sa.String(16))
    # The language of the candidate's pages (app.i18n.LOCALES), a separate choice: a company may ask
    # for answers in English while the candidate reads the page in Chinese.
    interface_language: Mapped[str] = mapped_column(sa.String(16), default="en", server_default="en")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # Fair review: reviewers see "Candidate N", no email or picture; review_media limits what
    # reviewers get (owners and recruiters always see everything).
    anonymous: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    review_media: Mapped[str] = mapped_column(sa.String(12), default=ReviewMedia.VIDEO,
                                              server_default=ReviewMedia.VIDEO.value)
    # The candidate side: whom to contact for another way to apply, how long recordings are
    # kept, and how requests for extra time are answered.
    contact_email: Mapped[str | None] = mapped_column(sa.String(254))
    retention_days: Mapped[int] = mapped_column(default=180, server_default="180")
    accommodations: Mapped[str] = mapped_column(sa.String(12), default=AccommodationPolicy.REVIEW,
                                                server_default=AccommodationPolicy.REVIEW.value)
    # AI assistance (issue 18), off until an owner turns it on: advisory evaluations of answers,
    # shown to a grader after their own score unless ai_before_grading (with a warning).
    ai_evaluation: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    ai_before_grading: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    organisation: Mapped[Organisation] = relationship()
    questions: Mapped[list[Question]] = relationship(
        back_populates="interview", order_by="Question.position", cascade="all, delete-orphan"
    )


class Question(Timestamps, db.Model):
    __tablename__ = "questions"
    __table_args__ = (
        sa.CheckConstraint("think_seconds >= 0", name="think_nonneg"),
        sa.CheckConstraint("answer_seconds > 0", name="answer_positive"),
        sa.CheckConstraint("max_takes >= 1", name="takes_positive"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_public_id)
    interview_id: Mapped[int] = mapped_column(sa.ForeignKey("interviews.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    prompt: Mapped[str] = mapped_column(sa.Text)
    think_seconds: Mapped[int] = mapped_column(default=30)
    answer_seconds: Mapped[int] = mapped_column(default=120)
    max_takes: Mapped[int] = mapped_column(default=2)
    # The rubric, for graders only: what a strong answer contains, and named criteria scored 1-5.
    ideal_answer: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    criteria: Mapped[list | None] = mapped_column(sa.JSON)
    kind: Mapped[str] = mapped_column(sa.String(10), default=QuestionKind.VIDEO,
                                      server_default=QuestionKind.VIDEO.value)

    interview: Mapped[Interview] = relationship(back_populates="questions")


class InterviewAssignment(db.Model):
    """A reviewer assigned to an interview; a reviewer not set to all interviews sees only these."""

    __tablename__ = "interview_assignments"
    __table_args__ = (sa.UniqueConstraint("interview_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    interview_id: Mapped[int] = mapped_column(sa.ForeignKey("interviews.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

