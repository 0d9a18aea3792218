"""audit events: who did what to an organisation's team and candidates' data, and when

Revision ID: 0009
Revises: 0008

A new table and nothing else. actor_id is empty for the operator's commands and the automatic
retention pass; actor_label keeps the name the actor had then. No candidate's name or email is
ever written here, only public ids. The downgrade drops the table and the events in it.
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("subject_kind", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_audit_events_actor_id_users")),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"],
                                name=op.f("fk_audit_events_org_id_organisations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    # The owners' page reads one organisation's events newest first; retention deletes by age.
    op.create_index("ix_audit_events_org_id_created_at", "audit_events", ["org_id", "created_at"],
                    unique=False)
    op.create_index(op.f("ix_audit_events_created_at"), "audit_events", ["created_at"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_audit_events_created_at"), table_name="audit_events")
    op.drop_index("ix_audit_events_org_id_created_at", table_name="audit_events")
    op.drop_table("audit_events")
