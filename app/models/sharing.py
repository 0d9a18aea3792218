"""Share links: a candidate or a shortlist shown to guests, their scores, and every view."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.accounts import User
from app.models.base import Timestamps, UTCDateTime, new_public_id, utcnow
from app.models.candidates import Answer, Candidate


class SharePermission(StrEnum):
    """What a share link lets its guests do."""

    VIEW = "view"
    SCORE = "score"  # view, and score each answer 1-5


share_link_candidates = sa.Table(
    "share_link_candidates", db.metadata,
    sa.Column("share_link_id", sa.ForeignKey("share_links.id"), primary_key=True),
    sa.Column("candidate_id", sa.ForeignKey("candidates.id"), primary_key=True),
)


class ShareLink(Timestamps, db.Model):
    """A link to one candidate or a shortlist; only the SHA-256 of its token is kept."""

    __tablename__ = "share_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_public_id)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    label: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    permission: Mapped[str] = mapped_column(sa.String(10), default=SharePermission.VIEW)
    hide_names: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by: Mapped[User] = relationship()
    candidates: Mapped[list[Candidate]] = relationship(secondary=share_link_candidates,
                                                       order_by=Candidate.id)

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= utcnow():
            return "expired"
        return "active"


class ShareGuest(db.Model):
    """Someone who opened a share link and gave a name before scoring."""

    __tablename__ = "share_guests"
    id: Mapped[int] = mapped_column(primary_key=True)
    share_link_id: Mapped[int] = mapped_column(sa.ForeignKey("share_links.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GuestScore(Timestamps, db.Model):
    """A guest's 1-5 score on one answer, kept apart from staff scores."""

    __tablename__ = "guest_scores"
    __table_args__ = (
        sa.UniqueConstraint("guest_id", "candidate_id", "question_id"),
        sa.CheckConstraint("value BETWEEN 1 AND 5", name="value_range"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    guest_id: Mapped[int] = mapped_column(sa.ForeignKey("share_guests.id"), index=True)
    candidate_id: Mapped[int] = mapped_column(sa.ForeignKey("candidates.id"), index=True)
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("questions.id"))
    value: Mapped[int] = mapped_column()
    comment: Mapped[str] = mapped_column(sa.Text, default="", server_default="")

    guest: Mapped[ShareGuest] = relationship()


class ShareView(db.Model):
    """One page view through a share link, or one answer's media fetched through it (kind video,
    poster or captions: at most one row per link, guest, answer and kind every few minutes),
    shown to the organisation."""

    __tablename__ = "share_views"
    id: Mapped[int] = mapped_column(primary_key=True)
    share_link_id: Mapped[int] = mapped_column(sa.ForeignKey("share_links.id"), index=True)
    candidate_id: Mapped[int | None] = mapped_column(sa.ForeignKey("candidates.id"))
    guest_id: Mapped[int | None] = mapped_column(sa.ForeignKey("share_guests.id"))
    kind: Mapped[str] = mapped_column(sa.String(10), default="page", server_default="page")
    answer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("answers.id"))
    path: Mapped[str] = mapped_column(sa.String(500))
    ip: Mapped[str] = mapped_column(sa.String(64), default="", server_default="")
    user_agent: Mapped[str] = mapped_column(sa.String(300), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    guest: Mapped[ShareGuest | None] = relationship()
    candidate: Mapped[Candidate | None] = relationship()
    answer: Mapped[Answer | None] = relationship()

