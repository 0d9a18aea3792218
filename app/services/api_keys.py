"""Organisations' API keys: made by owners (or the operator's `flask api-key create`) with a name
and scopes, shown once and kept only as a SHA-256, revoked at once, their last use recorded.

A key acts for its organisation as a reader that never grades: it sees what owners see, except
that an anonymised interview's candidates stay "Candidate N" (app.blueprints.api). What it may
change is what its scopes allow. A key stops working once revoked, and once the owner who made it
is no longer an active owner (fail closed: a removed owner's keys do not outlive them)."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import ApiKey, Organisation, Role, User, utcnow
from app.security import hash_token, new_token
from app.services import ServiceError, audit

# Every scope, in the order shown and stored.
SCOPES = {
    "read": "Read interviews, candidates, answers, reviews and decisions",
    "invite": "Create interviews, invite candidates and move their deadlines",
    "decide": "Record advance, hold or reject decisions",
    "erase": "Delete everything about a candidate",
    "webhooks": "Subscribe webhook endpoints, rotate their secrets, disable or enable them",
}
KEY_PREFIX = "ow_"
_KEY_RE = re.compile(r"ow_[A-Za-z0-9_-]{43}")
# The last use is written at most this often per key: a busy integration must not turn every
# read into a write of the same row.
LAST_USED_EVERY = timedelta(seconds=60)


def parse_scopes(raw) -> str:
    """Scopes from a list or comma-separated text, checked and in SCOPES order, as stored."""
    items = raw.split(",") if isinstance(raw, str) else list(raw or [])
    chosen = {str(s).strip().lower() for s in items if str(s).strip()}
    unknown = chosen - SCOPES.keys()
    if unknown:
        raise ServiceError(f"Unknown scope(s): {', '.join(sorted(unknown))}. "
                           f"Choose from {', '.join(SCOPES)}.")
    if not chosen:
        raise ServiceError("Choose at least one scope.")
    return ",".join(s for s in SCOPES if s in chosen)


def _require_owner(user: User) -> None:
    if user.role != Role.OWNER:
        raise ServiceError("Only owners may manage API keys.", 403)


def create(user: User | None, name: str, scopes, org: Organisation | None = None) -> tuple[ApiKey, str]:
    """A new key of the user's organisation (or, for the operator, of `org`, made in the name of
    its longest-serving active owner); returns it with the key text, which is never stored."""
    if user is not None:
        _require_owner(user)
    else:
        user = _first_owner(org)
    name = (name or "").strip()
    if not name or len(name) > 100 or "\x00" in name:
        raise ServiceError("Give the key a name of 1 to 100 characters.")
    token = KEY_PREFIX + new_token()
    key = ApiKey(org_id=user.org_id, created_by_id=user.id, name=name, scopes=parse_scopes(scopes),
                 token_hash=hash_token(token), prefix=token[:10])
    db.session.add(key)
    db.session.flush()
    if org is None:
        audit.record("api_key.created", ("api_key", key.public_id), actor=user, name=name, scopes=key.scopes)
    else:
        audit.record("api_key.created", ("api_key", key.public_id), label=audit.OPERATOR, org_id=user.org_id,
                     name=name, scopes=key.scopes)
    db.session.commit()
    return key, token


def _first_owner(org: Organisation | None) -> User:
    owner = None if org is None else db.session.execute(
        sa.select(User).where(User.org_id == org.id, User.role == Role.OWNER, User.active)
        .order_by(User.created_at, User.id).limit(1)).scalar_one_or_none()
    if owner is None:
        raise ServiceError("The organisation has no active owner to make the key for.", 409)
    return owner


def keys_of(user: User) -> list[ApiKey]:
    """The user's organisation's keys, newest first; owners only."""
    _require_owner(user)
    return list(db.session.execute(
        sa.select(ApiKey).where(ApiKey.org_id == user.org_id).options(sa.orm.joinedload(ApiKey.created_by))
        .order_by(ApiKey.created_at.desc(), ApiKey.id.desc())).scalars())


def revoke(user: User, public_id: str) -> ApiKey:
    """Stop a key of the user's organisation at once (its next call is refused)."""
    _require_owner(user)
    key = db.session.execute(sa.select(ApiKey).where(
        ApiKey.public_id == public_id, ApiKey.org_id == user.org_id)).scalar_one_or_none()
    if key is None:
        raise ServiceError("API key not found.", 404)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        audit.record("api_key.revoked", ("api_key", key.public_id), actor=user, name=key.name)
        db.session.commit()
    return key


def _live() -> sa.ColumnElement[bool]:
    """A WHERE clause on ApiKey joined to its maker: not revoked, made by an active owner of its
    organisation."""
    return sa.and_(ApiKey.revoked_at.is_(None), User.active, User.role == Role.OWNER,
                   User.org_id == ApiKey.org_id)


def authenticate(token: str | None) -> ApiKey | None:
    """The live key this text is, or None: unknown, revoked, or made by someone no longer an
    active owner. Text that cannot be a key is refused without a lookup."""
    if not token or not _KEY_RE.fullmatch(token):
        return None
    return db.session.execute(
        sa.select(ApiKey).join(User, User.id == ApiKey.created_by_id)
        .where(ApiKey.token_hash == hash_token(token), _live())).scalar_one_or_none()


def is_live(key: ApiKey) -> bool:
    """Whether this key still works (read again from the database)."""
    return db.session.execute(
        sa.select(ApiKey.id).join(User, User.id == ApiKey.created_by_id)
        .where(ApiKey.id == key.id, _live())).first() is not None


def touch(key: ApiKey) -> None:
    """Record the key's use now, at most once per LAST_USED_EVERY (the caller commits)."""
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_EVERY:
        key.last_used_at = now


def acting_user(key: ApiKey) -> User:
    """The member a key's changes are made as, for the services that take one: the owner who made
    it, under the key's name (what the audit log and the pages show), never added to the session."""
    return User(id=key.created_by_id, org_id=key.org_id, role=Role.OWNER, name=key.label[:200],
                email="", password_hash="", active=True, all_interviews=True)
