"""answer stage runs: one row per processing stage's run, instead of the answers.stage_seconds JSON

Revision ID: 0005
Revises: 0004

Thumbnail and transcription run side by side on different workers; each rewrote the whole JSON
column, so one of two timings finishing together could be lost. Each run now inserts a row.
The upgrade moves every stored timing into a row (finished at the answer's ready_at, or its
updated_at: the JSON kept no times); the downgrade puts the latest run of each stage back.
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Times are copied as they are stored (untyped columns), so SQLite's text needs no parsing.
answers = sa.table("answers", sa.column("id", sa.Integer()), sa.column("stage_seconds", sa.JSON()),
                   sa.column("ready_at"), sa.column("updated_at"))
runs = sa.table("answer_stage_runs", sa.column("id", sa.Integer()), sa.column("answer_id", sa.Integer()),
                sa.column("stage", sa.String()), sa.column("seconds", sa.Float()), sa.column("finished_at"))


def upgrade():
    op.create_table("answer_stage_runs",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("answer_id", sa.Integer(), nullable=False),
    sa.Column("stage", sa.String(length=40), nullable=False),
    sa.Column("seconds", sa.Float(), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["answer_id"], ["answers.id"], ondelete="CASCADE",
                            name=op.f("fk_answer_stage_runs_answer_id_answers")),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_answer_stage_runs"))
    )
    with op.batch_alter_table("answer_stage_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_answer_stage_runs_answer_id"), ["answer_id"], unique=False)

    conn = op.get_bind()
    rows = []
    for answer_id, timings, ready_at, updated_at in conn.execute(
            sa.select(answers).where(answers.c.stage_seconds.is_not(None)).order_by(answers.c.id)):
        for stage, seconds in (timings or {}).items():
            if isinstance(seconds, int | float):
                rows.append({"answer_id": answer_id, "stage": stage[:40], "seconds": float(seconds),
                             "finished_at": ready_at or updated_at})
    if rows:
        op.bulk_insert(runs, rows)
    # Not a batch operation: on SQLite a batch drop rebuilds answers, and dropping the old table
    # with foreign keys on would cascade to the rows just copied. SQLite 3.35+ drops in place.
    op.drop_column("answers", "stage_seconds")


def downgrade():
    op.add_column("answers", sa.Column("stage_seconds", sa.JSON(), nullable=True))
    conn = op.get_bind()
    latest: dict[int, dict[str, float]] = {}
    for answer_id, stage, seconds in conn.execute(
            sa.select(runs.c.answer_id, runs.c.stage, runs.c.seconds)
            .order_by(runs.c.answer_id, runs.c.finished_at, runs.c.id)):
        latest.setdefault(answer_id, {})[stage] = seconds
    if latest:
        conn.execute(sa.update(answers).where(answers.c.id == sa.bindparam("answer_id"))
                     .values(stage_seconds=sa.bindparam("timings", type_=sa.JSON())),
                     [{"answer_id": k, "timings": v} for k, v in latest.items()])
    with op.batch_alter_table("answer_stage_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_answer_stage_runs_answer_id"))
    op.drop_table("answer_stage_runs")
