"""answer quality checks and recovery count

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("answers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quality_audio", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("quality_video", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("recoveries", sa.Integer(), server_default="0", nullable=False))


def downgrade():
    with op.batch_alter_table("answers", schema=None) as batch_op:
        batch_op.drop_column("recoveries")
        batch_op.drop_column("quality_video")
        batch_op.drop_column("quality_audio")
