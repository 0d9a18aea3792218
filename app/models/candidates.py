"""Candidates and their answers: each take, its chunks and its processing stages' timings."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import MediaOutputs, Timestamps, UTCDateTime, new_public_id, utcnow
from app.models.interviews import Interview, Question
from app.states import UNFINISHED, AnswerStatus, CandidateStatus


class AccommodationStatus(StrEnum):
    """Where a candidate's request for extra time stands (none asked: NULL)."""

    REQUESTED = "requested"
    GRANTED = "granted"
    DECLINED = "declined"


class Candidate(Timestamps, db.Model):
    __tablename__ = "candidates"
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_public_id)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    interview_id: Mapped[int] = mapped_column(sa.ForeignKey("interviews.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str] = mapped_column(sa.String(254))
    # Only the SHA-256 of the invite token is kept; the token itself is shown once.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(sa.String(20), default=CandidateStatus.INVITED)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    package_version: Mapped[int] = mapped_column(default=0, server_default="0")
    package_key: Mapped[str | None] = mapped_column(sa.String(300))
    consent_notice_version: Mapped[str | None] = mapped_column(sa.String(20))
    # The language the notice was shown in when they agreed (the notice's version is per language).
    consent_locale: Mapped[str | None] = mapped_column(sa.String(16))
    # Their own choice of interface language (the switcher on every page); None: the interview's.
    locale: Mapped[str | None] = mapped_column(sa.String(16))
    # Their IANA time zone, from their browser; None: unknown, their pages are dated in UTC.
    time_zone: Mapped[str | None] = mapped_column(sa.String(64))
    # Extra time: every think and answer limit is multiplied by time_multiplier once granted.
    time_multiplier: Mapped[float] = mapped_column(sa.Float, default=1.0, server_default="1")
    accommodation_status: Mapped[str | None] = mapped_column(sa.String(12))
    accommodation_requested: Mapped[float | None] = mapped_column(sa.Float)
    accommodation_note: Mapped[str | None] = mapped_column(sa.Text)
    # The question ids drawn for them when they started (pools, shuffled order); None: the
    # interview's questions as they stand (Interview.given).
    question_plan: Mapped[list | None] = mapped_column(sa.JSON)
    # Outreach: the invitation e-mail's fate (None: none sent, "emailed", "bounced": refused for
    # good), and when the landing page was first opened.
    mail_status: Mapped[str | None] = mapped_column(sa.String(12))
    # The invite link's version (app.security.invite_token): a resend moves it on, and the old link
    # stops working, since the token is derived from it and only its hash is kept.
    token_version: Mapped[int] = mapped_column(default=0, server_default="0")
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Their request for a later deadline: how many more days, why (optional; owners and recruiters
    # only), and where it stands (requested, granted, declined; None: none asked).
    deadline_request_days: Mapped[int | None] = mapped_column()
    deadline_request_note: Mapped[str | None] = mapped_column(sa.Text)
    deadline_request_status: Mapped[str | None] = mapped_column(sa.String(12))
    # The candidate's own choices on their data page: to leave the process (their data stays), and
    # to have everything deleted at deletion_due_at (a purge pass does it; they may cancel before).
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deletion_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deletion_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # They chose review by people only: nothing of theirs goes to a language model.
    human_only: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    interview: Mapped[Interview] = relationship()
    answers: Mapped[list[Answer]] = relationship(back_populates="candidate")

    @property
    def questions(self) -> list[Question]:
        """The questions this candidate is given, in their order (Interview.given)."""
        return self.interview.given(self.question_plan)

    @property
    def delete_by(self) -> datetime:
        """The latest date this candidate's recordings are kept until."""

        return self.created_at + timedelta(days=self.interview.retention_days)

    @hybrid_property
    def effective_status(self) -> str:
        """The status shown: EXPIRED for one who has not finished once the link's expiry passed."""
        if self.status in UNFINISHED and self.expires_at <= utcnow():
            return CandidateStatus.EXPIRED
        return self.status

    @effective_status.inplace.expression
    @classmethod
    def _effective_status_sql(cls) -> sa.ColumnElement[str]:
        return sa.case((sa.and_(cls.status.in_(UNFINISHED), cls.expires_at <= utcnow()),
                        CandidateStatus.EXPIRED.value), else_=cls.status)


    @hybrid_property
    def outreach_status(self) -> str:
        """Where reaching this candidate stands: completed, expired, started, opened, bounced,
        emailed or invited (the first that holds)."""
        if self.status == CandidateStatus.COMPLETED:
            return CandidateStatus.COMPLETED
        if self.effective_status == CandidateStatus.EXPIRED:
            return CandidateStatus.EXPIRED
        if self.status == CandidateStatus.STARTED:
            return CandidateStatus.STARTED
        if self.opened_at is not None:
            return "opened"
        return self.mail_status or CandidateStatus.INVITED

    @outreach_status.inplace.expression
    @classmethod
    def _outreach_status_sql(cls) -> sa.ColumnElement[str]:
        return sa.case(
            (cls.status == CandidateStatus.COMPLETED.value, CandidateStatus.COMPLETED.value),
            (sa.and_(cls.status.in_(UNFINISHED), cls.expires_at <= utcnow()), CandidateStatus.EXPIRED.value),
            (cls.status == CandidateStatus.STARTED.value, CandidateStatus.STARTED.value),
            (cls.opened_at.is_not(None), "opened"),
            else_=sa.func.coalesce(cls.mail_status, CandidateStatus.INVITED.value))


class Answer(MediaOutputs, Timestamps, db.Model):
    """One take of one question by one candidate, from first chunk to review-ready media."""

    __tablename__ = "answers"
    __table_args__ = (sa.UniqueConstraint("candidate_id", "question_id", "take"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_public_id)
    candidate_id: Mapped[int] = mapped_column(sa.ForeignKey("candidates.id"), index=True)
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("questions.id"), index=True)
    take: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(sa.String(20), default=AnswerStatus.RECORDING)
    failure_reason: Mapped[str | None] = mapped_column(sa.Text)

    content_type: Mapped[str] = mapped_column(sa.String(100))
    written_text: Mapped[str | None] = mapped_column(sa.Text)
    # What this take was given when it started: the prompt's exact words and the limits (with any
    # extra time), so a later correction of the question never changes what the candidate answered.
    prompt_text: Mapped[str | None] = mapped_column(sa.Text)
    given_limits: Mapped[dict | None] = mapped_column(sa.JSON)
    original_key: Mapped[str | None] = mapped_column(sa.String(300))
    original_size: Mapped[int | None] = mapped_column(sa.BigInteger)
    original_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    chunk_count: Mapped[int] = mapped_column(default=0, server_default="0")
    received_bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    client_duration_ms: Mapped[int | None] = mapped_column()

    # Technical checks for graders (never a score): one column per stage, so the two stages
    # that run side by side never overwrite each other's findings.
    quality_audio: Mapped[dict | None] = mapped_column(sa.JSON)
    quality_video: Mapped[dict | None] = mapped_column(sa.JSON)
    recoveries: Mapped[int] = mapped_column(default=0, server_default="0")
    uploaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    candidate: Mapped[Candidate] = relationship(back_populates="answers")
    question: Mapped[Question] = relationship()
    # Read only: runs are inserted by pipeline.record_stage and removed with the answer (ON DELETE
    # CASCADE), so this collection never writes.
    stage_runs: Mapped[list[AnswerStageRun]] = relationship(
        viewonly=True, order_by="(AnswerStageRun.finished_at, AnswerStageRun.id)")

    @property
    def stage_seconds(self) -> dict[str, float]:
        """Seconds each processing stage took in its latest run (a retried answer shows its last)."""
        return {run.stage: run.seconds for run in self.stage_runs}

    @property
    def quality_flags(self) -> list[str]:
        """Human-readable warnings from both checks, e.g. "No sound was detected"."""
        flags = []
        for found in (self.quality_audio or {}, self.quality_video or {}):
            flags.extend(found.get("flags", []))
        return flags

    @property
    def transcript_text(self) -> str:
        return (self.transcript or {}).get("text", "")


class AnswerChunk(db.Model):
    """One acknowledged piece of a recording; (answer, seq) makes uploads idempotent."""

    __tablename__ = "answer_chunks"
    __table_args__ = (sa.UniqueConstraint("answer_id", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(sa.ForeignKey("answers.id"), index=True)
    seq: Mapped[int] = mapped_column()
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AnswerStageRun(db.Model):
    """How long one run of one processing stage took. Stages that run side by side each insert
    their own row, so neither can overwrite the other's timing."""

    __tablename__ = "answer_stage_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(sa.ForeignKey("answers.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(sa.String(40))
    seconds: Mapped[float] = mapped_column(sa.Float)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

