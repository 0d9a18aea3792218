"""Who may see which interview: one rule, and the staff lookups of candidates and answers that use it.

Everyone sees only their own organisation. Owners and recruiters see all of its interviews. A
reviewer sees all of them only if an owner chose "All interviews" for them (User.all_interviews);
otherwise only the interviews they are assigned to, and none while they have no assignment. So
removing an assignment can only narrow access, never widen it; any other role sees assignments only.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import Answer, Candidate, Interview, InterviewAssignment, Role, User
from app.services import ServiceError


def interview_visible(user: User) -> sa.ColumnElement[bool]:
    """A WHERE clause on Interview that keeps what this user may see."""
    clause = Interview.org_id == user.org_id
    if user.can_author or (user.role == Role.REVIEWER and user.all_interviews):
        return clause
    mine = sa.select(InterviewAssignment.interview_id).where(InterviewAssignment.user_id == user.id)
    return sa.and_(clause, Interview.id.in_(mine))


def get_candidate(user: User, public_id: str) -> Candidate:
    """A candidate of an interview this user may see; anything else is 404."""
    candidate = db.session.execute(
        db.select(Candidate).join(Interview, Interview.id == Candidate.interview_id)
        .filter(Candidate.public_id == public_id, Candidate.org_id == user.org_id,
                interview_visible(user))
    ).scalar_one_or_none()
    if candidate is None:
        raise ServiceError("Candidate not found.", 404)
    return candidate


def interview_candidate(user: User, interview: Interview, public_id: str) -> Candidate:
    """A candidate of this interview whom this user may see; anything else is 404."""
    candidate = get_candidate(user, public_id)
    if candidate.interview_id != interview.id:
        raise ServiceError("Candidate not found.", 404)
    return candidate


def get_answer(user: User, public_id: str) -> Answer:
    """An answer of the user's organisation; anything else is 404."""
    answer = db.session.execute(
        db.select(Answer).join(Candidate).join(Interview, Interview.id == Candidate.interview_id)
        .filter(Answer.public_id == public_id, Candidate.org_id == user.org_id,
                interview_visible(user))
    ).scalar_one_or_none()
    if answer is None:
        raise ServiceError("Recording not found.", 404)
    return answer


def previous_candidate(candidate: Candidate) -> Candidate | None:
    """The candidate invited just before this one to the same interview, if any."""
    return db.session.execute(
        db.select(Candidate).filter(
            Candidate.interview_id == candidate.interview_id,
            db.or_(Candidate.created_at < candidate.created_at,
                   db.and_(Candidate.created_at == candidate.created_at, Candidate.id < candidate.id)))
        .order_by(Candidate.created_at.desc(), Candidate.id.desc()).limit(1)
    ).scalar_one_or_none()
