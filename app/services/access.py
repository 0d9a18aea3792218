"""Who may see which interview: one rule, used by every staff lookup.

Everyone sees only their own organisation. Owners and recruiters see all of its interviews. A
reviewer sees all of them only if an owner chose "All interviews" for them (User.all_interviews);
otherwise only the interviews they are assigned to, and none while they have no assignment. So
removing an assignment can only narrow access, never widen it; any other role sees assignments only.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.models import Interview, InterviewAssignment, User


def interview_visible(user: User) -> sa.ColumnElement[bool]:
    """A WHERE clause on Interview that keeps what this user may see."""
    clause = Interview.org_id == user.org_id
    if user.can_author or (user.role == "reviewer" and user.all_interviews):
        return clause
    mine = sa.select(InterviewAssignment.interview_id).where(InterviewAssignment.user_id == user.id)
    return sa.and_(clause, Interview.id.in_(mine))
