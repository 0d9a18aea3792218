"""The tables. Integer keys inside; a random public_id in every URL, link and object key."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.states import UNFINISHED, AnswerStatus, CandidateStatus

ROLES = ("owner", "recruiter", "reviewer")
AUTHOR_ROLES = frozenset({"owner", "recruiter"})


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_public_id() -> str:
    return secrets.token_urlsafe(12)


class UTCDateTime(sa.types.TypeDecorator):
    """A timezone-aware datetime that comes back aware from SQLite too."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Organisation(Timestamps, db.Model):
    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_public_id)
    name: Mapped[str] = mapped_column(sa.String(200))


class User(UserMixin, Timestamps, db.Model):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_public_id)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[str] = mapped_column(sa.String(20), default="reviewer")
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    # Part of the id every session and remember-me cookie holds; bumped to end them all.
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")
    # A reviewer's scope (app.services.access): every interview of the organisation when true, else
    # only those they are assigned to. False by default, so that nothing widens access by omission.
    all_interviews: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # This browser's sign-in (SignInSession) while a request runs, set by app.services.signin; not
    # a column: each browser signed in as this user has its own.
    sign_in_token = None

    organisation: Mapped[Organisation] = relationship()

    def get_id(self) -> str:
        # The cookies hold the public id (never the integer key), the session epoch and this
        # browser's sign-in token: removing a member bumps the epoch, so sessions from before then
        # fail even once they are restored; signing out deletes the sign-in, so copies of that
        # browser's cookies fail. Without a sign-in the id can load nobody.
        return f"{self.public_id}:{self.session_epoch}:{self.sign_in_token or ''}"

    def end_sessions(self) -> None:
        """Sign this user out everywhere: every session and remember-me cookie stops working."""
        self.session_epoch = User.session_epoch + 1
        db.session.execute(sa.delete(SignInSession).where(SignInSession.user_id == self.id))

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def can_author(self) -> bool:
        return self.role in AUTHOR_ROLES


class SignInSession(Timestamps, db.Model):
    """One browser signed in as a member: its token (256 random bits) is part of the id the
    browser's session and remember-me cookies hold, and only the token's SHA-256 is kept. Signing
    out deletes the row, so a copy of those cookies stops working while the member's other
    browsers stay signed in; User.end_sessions deletes every row of the member."""

    __tablename__ = "sign_in_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)


class PasswordReset(Timestamps, db.Model):
    """A once-only link that sets a member's password, made by an owner or, with no creator, by the
    operator's `flask reset-password`. Only the SHA-256 of its token is kept; a newer link for the
    same member, or their changing the password themselves, revokes it."""

    __tablename__ = "password_resets"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])


class Interview(Timestamps, db.Model):
    __tablename__ = "interviews"
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_public_id)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    intro: Mapped[str] = mapped_column(sa.Text, default="")
    language: Mapped[str | None] = mapped_column(sa.String(16))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # Fair review: reviewers see "Candidate N", no email or picture; media "video", "audio" or
    # "transcript" limits what reviewers get (owners and recruiters always see everything).
    anonymous: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    review_media: Mapped[str] = mapped_column(sa.String(12), default="video", server_default="video")
    # The candidate side: whom to contact for another way to apply, how long recordings are
    # kept, and whether requests for extra time are granted at once ("auto") or by a person.
    contact_email: Mapped[str | None] = mapped_column(sa.String(254))
    retention_days: Mapped[int] = mapped_column(default=180, server_default="180")
    accommodations: Mapped[str] = mapped_column(sa.String(12), default="review",
                                                server_default="review")

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
    # "video" (default), "audio" (sound only) or "written" (typed, within answer_seconds).
    kind: Mapped[str] = mapped_column(sa.String(10), default="video", server_default="video")

    interview: Mapped[Interview] = relationship(back_populates="questions")


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
    # Extra time: every think and answer limit is multiplied by time_multiplier once granted.
    time_multiplier: Mapped[float] = mapped_column(sa.Float, default=1.0, server_default="1")
    accommodation_status: Mapped[str | None] = mapped_column(sa.String(12))
    accommodation_requested: Mapped[float | None] = mapped_column(sa.Float)
    accommodation_note: Mapped[str | None] = mapped_column(sa.Text)

    interview: Mapped[Interview] = relationship()
    answers: Mapped[list[Answer]] = relationship(back_populates="candidate")

    @property
    def delete_by(self) -> datetime:
        """The latest date this candidate's recordings are kept until."""
        from datetime import timedelta

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


class Answer(Timestamps, db.Model):
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
    original_key: Mapped[str | None] = mapped_column(sa.String(300))
    original_size: Mapped[int | None] = mapped_column(sa.BigInteger)
    original_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    chunk_count: Mapped[int] = mapped_column(default=0, server_default="0")
    received_bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    client_duration_ms: Mapped[int | None] = mapped_column()

    duration_s: Mapped[float | None] = mapped_column(sa.Float)
    width: Mapped[int | None] = mapped_column()
    height: Mapped[int | None] = mapped_column()
    mp4_key: Mapped[str | None] = mapped_column(sa.String(300))
    mp4_size: Mapped[int | None] = mapped_column(sa.BigInteger)
    audio_key: Mapped[str | None] = mapped_column(sa.String(300))
    poster_key: Mapped[str | None] = mapped_column(sa.String(300))
    poster_size: Mapped[int | None] = mapped_column(sa.BigInteger)
    captions_key: Mapped[str | None] = mapped_column(sa.String(300))
    transcript: Mapped[dict | None] = mapped_column(sa.JSON)
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


class AuditEvent(db.Model):
    """One thing done to an organisation's team or candidates' data: who (a member, or the operator
    or the system, with the label they had then), what (an action code), to what (a subject's kind and
    public id) and when. Written by app.services.audit in the transaction of the change it records.
    Never a candidate's name or email: a candidate is named by public id only, so that an erased
    candidate leaves nothing here that identifies them."""

    __tablename__ = "audit_events"
    __table_args__ = (sa.Index("ix_audit_events_org_id_created_at", "org_id", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(sa.String(200))
    action: Mapped[str] = mapped_column(sa.String(40))
    subject_kind: Mapped[str] = mapped_column(sa.String(20))
    subject_id: Mapped[str] = mapped_column(sa.String(32))
    detail: Mapped[dict | None] = mapped_column(sa.JSON)


# Grading, decisions, share links and team invites live in their own module; imported here so
# that `from app.models import ...` and the metadata see every table.
from app.models_review import (  # noqa: E402, F401
    DECISIONS,
    RECOMMENDATIONS,
    SHARE_PERMISSIONS,
    CandidateStats,
    Decision,
    GuestScore,
    InterviewAssignment,
    Review,
    ShareGuest,
    ShareLink,
    ShareView,
    TeamInvite,
    share_link_candidates,
)
