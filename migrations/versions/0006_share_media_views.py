"""share media views: the share link's log also records answers' media fetched through the link

Revision ID: 0006
Revises: 0005

A row's kind is "page" (every row so far) or the media fetched: "video", "poster" or "captions",
with the answer it belongs to. The downgrade keeps media rows: their path still says what they were.
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    # SQLite rebuilds share_views for the foreign key; no table points at it, so nothing cascades.
    with op.batch_alter_table("share_views", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=10), server_default="page", nullable=False))
        batch_op.add_column(sa.Column("answer_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_share_views_answer_id_answers"), "answers",
                                    ["answer_id"], ["id"])


def downgrade():
    with op.batch_alter_table("share_views", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_share_views_answer_id_answers"), type_="foreignkey")
        batch_op.drop_column("answer_id")
        batch_op.drop_column("kind")
