"""ai: advisory AI evaluations of answers and AI drafts of questions (issue 18)

Revision ID: 0017
Revises: 0016

Three new tables (ai_evaluations, with history: `current` marks the latest per answer;
ai_summaries, the same per candidate; ai_drafts) and three flags, all off for existing rows:
interviews.ai_evaluation (an owner turns evaluation on), interviews.ai_before_grading (show it
before a grader's own score), candidates.human_only (the candidate chose review by people only).
The downgrade drops them, with the evaluations, summaries and drafts.
"""
import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ai_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('interview_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('items', sa.JSON(), nullable=True),
    sa.Column('failure_reason', sa.Text(), nullable=True),
    sa.Column('model', sa.String(length=200), nullable=True),
    sa.Column('prompt_version', sa.String(length=40), nullable=True),
    sa.Column('seconds', sa.Float(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['interview_id'], ['interviews.id'], name=op.f('fk_ai_drafts_interview_id_interviews')),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_ai_drafts_question_id_questions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_ai_drafts_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ai_drafts')),
    sa.UniqueConstraint('public_id', name=op.f('uq_ai_drafts_public_id'))
    )
    with op.batch_alter_table('ai_drafts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ai_drafts_interview_id'), ['interview_id'], unique=False)

    op.create_table('ai_evaluations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('answer_id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('current', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('mean', sa.Float(), nullable=True),
    sa.Column('failure_reason', sa.Text(), nullable=True),
    sa.Column('model', sa.String(length=200), nullable=True),
    sa.Column('prompt_version', sa.String(length=40), nullable=True),
    sa.Column('temperature', sa.Float(), nullable=True),
    sa.Column('seconds', sa.Float(), nullable=True),
    sa.Column('input_hash', sa.String(length=64), nullable=True),
    sa.Column('flagged_by_id', sa.Integer(), nullable=True),
    sa.Column('flag_note', sa.Text(), nullable=True),
    sa.Column('flagged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['answer_id'], ['answers.id'], name=op.f('fk_ai_evaluations_answer_id_answers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidates.id'], name=op.f('fk_ai_evaluations_candidate_id_candidates')),
    sa.ForeignKeyConstraint(['flagged_by_id'], ['users.id'], name=op.f('fk_ai_evaluations_flagged_by_id_users')),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_ai_evaluations_question_id_questions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ai_evaluations')),
    sa.UniqueConstraint('public_id', name=op.f('uq_ai_evaluations_public_id'))
    )
    with op.batch_alter_table('ai_evaluations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ai_evaluations_answer_id'), ['answer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ai_evaluations_candidate_id'), ['candidate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ai_evaluations_question_id'), ['question_id'], unique=False)

    op.create_table('ai_summaries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('current', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('failure_reason', sa.Text(), nullable=True),
    sa.Column('model', sa.String(length=200), nullable=True),
    sa.Column('prompt_version', sa.String(length=40), nullable=True),
    sa.Column('seconds', sa.Float(), nullable=True),
    sa.Column('input_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidates.id'], name=op.f('fk_ai_summaries_candidate_id_candidates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ai_summaries'))
    )
    with op.batch_alter_table('ai_summaries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ai_summaries_candidate_id'), ['candidate_id'], unique=False)

    # Plain ALTER TABLE on every database (SQLite adds and, since 3.35, drops a column in place), so
    # no table that others point at is rebuilt.
    op.add_column('candidates', sa.Column('human_only', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('interviews', sa.Column('ai_evaluation', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('interviews', sa.Column('ai_before_grading', sa.Boolean(), server_default=sa.false(),
                                          nullable=False))


def downgrade():
    op.drop_column('interviews', 'ai_before_grading')
    op.drop_column('interviews', 'ai_evaluation')
    op.drop_column('candidates', 'human_only')

    with op.batch_alter_table('ai_evaluations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ai_evaluations_question_id'))
        batch_op.drop_index(batch_op.f('ix_ai_evaluations_candidate_id'))
        batch_op.drop_index(batch_op.f('ix_ai_evaluations_answer_id'))

    op.drop_table('ai_evaluations')
    with op.batch_alter_table('ai_summaries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ai_summaries_candidate_id'))

    op.drop_table('ai_summaries')
    with op.batch_alter_table('ai_drafts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ai_drafts_interview_id'))

    op.drop_table('ai_drafts')
