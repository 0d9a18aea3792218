"""Organisations and their members: sign-ins, password resets and team invites."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import Timestamps, UTCDateTime, new_public_id


class Role(StrEnum):
    """What a member may do: owners also run the team; owners and recruiters write interviews,
    invite and decide; reviewers grade the interviews they see (stored as the value)."""

    OWNER = "owner"
    RECRUITER = "recruiter"
    REVIEWER = "reviewer"


AUTHOR_ROLES = frozenset({Role.OWNER, Role.RECRUITER})


class Organisation(Timestamps, db.Model):
    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_public_id)
    name: Mapped[str] = mapped_column(sa.String(200))
    # The voluntary self-identification form's categories (app.services.selfid); None: EEO-1's.
    self_id_scheme: Mapped[dict | None] = mapped_column(sa.JSON)
    # Days between a candidate's own deletion request and the erasure (1 to 30).
    deletion_countdown_days: Mapped[int] = mapped_column(default=7, server_default="7")
    # Whether a candidate's own download holds their scores and the decision.
    share_outcome: Mapped[bool] = mapped_column(default=False, server_default=sa.false())


class User(UserMixin, Timestamps, db.Model):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_public_id)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[str] = mapped_column(sa.String(20), default=Role.REVIEWER)
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    # Part of the id every session and remember-me cookie holds; bumped to end them all.
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")
    # A reviewer's scope (app.services.access): every interview of the organisation when true, else
    # only those they are assigned to. False by default, so that nothing widens access by omission.
    all_interviews: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # E-mail about completed candidates: "immediate" (one each), "digest" (one a day) or "off".
    notify: Mapped[str] = mapped_column(sa.String(12), default="digest", server_default="digest")
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
    # Names the link to the e-mail that carries it (app.security.reset_token); None before 0013.
    public_id: Mapped[str | None] = mapped_column(sa.String(32), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])


class TeamInvite(Timestamps, db.Model):
    """An emailed link that lets a colleague create an account in the organisation with a role."""

    __tablename__ = "team_invites"
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_public_id)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    email: Mapped[str] = mapped_column(sa.String(254))
    role: Mapped[str] = mapped_column(sa.String(20))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

