"""Grading: each grader's scores and review, the decisions, and the figures the queue sorts on."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.accounts import User
from app.models.base import Timestamps, UTCDateTime, utcnow


class Recommendation(StrEnum):
    """A grader's overall recommendation on a candidate (Review.recommendation)."""

    STRONG_YES = "strong_yes"
    YES = "yes"
    NO = "no"
    STRONG_NO = "strong_no"


class DecisionValue(StrEnum):
    """What an owner or recruiter decided about a candidate (Decision.value)."""

    ADVANCE = "advance"
    HOLD = "hold"
    REJECT = "reject"


class Score(Timestamps, db.Model):
    """One grader's 1-5 score and comment on one candidate's answer to one question."""

    __tablename__ = "scores"
    __table_args__ = (
        sa.UniqueConstraint("candidate_id", "question_id", "user_id"),
        sa.CheckConstraint("value BETWEEN 1 AND 5", name="value_range"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(sa.ForeignKey("candidates.id"), index=True)
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("questions.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    value: Mapped[int] = mapped_column()
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    # Per-criterion scores where the question has criteria; value is then their rounded mean.
    criteria: Mapped[list | None] = mapped_column(sa.JSON)

    user: Mapped[User] = relationship()


class Review(Timestamps, db.Model):
    """One grader's submission on one candidate: the overall recommendation, and the moment the
    grader's scores became final and the others' scores became visible to them.

    A row with no recommendation records that an owner or recruiter chose to see the scores
    without grading (they may no longer grade that candidate)."""

    __tablename__ = "reviews"
    __table_args__ = (sa.UniqueConstraint("candidate_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(sa.ForeignKey("candidates.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    recommendation: Mapped[str | None] = mapped_column(sa.String(20))
    comment: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # This grader's submitted scores on the candidate, summed up once at submission (they never
    # change after it), so the dashboard's grader figures read reviews rather than every score.
    score_sum: Mapped[int | None] = mapped_column()
    score_count: Mapped[int | None] = mapped_column()
    score_min: Mapped[int | None] = mapped_column()
    score_max: Mapped[int | None] = mapped_column()

    user: Mapped[User] = relationship()


class CandidateStats(db.Model):
    """Per-candidate figures the queue sorts and filters on, kept current by the grading service
    (a review's scores never change once submitted, so a refresh on submit and decide suffices)."""

    __tablename__ = "candidate_stats"
    candidate_id: Mapped[int] = mapped_column(sa.ForeignKey("candidates.id"), primary_key=True)
    rating: Mapped[float | None] = mapped_column(sa.Float)
    reviews: Mapped[int] = mapped_column(default=0, server_default="0")
    decision: Mapped[str | None] = mapped_column(sa.String(20))
    disagreement: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # When the first grader submitted a review (the dashboard's time to first review).
    first_reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Decision(db.Model):
    """Advance, hold or reject: append-only, the latest row per candidate is the current one."""

    __tablename__ = "decisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(sa.ForeignKey("candidates.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    value: Mapped[str] = mapped_column(sa.String(20))
    note: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    # A message for the candidate (shown on their page; sent by e-mail once outreach exists).
    candidate_message: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()

