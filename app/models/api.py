"""The public API's own rows: organisations' API keys, the answers kept for Idempotency-Key
retries, and erasures asked for through the API."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.accounts import User
from app.models.base import Timestamps, UTCDateTime, new_public_id, utcnow


class ApiKey(Timestamps, db.Model):
    """One organisation's key for /api/v1, made by an owner with a name and scopes. Only the
    SHA-256 of the key is kept (the key is shown once); `prefix` is its first characters, shown so
    that an owner can tell keys apart. A revoked key stops at its next call."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_public_id)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(sa.String(100))
    scopes: Mapped[str] = mapped_column(sa.String(100))  # "read,invite", in SCOPES order
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(16))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by: Mapped[User] = relationship()

    @property
    def scope_list(self) -> list[str]:
        return [s for s in self.scopes.split(",") if s]

    @property
    def label(self) -> str:
        """How the audit log names this key's calls."""
        return f"API key “{self.name}”"


class ApiIdempotency(db.Model):
    """What one key's call with an Idempotency-Key answered, written in the transaction of its
    change: a retry with the same key and body gets the same answer and changes nothing."""

    __tablename__ = "api_idempotency"
    __table_args__ = (sa.UniqueConstraint("api_key_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    api_key_id: Mapped[int] = mapped_column(sa.ForeignKey("api_keys.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(200))
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    status_code: Mapped[int] = mapped_column()
    body: Mapped[dict] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ApiErasure(db.Model):
    """A candidate's complete erasure asked for through the API, carried out by a job; its status
    is read back at /api/v1/erasures/<public_id>. Names the candidate by public id only."""

    __tablename__ = "api_erasures"
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_public_id)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    api_key_id: Mapped[int | None] = mapped_column(sa.ForeignKey("api_keys.id", ondelete="SET NULL"))
    key_label: Mapped[str] = mapped_column(sa.String(200))
    candidate_public_id: Mapped[str] = mapped_column(sa.String(32), index=True)
    status: Mapped[str] = mapped_column(sa.String(12), default="queued")  # queued, done, failed
    failure_reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def _candidates_by_update():
    """The API's candidate list walks an organisation's candidates in (updated_at, id) order."""
    from app.models.candidates import Candidate

    return sa.Index("ix_candidates_org_id_updated_at", Candidate.org_id, Candidate.updated_at, Candidate.id)


_candidates_by_update()
