"""Signing in, with failed sign-ins limited per account and per client address.

Failures are counted in Redis (app.services.ratelimit) under the email as accounts are looked up
(trimmed, lower case), whether or not an account has it, and under the client's address: after
LOGIN_FAILURES_PER_ACCOUNT (10) failures for one email, or LOGIN_FAILURES_PER_ADDRESS (50) from
one address, within LOGIN_FAILURE_WINDOW_SECONDS (900), signing in there is refused (429 with
Retry-After) until that window ends. The refusal comes before the password is checked, so it is
the same for the right password and tells nothing about a guess; and it is the same for emails
with and without an account, so neither the limit nor its message says which emails exist.

Counting per email stops an attacker who changes address from guessing one password without end;
counting per address stops one address from trying a few passwords on many accounts, and makes
whoever locks a member out spend their own budget. A successful sign-in clears its email's count
but not its address's: signing in to one's own account must not buy more guesses at others'.
Setting a new password through a reset link clears the email's count too, so an owner can let a
member locked out by someone else's guesses back in at once.

Without Redis the limits let sign-ins through (with a warning), as the link limit does: a missing
Redis must not lock every member out.

Each browser signed in has a row of its own (SignInSession) whose token is part of the id its
cookies hold; the user loader finds the member only through a live row. Signing out deletes the
browser's row, so a copy of its session or remember-me cookie stops working at once, while the
member's other browsers stay signed in. A sign-in also ends SIGN_IN_MAX_DAYS (30) after it began,
however active: the hourly retention pass deletes such rows (end_old_sign_ins).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_login import current_user, login_user, logout_user

from app.extensions import db
from app.models import SignInSession, User, utcnow
from app.security import hash_token, new_token
from app.services import ServiceError, accounts, ratelimit
from app.services.ratelimit import TooManyAttempts

log = logging.getLogger(__name__)
_ACCOUNT_KEY = "oneway:login-failures:account:{}"
_ADDRESS_KEY = "oneway:login-failures:address:{}"


def sign_in(email: str, password: str) -> User:
    """The active user with these credentials. Raises ServiceError (401) when they do not match an
    account, and TooManyAttempts (429) while this email or this address is over its limit."""
    email = accounts.normalise_email(email)
    account_key = _account_key(email)
    limits = _limits(account_key)
    window = current_app.config["LOGIN_FAILURE_WINDOW_SECONDS"]
    wait = ratelimit.longest_wait(limits, window)
    if wait:
        raise TooManyAttempts(wait, "Too many sign-ins failed for this email or from your network, so "
                              f"signing in here is paused for {ratelimit.minutes(wait)}. Wait, then try "
                              "again. If you have forgotten your password, ask an owner of your team "
                              "for a password reset link.")
    user = accounts.authenticate(email, password)
    if user is None:
        counts = ratelimit.count_failures(list(limits), window) or [None] * len(limits)  # None: no Redis
        for (key, limit), count in zip(limits.items(), counts, strict=True):
            if count == limit:
                log.warning("Sign-in paused for %s: %d failed sign-ins within %d s",
                            f"the email {email[:254]!r}" if key == account_key
                            else f"the address {ratelimit.client_address()}", limit, window)
        raise ServiceError("That email and password do not match an account.", 401)
    ratelimit.clear_failures(account_key)
    return user


def log_in(user: User) -> None:
    """Sign this browser in as `user`, with a sign-in of its own that log_out can end."""
    token = new_token()
    db.session.add(SignInSession(user_id=user.id, token_hash=hash_token(token)))
    db.session.commit()
    user.sign_in_token = token
    login_user(user)


def log_out() -> None:
    """Sign this browser out and end its sign-in on the server: copies of its cookies stop working."""
    token = getattr(current_user, "sign_in_token", None)
    if token:
        db.session.execute(sa.delete(SignInSession).where(SignInSession.token_hash == hash_token(token)))
        db.session.commit()
    logout_user()


def load_user(cookie_id: str) -> User | None:
    """The active user whose cookie holds this id (User.get_id), if its sign-in is still live and the
    epoch current; an id of an older form, or of an ended sign-in, loads nobody."""
    parts = cookie_id.split(":")
    if len(parts) != 3 or not all(parts) or not parts[1].isdigit():
        return None
    public_id, epoch, token = parts
    user = db.session.execute(
        sa.select(User).join(SignInSession, SignInSession.user_id == User.id).where(
            User.public_id == public_id, User.session_epoch == int(epoch), User.active.is_(True),
            SignInSession.token_hash == hash_token(token),
            SignInSession.created_at > _oldest_live(utcnow()))).scalar_one_or_none()
    if user is not None:
        user.sign_in_token = token
    return user


def _oldest_live(now: datetime) -> datetime:
    return now - timedelta(days=current_app.config["SIGN_IN_MAX_DAYS"])


def end_old_sign_ins(now: datetime) -> int:
    """Delete the sign-ins that began more than SIGN_IN_MAX_DAYS ago (no cookie opens them any
    more); returns how many went."""
    gone = db.session.execute(sa.delete(SignInSession).where(SignInSession.created_at <= _oldest_live(now)))
    db.session.commit()
    return gone.rowcount


def clear_account(email: str) -> None:
    """Forget the failed sign-ins counted for this email (its owner proved who they are another way:
    a password reset link)."""
    ratelimit.clear_failures(_account_key(accounts.normalise_email(email)))


def _account_key(email: str) -> str:
    return _ACCOUNT_KEY.format(hashlib.sha256(email.encode()).hexdigest())  # no emails kept in Redis


def _limits(account_key: str) -> dict[str, int]:
    """The counters this sign-in goes through, with their limits; a limit of 0 is off."""
    cfg = current_app.config
    limits = {account_key: cfg["LOGIN_FAILURES_PER_ACCOUNT"],
              _ADDRESS_KEY.format(ratelimit.client_address()): cfg["LOGIN_FAILURES_PER_ADDRESS"]}
    return {key: limit for key, limit in limits.items() if limit > 0}
