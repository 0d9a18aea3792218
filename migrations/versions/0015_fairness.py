"""fairness: voluntary self-identification apart, candidates' own requests, notice of decision

Revision ID: 0015
Revises: 0012

A table of candidates' voluntary self-identification (its own, never joined by a grader's page) and
one of their requests for a human re-review; on candidates, when they withdrew and when they asked
for deletion (with the date it falls due); on decisions, the message a candidate is shown; on
organisations, the self-identification scheme (NULL: EEO-1), the deletion countdown in days
(default 7) and whether a candidate's own download holds their scores and decision. The downgrade
drops them all.
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0012"
branch_labels = None
depends_on = None


def _foreign_keys(on: bool) -> None:
    # SQLite rebuilds a table to drop a column; rows point at candidates, so keys are off meanwhile.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def upgrade():
    op.create_table(
        "self_identifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("sex", sa.String(length=40), nullable=True),
        sa.Column("race", sa.String(length=60), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["candidate_id"], ["candidates.id"], ondelete="CASCADE",
                                name=op.f("fk_self_identifications_candidate_id_candidates")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_self_identifications")),
    )
    op.create_index(op.f("ix_self_identifications_candidate_id"), "self_identifications", ["candidate_id"],
                    unique=True)
    op.create_table(
        "rereview_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["candidate_id"], ["candidates.id"], ondelete="CASCADE",
                                name=op.f("fk_rereview_requests_candidate_id_candidates")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rereview_requests")),
    )
    op.create_index(op.f("ix_rereview_requests_candidate_id"), "rereview_requests", ["candidate_id"])
    with op.batch_alter_table("candidates") as batch:
        batch.add_column(sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("deletion_requested_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("deletion_due_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index(batch.f("ix_candidates_deletion_due_at"), ["deletion_due_at"])
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(sa.Column("candidate_message", sa.Text(), nullable=True))
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(sa.Column("self_id_scheme", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("deletion_countdown_days", sa.Integer(), server_default="7",
                                   nullable=False))
        batch.add_column(sa.Column("share_outcome", sa.Boolean(), server_default=sa.false(),
                                   nullable=False))


def downgrade():
    _foreign_keys(False)
    with op.batch_alter_table("organisations") as batch:
        batch.drop_column("share_outcome")
        batch.drop_column("deletion_countdown_days")
        batch.drop_column("self_id_scheme")
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("candidate_message")
    with op.batch_alter_table("candidates") as batch:
        batch.drop_index(batch.f("ix_candidates_deletion_due_at"))
        batch.drop_column("deletion_due_at")
        batch.drop_column("deletion_requested_at")
        batch.drop_column("withdrawn_at")
    op.drop_index(op.f("ix_rereview_requests_candidate_id"), table_name="rereview_requests")
    op.drop_table("rereview_requests")
    op.drop_index(op.f("ix_self_identifications_candidate_id"), table_name="self_identifications")
    op.drop_table("self_identifications")
    _foreign_keys(True)
