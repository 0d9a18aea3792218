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
    # Closed: nobody new may start (those who started finish until their link expires); archived:
    # also out of the default lists, its data kept under retention. A template takes no candidates.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_template: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # The open apply link (public: name and e-mail give a candidate their own invite), stored as the
    # SHA-256 of its token; None: turned off.
    apply_token_hash: Mapped[str | None] = mapped_column(sa.String(64), index=True, unique=True)
    # Each candidate gets the questions in their own random order (drawn when they start).
    shuffle_questions: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Outreach: each new candidate's deadline this many days after the invitation (their own stays
    # absolute, Candidate.expires_at); the invitation e-mail's own words (None: the default, in the
    # candidate's language); reminders this many hours before each candidate's current deadline;
    # the zone deadlines are written in for a candidate whose own zone is not known yet.
    deadline_days: Mapped[int] = mapped_column(default=14, server_default="14")
    invitation_subject: Mapped[str | None] = mapped_column(sa.String(300))
    invitation_body: Mapped[str | None] = mapped_column(sa.Text)
    reminder_hours: Mapped[str] = mapped_column(sa.String(60), default="48,24", server_default="48,24")
    time_zone: Mapped[str] = mapped_column(sa.String(64), default="UTC", server_default="UTC")
    # A candidate's request for a later deadline of up to this many days is granted at once (once);
    # longer ones, or 0 here, wait for an owner or recruiter.
    auto_extension_days: Mapped[int] = mapped_column(default=0, server_default="0")
    # AI assistance (issue 18), off until an owner turns it on: advisory evaluations of answers,
    # shown to a grader after their own score unless ai_before_grading (with a warning).
    ai_evaluation: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    ai_before_grading: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    organisation: Mapped[Organisation] = relationship()
    questions: Mapped[list[Question]] = relationship(
        back_populates="interview", order_by="Question.position", cascade="all, delete-orphan"
    )

    def slots(self) -> list[list[Question]]:
        """The questions grouped into the places a candidate answers: a question alone, or a pool
        (questions sharing a pool name, one drawn per candidate) where its first member stands."""
        slots: list[list[Question]] = []
        pools: dict[str, list[Question]] = {}
        for q in self.questions:
            if q.pool is None:
                slots.append([q])
            elif q.pool in pools:
                pools[q.pool].append(q)
            else:
                pools[q.pool] = [q]
                slots.append(pools[q.pool])
        return slots

    @property
    def draws(self) -> bool:
        """Whether candidates are given their own draw of questions or order when they start."""
        return self.shuffle_questions or any(q.pool is not None for q in self.questions)

    def given(self, plan: list[int] | None) -> list[Question]:
        """The questions a candidate is given, in order: those of their plan (drawn when they
        started), and for a place their plan does not cover (none, or added since) its first
        question, in today's order after the planned ones."""
        rank = {qid: i for i, qid in enumerate(plan or [])}
        chosen = [next((q for q in slot if q.id in rank), slot[0]) for slot in self.slots()]
        return sorted(chosen, key=lambda q: (rank.get(q.id, len(rank)), q.position))


class QuestionBody:
    """What a question asks and within which limits, with its rubric: shared by an interview's
    questions and the organisation's bank, so an insert or a save copies every part."""

    prompt: Mapped[str] = mapped_column(sa.Text)
    think_seconds: Mapped[int] = mapped_column(default=30)
    answer_seconds: Mapped[int] = mapped_column(default=120)
    max_takes: Mapped[int] = mapped_column(default=2)
    # The rubric, for graders only: what a strong answer contains, and named criteria scored 1-5.
    ideal_answer: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    criteria: Mapped[list | None] = mapped_column(sa.JSON)
    kind: Mapped[str] = mapped_column(sa.String(10), default=QuestionKind.VIDEO,
                                      server_default=QuestionKind.VIDEO.value)

    @staticmethod
    def limits() -> tuple[sa.CheckConstraint, ...]:
        """The table's checks on the limits (named per table by the naming convention)."""
        return (sa.CheckConstraint("think_seconds >= 0", name="think_nonneg"),
                sa.CheckConstraint("answer_seconds > 0", name="answer_positive"),
                sa.CheckConstraint("max_takes >= 1", name="takes_positive"))


class Question(QuestionBody, Timestamps, db.Model):
    __tablename__ = "questions"
    __table_args__ = QuestionBody.limits()
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_public_id)
    interview_id: Mapped[int] = mapped_column(sa.ForeignKey("interviews.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    # When the wording was last corrected after candidates had answered (graders see "edited").
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Questions of one interview sharing a pool name are alternatives: each candidate gets one.
    pool: Mapped[str | None] = mapped_column(sa.String(40))

    interview: Mapped[Interview] = relationship(back_populates="questions")


class BankQuestion(QuestionBody, Timestamps, db.Model):
    """A question saved in the organisation's bank, to insert into any of its interviews."""

    __tablename__ = "bank_questions"
    __table_args__ = QuestionBody.limits()
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_public_id)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))


class InterviewAssignment(db.Model):
    """A reviewer assigned to an interview; a reviewer not set to all interviews sees only these."""

    __tablename__ = "interview_assignments"
    __table_args__ = (sa.UniqueConstraint("interview_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    interview_id: Mapped[int] = mapped_column(sa.ForeignKey("interviews.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

