"""The team: owners invite colleagues by link with a role; reviewers can be assigned to interviews.

An invite's token (256 random bits) is shown once and stored only as its SHA-256; it works once,
until it expires or is revoked. Owners change members' roles and remove members; a removed member
is deactivated, not deleted, so their scores and reviews stay the organisation's record under
their name, while their sessions and sign-in stop working. Owners can restore a removed member
(not re-invite them); sessions from before the removal stay dead (User.session_epoch). Every
organisation keeps at least one active owner. Reviewers' scope (see app.services.access): a reviewer
sees the interviews they are assigned to, or every interview once an owner chose "All interviews"
for them (stored, shown on the team page, audited); with neither they see none, so removing an
assignment never widens access. A role change or a removal sets a reviewer back to assigned
interviews only. Owners and recruiters always see everything. Owners make password reset links for
their active colleagues (app.services.passwords); removal revokes them.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.models import (
    Interview,
    InterviewAssignment,
    MailKind,
    Organisation,
    PasswordReset,
    Role,
    TeamInvite,
    User,
    new_public_id,
    utcnow,
)
from app.security import hash_token, join_token
from app.services import ServiceError, accounts, audit, by_token, passwords
from app.services.ratelimit import limit_guessing

INVITE_DAYS = 7
# What a reviewer sees, as the team page offers it; the key is what the form sends.
SCOPES = {"assigned": "Only assigned interviews", "all": "All interviews"}


def _require_owner(user: User, action: str = "invite colleagues") -> None:
    if user.role != Role.OWNER:
        raise ServiceError(f"Only owners may {action}.", 403)


def members(user: User, active: bool = True) -> list[User]:
    """The user's organisation's active members (or, with active=False, its removed ones), by name."""
    return list(db.session.execute(
        db.select(User).filter_by(org_id=user.org_id, active=active).order_by(User.name)).scalars())


def pending_invites(user: User) -> list[TeamInvite]:
    """Invites of the organisation not yet accepted, revoked or expired."""
    return list(db.session.execute(
        db.select(TeamInvite).filter(TeamInvite.org_id == user.org_id, TeamInvite.accepted_at.is_(None),
                                     TeamInvite.revoked_at.is_(None), TeamInvite.expires_at > utcnow())
        .order_by(TeamInvite.created_at.desc())).scalars())


def invite(user: User, email: str, role: str, send_email: bool = False) -> tuple[TeamInvite, str]:
    """A join link for this email with this role; returns it with its token, which is never stored
    (derived from the secret key, app.security.join_token); with `send_email`, it is e-mailed too."""
    _require_owner(user)
    email = accounts.normalise_email(email)
    if not accounts.valid_email(email):
        raise ServiceError("Enter a valid email address for your colleague.")
    if role not in list(Role):
        raise ServiceError(f"Choose a role: {', '.join(Role)}.")
    existing = db.session.execute(db.select(User).filter_by(email=email)).scalar_one_or_none()
    if existing is not None and existing.org_id == user.org_id and not existing.active:
        raise ServiceError(f"{existing.name} ({email}) was removed from your team. To bring them back, "
                           "use Restore under Removed members: their account, password, scores and "
                           "reviews come back with it.", 409)
    if existing is not None:
        raise ServiceError("An account with this email already exists.", 409)
    public_id = new_public_id()
    token = join_token(current_app.config["SECRET_KEY"], public_id)
    inv = TeamInvite(public_id=public_id, org_id=user.org_id, created_by_id=user.id, email=email, role=role,
                     token_hash=hash_token(token), expires_at=utcnow() + timedelta(days=INVITE_DAYS))
    db.session.add(inv)
    audit.record("member.invited", inv, actor=user, role=role)
    if send_email:
        _email_invite(user, inv)
    db.session.commit()
    return inv, token


def _email_invite(user: User, inv: TeamInvite) -> None:
    from app import mail
    from app.services import mail_content, outbox

    if not mail.configured():
        raise ServiceError("E-mail is not set up on this server (MAIL_SERVER); copy the link instead.", 409)
    org = db.session.get(Organisation, inv.org_id)
    link = f"{mail_content.base_url()}/join/{outbox.TOKEN_SLOT}"
    text = "\n\n".join([
        f"{user.name} invites you to join {org.name} on Oneway as {inv.role}.",
        f"Create your account here (the link works once, until {inv.expires_at:%d %B %Y}): {link}",
        "If you did not expect this, ignore this e-mail."])
    outbox.add(org_id=inv.org_id, kind=MailKind.TEAM_INVITE, to_addr=inv.email, reply_to=user.email,
               subject=f"Join {org.name} on Oneway", body_text=text,
               body_html=mail_content.to_html(text, link), link_ref=f"join:{inv.public_id}")


def revoke_invite(user: User, public_id: str) -> None:
    """Stop an invite link working."""
    _require_owner(user)
    inv = db.session.execute(
        db.select(TeamInvite).filter_by(public_id=public_id, org_id=user.org_id)).scalar_one_or_none()
    if inv is None:
        raise ServiceError("Invite not found.", 404)
    if inv.revoked_at is None:
        inv.revoked_at = utcnow()
        audit.record("invite.revoked", inv, actor=user)
    db.session.commit()


@limit_guessing
def invite_for_token(token: str) -> TeamInvite:
    """The usable invite for this token: unknown is 404; used, revoked or expired is 410."""
    inv = by_token(TeamInvite, token)
    if inv is None:
        raise ServiceError("This invite link is not valid. Check that you copied all of it.", 404)
    if inv.accepted_at is not None:
        raise ServiceError("This invite has already been used. Sign in instead.", 410)
    if inv.revoked_at is not None or inv.expires_at <= utcnow():
        raise ServiceError("This invite has expired. Ask for a new one.", 410)
    return inv


def accept(token: str, name: str, password: str) -> User:
    """Create the colleague's account in the inviting organisation, with the invited role."""
    inv = invite_for_token(token)
    org = db.session.get(Organisation, inv.org_id)
    if not (name or "").strip():
        raise ServiceError("Enter your name.")
    user = accounts.create_user(org, inv.email, name, password, inv.role)
    inv.accepted_at = utcnow()
    audit.record("member.joined", user, actor=user, role=user.role)
    db.session.commit()
    return user


def _member(user: User, public_id: str) -> User:
    """A member of the user's organisation; anyone else's id is 404, as if it did not exist."""
    member = db.session.execute(
        db.select(User).filter_by(public_id=public_id, org_id=user.org_id)).scalar_one_or_none()
    if member is None:
        raise ServiceError("That colleague is not in your team.", 404)
    return member


def _keep_an_owner(user: User, member: User, removing: bool) -> None:
    """Refuse to leave the organisation without an active owner.

    The organisation's row is written first so that two owners demoting or removing each other at
    once take turns (a row lock on PostgreSQL, the write lock on SQLite), and the second counts
    what the first committed."""
    db.session.execute(sa.update(Organisation).where(Organisation.id == user.org_id)
                       .values(name=Organisation.name))
    others = db.session.execute(db.select(sa.func.count(User.id)).filter(
        User.org_id == user.org_id, User.role == Role.OWNER, User.active.is_(True),
        User.id != member.id)).scalar_one()
    if not others:
        db.session.rollback()
        if member.id == user.id:
            who, what = "You are", ("leave the team" if removing else "give up the owner role")
        else:
            who, what = f"{member.name} is", ("remove them" if removing else "change their role")
        raise ServiceError(f"{who} the only owner left, so you cannot {what}. Make another member "
                           "an owner first: every team needs someone who can manage it.", 409)


def change_role(user: User, public_id: str, role: str) -> User:
    """Give an active member of the organisation another role; the last owner keeps theirs."""
    _require_owner(user, "change roles")
    if role not in list(Role):
        raise ServiceError(f"Choose a role: {', '.join(Role)}.")
    member = _member(user, public_id)
    if not member.active:
        raise ServiceError(f"{member.name} has been removed from the team.", 409)
    if member.role == role:
        return member
    if member.role == Role.OWNER:
        _keep_an_owner(user, member, removing=False)
    audit.record("member.role_changed", member, actor=user, old=member.role, new=role)
    member.role = role
    member.all_interviews = False  # a new role starts narrow: an owner widens it by choice
    db.session.commit()
    return member


def remove_member(user: User, public_id: str) -> User:
    """Deactivate a member: no sign-in, no session, no assignments; their scores stay theirs."""
    _require_owner(user, "remove members")
    member = _member(user, public_id)
    if not member.active:
        return member
    if member.role == Role.OWNER:
        _keep_an_owner(user, member, removing=True)
    member.active = False
    member.all_interviews = False  # like their assignments, not brought back by a restore
    member.end_sessions()
    passwords.revoke_resets(member)
    db.session.execute(sa.delete(InterviewAssignment).where(InterviewAssignment.user_id == member.id))
    audit.record("member.removed", member, actor=user)
    db.session.commit()
    return member


def restore_member(user: User, public_id: str, role: str = "") -> User:
    """Reactivate a removed member with the role chosen, or else the one they had.

    Their password works again; sessions from before the removal do not (removal bumped the
    session epoch). Reviewer assignments and "All interviews" were dropped on removal and are not
    brought back."""
    _require_owner(user, "restore members")
    member = _member(user, public_id)
    if role and role not in list(Role):
        raise ServiceError(f"Choose a role: {', '.join(Role)}.")
    if member.active:
        return member
    member.role = role or member.role
    member.active = True
    audit.record("member.restored", member, actor=user, role=member.role)
    db.session.commit()
    return member


def set_scope(user: User, public_id: str, scope: str) -> User:
    """Let a reviewer see every interview of the organisation ("all") or only the interviews they
    are assigned to ("assigned"); owners only, as with roles."""
    _require_owner(user, "choose which interviews reviewers see")
    if scope not in SCOPES:
        raise ServiceError("Choose all interviews or only assigned interviews.")
    member = _member(user, public_id)
    if not member.active:
        raise ServiceError(f"{member.name} has been removed from the team.", 409)
    if member.role != Role.REVIEWER:
        raise ServiceError(f"{member.name} is {member.role}: owners and recruiters see every interview.")
    wanted = scope == "all"
    if member.all_interviews != wanted:
        audit.record("reviewer.scope_changed", member, actor=user, scope=SCOPES[scope].lower())
        member.all_interviews = wanted
    db.session.commit()
    return member


def assignment_counts(user: User) -> dict[int, int]:
    """How many interviews each member of the user's organisation is assigned to, by user id."""
    return dict(db.session.execute(
        sa.select(InterviewAssignment.user_id, sa.func.count())
        .join(User, User.id == InterviewAssignment.user_id).where(User.org_id == user.org_id)
        .group_by(InterviewAssignment.user_id)).all())


def make_reset_link(user: User, public_id: str, send_email: bool = False) -> tuple[PasswordReset, str]:
    """A once-only password reset link for an active colleague (not oneself: one changes one's own
    password knowing the current one); returns it with its token, which is never stored."""
    _require_owner(user, "make password reset links")
    member = _member(user, public_id)
    if member.id == user.id:
        raise ServiceError("You cannot make a reset link for yourself: change your own password from "
                           "the Change password page.", 409)
    if not member.active:
        raise ServiceError(f"{member.name} has been removed from the team. Restore them under Removed "
                           "members first; then you can make a reset link.", 409)
    return passwords.issue_reset(member, created_by=user, send_email=send_email)


def assigned_reviewers(interview: Interview) -> list[User]:
    """The reviewers assigned to this interview."""
    return list(db.session.execute(
        db.select(User).join(InterviewAssignment, InterviewAssignment.user_id == User.id)
        .filter(InterviewAssignment.interview_id == interview.id).order_by(User.name)).scalars())


def set_assignment(user: User, interview: Interview, reviewer_public_id: str, assigned: bool) -> None:
    """Assign a reviewer of the organisation to an interview, or remove the assignment."""
    if not user.can_author:
        raise ServiceError("Only owners and recruiters may assign reviewers.", 403)
    reviewer = db.session.execute(
        db.select(User).filter_by(public_id=reviewer_public_id, org_id=user.org_id)).scalar_one_or_none()
    if reviewer is None or not reviewer.active:
        raise ServiceError("Colleague not found.", 404)
    if reviewer.role != Role.REVIEWER:
        raise ServiceError("Only reviewers are limited by assignments; owners and recruiters see "
                           "every interview.")
    # Removing one only ever narrows: with no assignment left, a reviewer not set to all
    # interviews sees none (app.services.access).
    row = db.session.execute(db.select(InterviewAssignment).filter_by(
        interview_id=interview.id, user_id=reviewer.id)).scalar_one_or_none()
    if assigned and row is None:
        db.session.add(InterviewAssignment(interview_id=interview.id, user_id=reviewer.id))
        audit.record("reviewer.assigned", interview, actor=user, reviewer=reviewer.name)
    elif not assigned and row is not None:
        db.session.delete(row)
        audit.record("reviewer.unassigned", interview, actor=user, reviewer=reviewer.name)
    db.session.commit()


def assignment_view(user: User, interview: Interview) -> dict:
    """For the interview page: the organisation's reviewers and which are assigned here."""
    if not user.can_author:
        return {}
    reviewers = [m for m in members(user) if m.role == Role.REVIEWER]
    return {"reviewers": reviewers, "assigned": {u.id for u in assigned_reviewers(interview)}}
