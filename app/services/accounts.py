"""Organisations and staff accounts."""

from __future__ import annotations

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models import Organisation, Role, User
from app.services import ServiceError

# Checked against when the email is unknown, so a login takes as long either way.
_DUMMY_HASH = None
MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def create_organisation(name: str) -> Organisation:
    name = name.strip()
    if not name:
        raise ServiceError("An organisation needs a name.")
    org = Organisation(name=name[:200])
    db.session.add(org)
    db.session.flush()
    return org


def normalise_email(email: str) -> str:
    """An email as accounts are stored and looked up: trimmed, lower case."""
    return (email or "").strip().lower()


def valid_email(email: str) -> bool:
    """Whether an account may have this (normalised) email; PostgreSQL refuses text with NUL."""
    return "@" in email and len(email) <= 254 and "\x00" not in email


def create_user(org: Organisation, email: str, name: str, password: str, role: str) -> User:
    email = normalise_email(email)
    if role not in list(Role):
        raise ServiceError(f"Unknown role {role!r}; choose one of {', '.join(Role)}.")
    if not valid_email(email):
        raise ServiceError("Enter a valid email address.")
    check_new_password(password)
    if db.session.execute(db.select(User.id).filter_by(email=email)).first():
        raise ServiceError("An account with this email already exists.", 409)
    user = User(org_id=org.id, email=email, name=name.strip() or email,
                password_hash=hash_password(password), role=role)
    db.session.add(user)
    db.session.flush()
    return user


def check_new_password(password: str, confirm: str | None = None) -> None:
    """Refuse a password too short to keep, or (when a confirmation is given) typed differently twice."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ServiceError(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.", field="password")
    if confirm is not None and confirm != password:
        raise ServiceError("The two new passwords are not the same. Type the same password twice.",
                           field="password_confirm")


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None."""
    global _DUMMY_HASH
    email, user = normalise_email(email), None
    if valid_email(email):  # one that no account can have is not even looked up
        user = db.session.execute(db.select(User).filter_by(email=email)).scalar_one_or_none()
    if user is None or not user.active:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = hash_password("not-a-password")
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if check_password_hash(user.password_hash, password) else None
