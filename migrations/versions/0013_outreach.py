"""outreach: the e-mail outbox, deadlines, invitation templates, reminders and notification choices

Revision ID: 0013
Revises: 0012

`outbox_messages` holds every e-mail, written in the transaction of the change that causes it and sent
by a worker after commit. Interviews gain a relative deadline (days, 14 as INVITE_DAYS was), their
invitation's own words, a reminder schedule (hours before the deadline) and a time zone for
deadlines and how many days of a later deadline a candidate's request gets at once; candidates the
fate of their invitation e-mail, when they first opened their link, their link's version and their
request for a later deadline;
members their choice of notifications (a daily digest by default). The downgrade drops all of it.
"""
import sqlalchemy as sa
from alembic import op


revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("interview_id", sa.Integer(), nullable=True),
        sa.Column("candidate_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=True),
        sa.Column("to_addr", sa.String(length=254), nullable=False),
        sa.Column("to_name", sa.String(length=200), server_default="", nullable=False),
        sa.Column("reply_to", sa.String(length=254), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("link_ref", sa.String(length=80), nullable=True),
        sa.Column("locale", sa.String(length=16), server_default="en", nullable=False),
        sa.Column("status", sa.String(length=12), server_default="queued", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sending_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["candidate_id"], ["candidates.id"],
                                name=op.f("fk_outbox_messages_candidate_id_candidates")),
        sa.ForeignKeyConstraint(["interview_id"], ["interviews.id"],
                                name=op.f("fk_outbox_messages_interview_id_interviews")),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"],
                                name=op.f("fk_outbox_messages_org_id_organisations")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_outbox_messages_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_messages_dedupe_key")),
        sa.UniqueConstraint("message_id", name=op.f("uq_outbox_messages_message_id")),
        sa.UniqueConstraint("public_id", name=op.f("uq_outbox_messages_public_id")),
    )
    with op.batch_alter_table("outbox_messages") as batch:
        batch.create_index("ix_outbox_messages_status_due", ["status", "next_attempt_at"], unique=False)
        for column in ("candidate_id", "interview_id", "org_id", "user_id"):
            batch.create_index(batch.f(f"ix_outbox_messages_{column}"), [column], unique=False)
    with op.batch_alter_table("interviews") as batch:
        batch.add_column(sa.Column("deadline_days", sa.Integer(), server_default="14", nullable=False))
        batch.add_column(sa.Column("invitation_subject", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("invitation_body", sa.Text(), nullable=True))
        batch.add_column(sa.Column("reminder_hours", sa.String(length=60), server_default="48,24",
                                   nullable=False))
        batch.add_column(sa.Column("time_zone", sa.String(length=64), server_default="UTC", nullable=False))
        batch.add_column(sa.Column("auto_extension_days", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("candidates") as batch:
        batch.add_column(sa.Column("mail_status", sa.String(length=12), nullable=True))
        batch.add_column(sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("token_version", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("deadline_request_days", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("deadline_request_note", sa.Text(), nullable=True))
        batch.add_column(sa.Column("deadline_request_status", sa.String(length=12), nullable=True))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("notify", sa.String(length=12), server_default="digest", nullable=False))
    with op.batch_alter_table("password_resets") as batch:
        batch.add_column(sa.Column("public_id", sa.String(length=32), nullable=True))
        batch.create_unique_constraint(batch.f("uq_password_resets_public_id"), ["public_id"])


def _foreign_keys(on: bool) -> None:
    # SQLite rebuilds a table to drop a column; with foreign keys enforced, rebuilding a table other
    # rows point at fails, so they are off meanwhile (as in 0012).
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def downgrade():
    _foreign_keys(False)
    with op.batch_alter_table("password_resets") as batch:
        batch.drop_constraint("uq_password_resets_public_id", type_="unique")
        batch.drop_column("public_id")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("notify")
    with op.batch_alter_table("candidates") as batch:
        for column in ("deadline_request_status", "deadline_request_note", "deadline_request_days",
                       "token_version"):
            batch.drop_column(column)
        batch.drop_column("opened_at")
        batch.drop_column("mail_status")
    with op.batch_alter_table("interviews") as batch:
        for column in ("auto_extension_days", "time_zone", "reminder_hours", "invitation_body", "invitation_subject",
                       "deadline_days"):
            batch.drop_column(column)
    op.drop_table("outbox_messages")
    _foreign_keys(True)
