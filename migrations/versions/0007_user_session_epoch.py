"""user session epoch: a counter that is part of every session's user id, bumped on removal

Revision ID: 0007
Revises: 0006

Sessions and remember-me cookies hold "<public_id>:<epoch>"; removing a member bumps the epoch, so
cookies from before the removal stay dead when the member is restored. Existing rows start at 0.
Plain ALTER TABLE on both databases (SQLite 3.35+ drops a column in place): rebuilding users on
SQLite would drop a table that most others point at, inside a multi-step run's transaction.
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("session_epoch", sa.Integer(), server_default="0", nullable=False))


def downgrade():
    op.drop_column("users", "session_epoch")
