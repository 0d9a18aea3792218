"""prompt media: a hiring manager's video or sound asking a question, or welcoming candidates

Revision ID: 0018
Revises: 0017

One new table, prompt_media: a recording or upload for one question of an interview, or for its
landing page (question_id NULL), owned by the interview's organisation and processed like an
answer (MP4, poster, transcript and captions). Nothing existing changes: every question stays a
text prompt. The downgrade drops the table; its stored objects (prompts/<public_id>/...) are not
deleted by it.
"""
import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('prompt_media',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('interview_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('failure_reason', sa.Text(), nullable=True),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('chunk_hashes', sa.JSON(), nullable=True),
    sa.Column('received_bytes', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('original_key', sa.String(length=300), nullable=True),
    sa.Column('original_size', sa.BigInteger(), nullable=True),
    sa.Column('original_sha256', sa.String(length=64), nullable=True),
    sa.Column('duration_s', sa.Float(), nullable=True),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('mp4_key', sa.String(length=300), nullable=True),
    sa.Column('mp4_size', sa.BigInteger(), nullable=True),
    sa.Column('audio_key', sa.String(length=300), nullable=True),
    sa.Column('poster_key', sa.String(length=300), nullable=True),
    sa.Column('poster_size', sa.BigInteger(), nullable=True),
    sa.Column('captions_key', sa.String(length=300), nullable=True),
    sa.Column('transcript', sa.JSON(), nullable=True),
    sa.Column('ready_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_prompt_media_created_by_id_users')),
    sa.ForeignKeyConstraint(['interview_id'], ['interviews.id'], name=op.f('fk_prompt_media_interview_id_interviews')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_prompt_media_org_id_organisations')),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_prompt_media_question_id_questions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prompt_media')),
    sa.UniqueConstraint('public_id', name=op.f('uq_prompt_media_public_id'))
    )
    with op.batch_alter_table('prompt_media', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prompt_media_interview_id'), ['interview_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_prompt_media_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_prompt_media_question_id'), ['question_id'], unique=False)


def downgrade():
    with op.batch_alter_table('prompt_media', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prompt_media_question_id'))
        batch_op.drop_index(batch_op.f('ix_prompt_media_org_id'))
        batch_op.drop_index(batch_op.f('ix_prompt_media_interview_id'))
    op.drop_table('prompt_media')
