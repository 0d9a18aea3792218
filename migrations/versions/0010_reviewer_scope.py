"""reviewer scope: "all interviews" becomes a stored choice per reviewer, instead of "no assignment"

Revision ID: 0010
Revises: 0009

Until now a reviewer with no assignment saw every interview, so ending a reviewer's last assignment
widened their access to all of them. users.all_interviews (false by default) makes "all interviews"
an owner's explicit choice; without it a reviewer sees only the interviews they are assigned to.

Data: every reviewer keeps the access they have today. Active reviewers with no assignment row see
every interview now, so they get all_interviews = true; reviewers with assignments, and every other
member (owners and recruiters see all interviews by their role), get false. Removed reviewers get
false, as a removal now sets it: one restored later starts with assigned interviews only (their
assignments ended with the removal), until an owner chooses otherwise.

The downgrade drops the column. A reviewer who then has no assignment sees every interview again
(the old rule), whatever their choice was: set assignments before downgrading if that matters.
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD and DROP COLUMN (as 0007 does): no table rebuild on SQLite for the table that every
    # other table refers to.
    op.add_column("users", sa.Column("all_interviews", sa.Boolean(), server_default=sa.false(),
                                     nullable=False))
    users = sa.table("users", sa.column("id", sa.Integer()), sa.column("role", sa.String()),
                     sa.column("active", sa.Boolean()), sa.column("all_interviews", sa.Boolean()))
    assignments = sa.table("interview_assignments", sa.column("user_id", sa.Integer()))
    op.execute(users.update()
               .where(users.c.role == "reviewer", users.c.active.is_(True),
                      users.c.id.not_in(sa.select(assignments.c.user_id)))
               .values(all_interviews=True))


def downgrade():
    op.drop_column("users", "all_interviews")
