"""authoring: edit and reuse interviews, close and archive them, a question bank, answer snapshots

Revision ID: 0014
Revises: 0013

Interviews gain `closed_at`,
`archived_at`, `is_template` and `shuffle_questions`. Questions gain `edited_at` (a wording
corrected after answers) and `pool` (alternatives, one drawn per candidate); candidates gain
`question_plan` (what was drawn for them).
Answers gain the prompt and limits each take was given (`prompt_text`, `given_limits`); existing
answers get their question's current prompt, which no one could change before this revision.
`interviews.apply_token_hash` (unique index)
holds the open apply link's token hash. A new table holds each organisation's
question bank. Submitted reviews gain their scores' sum, count, lowest and highest, and
candidate_stats the time of the first review (the dashboard's figures; both filled from the
existing rows). The downgrade drops all of it.
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no batch): SQLite adds them in place, without rebuilding tables others point at.
    for table, column in [
        ("interviews", sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True)),
        ("interviews", sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True)),
        ("interviews", sa.Column("is_template", sa.Boolean(), server_default=sa.false(), nullable=False)),
        ("interviews", sa.Column("shuffle_questions", sa.Boolean(), server_default=sa.false(),
                                 nullable=False)),
        ("questions", sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True)),
        ("questions", sa.Column("pool", sa.String(length=40), nullable=True)),
        ("candidates", sa.Column("question_plan", sa.JSON(), nullable=True)),
        ("answers", sa.Column("prompt_text", sa.Text(), nullable=True)),
        ("answers", sa.Column("given_limits", sa.JSON(), nullable=True)),
        ("reviews", sa.Column("score_sum", sa.Integer(), nullable=True)),
        ("reviews", sa.Column("score_count", sa.Integer(), nullable=True)),
        ("reviews", sa.Column("score_min", sa.Integer(), nullable=True)),
        ("reviews", sa.Column("score_max", sa.Integer(), nullable=True)),
        ("candidate_stats", sa.Column("first_reviewed_at", sa.DateTime(timezone=True), nullable=True)),
    ]:
        op.add_column(table, column)
    op.add_column("interviews", sa.Column("apply_token_hash", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_interviews_apply_token_hash"), "interviews", ["apply_token_hash"], unique=True)
    op.execute("UPDATE answers SET prompt_text = (SELECT prompt FROM questions "
               "WHERE questions.id = answers.question_id)")
    # Submitted reviews' scores summed up, and each candidate's first review, as the code now keeps
    # them at submission.
    mine = "FROM scores WHERE scores.candidate_id = reviews.candidate_id AND scores.user_id = reviews.user_id"
    op.execute(f"UPDATE reviews SET score_sum = (SELECT sum(value) {mine}), "
               f"score_count = (SELECT count(*) {mine}), score_min = (SELECT min(value) {mine}), "
               f"score_max = (SELECT max(value) {mine}) WHERE recommendation IS NOT NULL")
    op.execute("UPDATE candidate_stats SET first_reviewed_at = (SELECT min(submitted_at) FROM reviews "
               "WHERE reviews.candidate_id = candidate_stats.candidate_id AND recommendation IS NOT NULL)")
    op.create_table(
        "bank_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=10), server_default="video", nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("ideal_answer", sa.Text(), server_default="", nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=True),
        sa.Column("think_seconds", sa.Integer(), nullable=False),
        sa.Column("answer_seconds", sa.Integer(), nullable=False),
        sa.Column("max_takes", sa.Integer(), nullable=False),
        sa.CheckConstraint("think_seconds >= 0", name=op.f("ck_bank_questions_think_nonneg")),
        sa.CheckConstraint("answer_seconds > 0", name=op.f("ck_bank_questions_answer_positive")),
        sa.CheckConstraint("max_takes >= 1", name=op.f("ck_bank_questions_takes_positive")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_bank_questions_created_by_id_users")),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"],
                                name=op.f("fk_bank_questions_org_id_organisations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_questions")),
        sa.UniqueConstraint("public_id", name=op.f("uq_bank_questions_public_id")),
    )
    op.create_index(op.f("ix_bank_questions_org_id"), "bank_questions", ["org_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_bank_questions_org_id"), table_name="bank_questions")
    op.drop_table("bank_questions")
    op.drop_index(op.f("ix_interviews_apply_token_hash"), table_name="interviews")
    # SQLite rebuilds a table to drop a column; with foreign keys enforced, rebuilding a table other
    # rows point at (answers, candidates) fails, so they are off meanwhile.
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("PRAGMA foreign_keys=OFF")
    with op.batch_alter_table("candidate_stats") as batch:
        batch.drop_column("first_reviewed_at")
    with op.batch_alter_table("reviews") as batch:
        for column in ("score_max", "score_min", "score_count", "score_sum"):
            batch.drop_column(column)
    with op.batch_alter_table("candidates") as batch:
        batch.drop_column("question_plan")
    with op.batch_alter_table("answers") as batch:
        batch.drop_column("given_limits")
        batch.drop_column("prompt_text")
    with op.batch_alter_table("questions") as batch:
        batch.drop_column("edited_at")
        batch.drop_column("pool")
    with op.batch_alter_table("interviews") as batch:
        batch.drop_column("is_template")
        batch.drop_column("shuffle_questions")
        batch.drop_column("apply_token_hash")
        batch.drop_column("archived_at")
        batch.drop_column("closed_at")
    if sqlite:
        op.execute("PRAGMA foreign_keys=ON")
