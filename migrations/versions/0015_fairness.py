"""fairness: voluntary self-identification apart, candidates' own requests, notice of decision

Revision ID: 0015
Revises: 0014

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
down_revision = "0014"
branch_labels = None
depends_on = None


# The columns added here, by table: plain columns (no key, constraint or index of their own once
# ix_candidates_deletion_due_at is gone), so SQLite (3.35+) drops them in place. A batch rebuild would
# drop and recreate organisations and candidates, which, with foreign keys enforced inside a
# multi-step downgrade's transaction, fails on the rows that point at them.
_COLUMNS = {
    "organisations": ("share_outcome", "deletion_countdown_days", "self_id_scheme"),
    "decisions": ("candidate_message",),
    "candidates": ("deletion_due_at", "deletion_requested_at", "withdrawn_at"),
}


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
    # Added in place (ALTER TABLE ... ADD COLUMN), never by a batch rebuild: see _COLUMNS.
    op.add_column("candidates", sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("candidates", sa.Column("deletion_requested_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("candidates", sa.Column("deletion_due_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f("ix_candidates_deletion_due_at"), "candidates", ["deletion_due_at"])
    op.add_column("decisions", sa.Column("candidate_message", sa.Text(), nullable=True))
    op.add_column("organisations", sa.Column("self_id_scheme", sa.JSON(), nullable=True))
    op.add_column("organisations", sa.Column("deletion_countdown_days", sa.Integer(), server_default="7",
                                             nullable=False))
    op.add_column("organisations", sa.Column("share_outcome", sa.Boolean(), server_default=sa.false(),
                                             nullable=False))


def downgrade():
    op.drop_index(op.f("ix_candidates_deletion_due_at"), table_name="candidates")
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, columns in _COLUMNS.items():
        for column in columns:
            if sqlite:
                op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
            else:
                op.drop_column(table, column)
    op.drop_index(op.f("ix_rereview_requests_candidate_id"), table_name="rereview_requests")
    op.drop_table("rereview_requests")
    op.drop_index(op.f("ix_self_identifications_candidate_id"), table_name="self_identifications")
    op.drop_table("self_identifications")
