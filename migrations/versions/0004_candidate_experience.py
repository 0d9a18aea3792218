"""candidate experience: question kinds, written answers, extra time, privacy notice

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _foreign_keys(on: bool) -> None:
    # SQLite may rebuild a table to alter it; with foreign keys enforced, rebuilding a table other
    # rows point at fails, so they are off meanwhile (as in 0003).
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def upgrade():
    _foreign_keys(False)
    with op.batch_alter_table("interviews", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact_email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("retention_days", sa.Integer(), server_default="180", nullable=False))
        batch_op.add_column(sa.Column("accommodations", sa.String(length=12), server_default="review",
                                      nullable=False))
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=10), server_default="video", nullable=False))
    with op.batch_alter_table("candidates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consent_notice_version", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("time_multiplier", sa.Float(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("accommodation_status", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("accommodation_requested", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("accommodation_note", sa.Text(), nullable=True))
    with op.batch_alter_table("answers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("written_text", sa.Text(), nullable=True))
    _foreign_keys(True)


def downgrade():
    _foreign_keys(False)
    with op.batch_alter_table("answers", schema=None) as batch_op:
        batch_op.drop_column("written_text")
    with op.batch_alter_table("candidates", schema=None) as batch_op:
        for name in ("accommodation_note", "accommodation_requested", "accommodation_status",
                     "time_multiplier", "consent_notice_version"):
            batch_op.drop_column(name)
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.drop_column("kind")
    with op.batch_alter_table("interviews", schema=None) as batch_op:
        for name in ("accommodations", "retention_days", "contact_email"):
            batch_op.drop_column(name)
    _foreign_keys(True)
