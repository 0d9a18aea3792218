"""review and sharing: reviews (recommendation and submission), decisions, share links with
their candidates, guests, guest scores and view log, team invites, interview assignments,
candidate_stats (rating, review count and decision, kept for the queue), rubric and
anonymised-review columns

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 16:28:02.976135

Hand-reviewed: new tables, and new columns with server defaults on interviews (anonymous,
review_media), questions (ideal_answer, criteria) and scores (criteria); existing rows keep
working unchanged.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('interviews', schema=None) as batch_op:
        # A constant default (not sa.false()) lets SQLite add the column in place; rebuilding
        # interviews would trip the foreign keys of existing questions and candidates.
        batch_op.add_column(sa.Column('anonymous', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('review_media', sa.String(length=12), server_default='video', nullable=False))
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ideal_answer', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('criteria', sa.JSON(), nullable=True))
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.add_column(sa.Column('criteria', sa.JSON(), nullable=True))

    op.create_table('share_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=200), server_default='', nullable=False),
    sa.Column('permission', sa.String(length=10), nullable=False),
    sa.Column('hide_names', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_share_links_created_by_id_users')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_share_links_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_share_links')),
    sa.UniqueConstraint('public_id', name=op.f('uq_share_links_public_id')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_share_links_token_hash'))
    )
    with op.batch_alter_table('share_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_share_links_org_id'), ['org_id'], unique=False)

    op.create_table('team_invites',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_team_invites_created_by_id_users')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_team_invites_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_team_invites')),
    sa.UniqueConstraint('public_id', name=op.f('uq_team_invites_public_id')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_team_invites_token_hash'))
    )
    with op.batch_alter_table('team_invites', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_team_invites_org_id'), ['org_id'], unique=False)

    op.create_table('interview_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('interview_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['interview_id'], ['interviews.id'], name=op.f('fk_interview_assignments_interview_id_interviews')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_interview_assignments_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interview_assignments')),
    sa.UniqueConstraint('interview_id', 'user_id', name=op.f('uq_interview_assignments_interview_id_user_id'))
    )
    with op.batch_alter_table('interview_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_interview_assignments_interview_id'), ['interview_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_interview_assignments_user_id'), ['user_id'], unique=False)

    op.create_table('share_guests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('share_link_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['share_link_id'], ['share_links.id'], name=op.f('fk_share_guests_share_link_id_share_links')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_share_guests'))
    )
    with op.batch_alter_table('share_guests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_share_guests_share_link_id'), ['share_link_id'], unique=False)

    op.create_table('decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), server_default='', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidates.id'], name=op.f('fk_decisions_candidate_id_candidates')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_decisions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decisions'))
    )
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decisions_candidate_id'), ['candidate_id'], unique=False)

    op.create_table('guest_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('guest_id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), server_default='', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('value BETWEEN 1 AND 5', name=op.f('ck_guest_scores_value_range')),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidates.id'], name=op.f('fk_guest_scores_candidate_id_candidates')),
    sa.ForeignKeyConstraint(['guest_id'], ['share_guests.id'], name=op.f('fk_guest_scores_guest_id_share_guests')),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_guest_scores_question_id_questions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guest_scores')),
    sa.UniqueConstraint('guest_id', 'candidate_id', 'question_id', name=op.f('uq_guest_scores_guest_id_candidate_id_question_id'))
    )
    with op.batch_alter_table('guest_scores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_guest_scores_candidate_id'), ['candidate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_guest_scores_guest_id'), ['guest_id'], unique=False)

    op.create_table('reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('recommendation', sa.String(length=20), nullable=True),
    sa.Column('comment', sa.Text(), server_default='', nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidates.id'], name=op.f('fk_reviews_candidate_id_candidates')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_reviews_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviews')),
    sa.UniqueConstraint('candidate_id', 'user_id', name=op.f('uq_reviews_candidate_id_user_id'))
    )
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reviews_candidate_id'), ['candidate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reviews_user_id'), ['user_id'], unique=False)

    op.create_table('candidate_stats',
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('rating', sa.Float(), nullable=True),
    sa.Column('reviews', sa.Integer(), server_default='0', nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=True),
    sa.Column('disagreement', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidates.id'], name=op.f('fk_candidate_stats_candidate_id_candidates')),
    sa.PrimaryKeyConstraint('candidate_id', name=op.f('pk_candidate_stats'))
    )
    op.create_table('share_link_candidates',
    sa.Column('share_link_id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidates.id'], name=op.f('fk_share_link_candidates_candidate_id_candidates')),
    sa.ForeignKeyConstraint(['share_link_id'], ['share_links.id'], name=op.f('fk_share_link_candidates_share_link_id_share_links')),
    sa.PrimaryKeyConstraint('share_link_id', 'candidate_id', name=op.f('pk_share_link_candidates'))
    )
    op.create_table('share_views',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('share_link_id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=True),
    sa.Column('guest_id', sa.Integer(), nullable=True),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('ip', sa.String(length=64), server_default='', nullable=False),
    sa.Column('user_agent', sa.String(length=300), server_default='', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidates.id'], name=op.f('fk_share_views_candidate_id_candidates')),
    sa.ForeignKeyConstraint(['guest_id'], ['share_guests.id'], name=op.f('fk_share_views_guest_id_share_guests')),
    sa.ForeignKeyConstraint(['share_link_id'], ['share_links.id'], name=op.f('fk_share_views_share_link_id_share_links')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_share_views'))
    )
    with op.batch_alter_table('share_views', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_share_views_share_link_id'), ['share_link_id'], unique=False)



def downgrade():
    # SQLite drops columns by rebuilding tables; with foreign keys enforced, rebuilding a table
    # that other rows point at fails, so they are off for the downgrade.
    sqlite = op.get_bind().dialect.name == 'sqlite'
    if sqlite:
        op.execute('PRAGMA foreign_keys=OFF')
    with op.batch_alter_table('share_views', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_share_views_share_link_id'))

    op.drop_table('share_views')
    op.drop_table('share_link_candidates')
    op.drop_table('candidate_stats')
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reviews_user_id'))
        batch_op.drop_index(batch_op.f('ix_reviews_candidate_id'))

    op.drop_table('reviews')
    with op.batch_alter_table('guest_scores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_guest_scores_guest_id'))
        batch_op.drop_index(batch_op.f('ix_guest_scores_candidate_id'))

    op.drop_table('guest_scores')
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decisions_candidate_id'))

    op.drop_table('decisions')
    with op.batch_alter_table('share_guests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_share_guests_share_link_id'))

    op.drop_table('share_guests')
    with op.batch_alter_table('interview_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_interview_assignments_user_id'))
        batch_op.drop_index(batch_op.f('ix_interview_assignments_interview_id'))

    op.drop_table('interview_assignments')
    with op.batch_alter_table('team_invites', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_team_invites_org_id'))

    op.drop_table('team_invites')
    with op.batch_alter_table('share_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_share_links_org_id'))

    op.drop_table('share_links')
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.drop_column('criteria')
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.drop_column('criteria')
        batch_op.drop_column('ideal_answer')
    with op.batch_alter_table('interviews', schema=None) as batch_op:
        batch_op.drop_column('review_media')
        batch_op.drop_column('anonymous')
    if sqlite:
        op.execute('PRAGMA foreign_keys=ON')
