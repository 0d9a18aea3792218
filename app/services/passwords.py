"""Staff passwords: changing one's own, and once-only reset links for a forgotten one.

Oneway sends no email, so a reset link is made by an owner on the team page (app.services.team)
or by the operator with `flask reset-password EMAIL`, and passed on by hand. Its token (256 random
bits) is shown once and stored only as its SHA-256; it works once, for RESET_HOURS, and a newer
link for the same member revokes the earlier one, as does the member changing their password.
Setting a password, either way, ends every session and remember-me cookie of the account
(User.end_sessions); a change keeps the browser that made it signed in (the view signs it in again).

Wrong current passwords are counted per account in Redis (app.services.ratelimit): after
PASSWORD_FAILURES_PER_WINDOW (5) of them within PASSWORD_FAILURE_WINDOW_SECONDS (900), changing it
is refused (429) until the window ends, so a session left open on a shared computer cannot be
used to try passwords without end. A limit of 0 turns the count off; so does Redis being down,
as for the link limit.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import check_password_hash

from app.extensions import db
from app.models import PasswordReset, User, new_public_id, utcnow
from app.security import hash_token, reset_token
from app.services import ServiceError, accounts, audit, by_token, ratelimit, signin
from app.services.ratelimit import TooManyAttempts, limit_guessing

log = logging.getLogger(__name__)
RESET_HOURS = 24
_FAILURES_KEY = "oneway:password-failures:{}"


def _limits() -> tuple[int, int]:
    """How many wrong current passwords an account may enter, and in how many seconds."""
    cfg = current_app.config
    return cfg["PASSWORD_FAILURES_PER_WINDOW"], cfg["PASSWORD_FAILURE_WINDOW_SECONDS"]


def change_password(user: User, current: str, new: str, confirm: str) -> None:
    """Set the user's own password once they prove the current one; every other session ends."""
    key = _FAILURES_KEY.format(user.public_id)
    limit, window = _limits()  # a limit of 0 turns the count off, as for sign-ins
    wait = ratelimit.wait_after_failures(key, limit, window) if limit > 0 else 0
    if wait:
        raise TooManyAttempts(wait, "The current password was entered wrongly too many times, so "
                              f"changing it is paused for {ratelimit.minutes(wait)}. If you have "
                              "forgotten it, ask an owner of your team for a password reset link.",
                              field="current_password")
    if not check_password_hash(user.password_hash, current or ""):
        if limit > 0 and ratelimit.count_failure(key, window) == limit:
            log.warning("Password change paused for user %s: %d wrong current passwords within %d s",
                        user.public_id, limit, window)
        raise ServiceError("That is not your current password.", field="current_password")
    accounts.check_new_password(new, confirm)
    if check_password_hash(user.password_hash, new):
        raise ServiceError("The new password is the same as your current one. Choose another.",
                           field="password")
    _set_password(user, new)
    audit.record("password.changed", user, actor=user)
    db.session.commit()
    ratelimit.clear_failures(key)
    log.info("User %s changed their password; their other sessions are ended", user.public_id)


def issue_reset(user: User, created_by: User | None = None,
                send_email: bool = False) -> tuple[PasswordReset, str]:
    """A new reset link for this active user, revoking any earlier one; returns it with its token,
    which is never stored (derived from the secret key, app.security.reset_token); with
    `send_email`, it is e-mailed to the user's own address too. Who may ask for one is the
    caller's to decide."""
    if not user.active:
        raise ServiceError(f"{user.name} has been removed from the team: restore them before "
                           "resetting their password.", 409)
    # Writing the user's row first makes two links made at once take turns, so the second
    # revokes the first and only one ever works.
    db.session.execute(sa.update(User).where(User.id == user.id).values(session_epoch=User.session_epoch))
    revoke_resets(user)
    public_id, now = new_public_id(), utcnow()
    token = reset_token(current_app.config["SECRET_KEY"], public_id)
    reset = PasswordReset(public_id=public_id, user_id=user.id,
                          created_by_id=created_by.id if created_by else None, token_hash=hash_token(token),
                          created_at=now,
                          expires_at=now + timedelta(hours=RESET_HOURS))
    db.session.add(reset)
    if send_email:
        _email_reset(user, reset, created_by)
    audit.record("password.reset_link_made", user, actor=created_by, org_id=user.org_id,
                 label="" if created_by else audit.OPERATOR)
    db.session.commit()
    log.info("Password reset link for user %s made by %s", user.public_id,
             created_by.public_id if created_by else "the operator (flask reset-password)")
    return reset, token


def _email_reset(user: User, reset: PasswordReset, created_by: User | None) -> None:
    from app import mail
    from app.models import MailKind
    from app.services import mail_content, outbox

    if not mail.configured():
        raise ServiceError("E-mail is not set up on this server (MAIL_SERVER); pass the link on instead.",
                           409)
    link = f"{mail_content.base_url()}/reset/{outbox.TOKEN_SLOT}"
    who = created_by.name if created_by else "Your Oneway administrator"
    text = "\n\n".join([
        f"{who} made a link for you to set a new password for your Oneway account ({user.email}).",
        f"It works once, for {RESET_HOURS} hours: {link}",
        "Setting a password signs you out everywhere. If you did not expect this, tell them."])
    outbox.add(org_id=user.org_id, kind=MailKind.PASSWORD_RESET, to_addr=user.email, to_name=user.name,
               subject="Set a new password for Oneway", body_text=text,
               body_html=mail_content.to_html(text, link), user_id=user.id,
               link_ref=f"reset:{reset.public_id}")


def operator_reset(email: str) -> tuple[PasswordReset, str]:
    """For `flask reset-password`: a reset link for the account with this email."""
    user = db.session.execute(
        db.select(User).filter_by(email=accounts.normalise_email(email))).scalar_one_or_none()
    if user is None:
        raise ServiceError("No account has that email.", 404)
    return issue_reset(user)


@limit_guessing
def reset_for_token(token: str) -> PasswordReset:
    """The usable reset link for this token: unknown is 404; used, replaced, expired or for a
    removed member is 410."""
    reset = by_token(PasswordReset, token)
    if reset is None:
        raise ServiceError("This password reset link is not valid. Check that you copied all of it.", 404)
    if reset.used_at is not None:
        raise ServiceError("This password reset link has already been used. Sign in with the password "
                           "you chose then, or ask an owner of your team for a new link.", 410)
    if reset.revoked_at is not None:
        raise ServiceError("This password reset link no longer works: a newer link replaced it, or the "
                           "password or the account changed since. Use the newest link you were sent, "
                           "or ask an owner of your team for a new one.", 410)
    if reset.expires_at <= utcnow():
        raise ServiceError(f"This password reset link has expired (links work for {RESET_HOURS} hours). "
                           "Ask an owner of your team for a new one.", 410)
    if not reset.user.active:
        raise ServiceError("This account has been removed from its team, so its password cannot be "
                           "reset. An owner of the team can restore it.", 410)
    return reset


def use_reset(reset: PasswordReset, new: str, confirm: str) -> User:
    """Set the password through a reset link found by reset_for_token; the link is used up, every
    session of the account ends, and failed sign-ins counted for its email are forgotten."""
    accounts.check_new_password(new, confirm)
    # Used up only if nobody used or revoked it since it was looked up: a link works once, even
    # when it is sent twice at the same moment.
    done = db.session.execute(sa.update(PasswordReset).where(
        PasswordReset.id == reset.id, PasswordReset.used_at.is_(None),
        PasswordReset.revoked_at.is_(None)).values(used_at=utcnow()))
    if done.rowcount != 1:
        db.session.rollback()
        raise ServiceError("This password reset link has already been used.", 410)
    user = reset.user
    _set_password(user, new)
    audit.record("password.reset_used", user, actor=user)
    db.session.commit()
    ratelimit.clear_failures(_FAILURES_KEY.format(user.public_id))
    signin.clear_account(user.email)  # let them sign in at once, even if others' guesses paused it
    log.info("User %s set a new password with a reset link", user.public_id)
    return user


def pending_resets(org_id: int) -> dict[int, PasswordReset]:
    """The organisation's reset links still usable, by the user they are for."""
    rows = db.session.execute(db.select(PasswordReset).join(User, User.id == PasswordReset.user_id).filter(
        User.org_id == org_id, PasswordReset.used_at.is_(None), PasswordReset.revoked_at.is_(None),
        PasswordReset.expires_at > utcnow())).scalars()
    return {r.user_id: r for r in rows}


def revoke_resets(user: User) -> None:
    """Stop the user's reset links not yet used from working (the caller commits)."""
    db.session.execute(sa.update(PasswordReset).where(
        PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None),
        PasswordReset.revoked_at.is_(None)).values(revoked_at=utcnow()))


def _set_password(user: User, new: str) -> None:
    """Store the new hash, end every session, and revoke reset links not yet used."""
    user.password_hash = accounts.hash_password(new)
    user.end_sessions()
    revoke_resets(user)
