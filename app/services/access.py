"""Who may see which interview: one rule, used by every staff lookup.

Everyone sees only their own organisation. Owners and recruiters see all of its interviews. A
reviewer with no assignment sees all of them too; a reviewer assigned to any interview sees
only the interviews they are assigned to.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.models import Interview, InterviewAssignment, User


def interview_visible(user: User) -> sa.ColumnElement[bool]:
    """A WHERE clause on Interview that keeps what this user may see."""
    clause = Interview.org_id == user.org_id
    if user.role == "reviewer":
        mine = sa.select(InterviewAssignment.interview_id).where(InterviewAssignment.user_id == user.id)
        clause = sa.and_(clause, sa.or_(~sa.exists(mine), Interview.id.in_(mine)))
    return clause
