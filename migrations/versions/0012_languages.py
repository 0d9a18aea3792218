"""languages: the interview's interface language, the candidate's choice, time zone and consent language

Revision ID: 0012
Revises: 0011

`interviews.language` stays the spoken language (transcription); `interviews.interface_language` is
the language of the candidate's pages, set for existing interviews from the spoken one where Oneway
has pages in it (zh -> zh_Hans, pt -> pt_BR, es, fr, de, ar), else English. Candidates gain their own
choice (`locale`, null: the interview's), their browser's time zone and the language of the notice
they agreed to. The downgrade drops the four columns.
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# The spoken language's first part, in lower case, and the interface language it gives. Traditional
# Chinese (zh-Hant, zh-TW, zh-HK) is not Simplified Chinese: it gives English until it has pages.
_FROM_SPOKEN = """
CASE
  WHEN lower(language) IN ('zh', 'zh-cn', 'zh_cn', 'zh-hans', 'zh_hans', 'zh-sg', 'zh_sg') THEN 'zh_Hans'
  WHEN length(language) = 2 OR substr(language, 3, 1) IN ('-', '_') THEN
    CASE lower(substr(language, 1, 2)) WHEN 'pt' THEN 'pt_BR' WHEN 'es' THEN 'es' WHEN 'fr' THEN 'fr'
      WHEN 'de' THEN 'de' WHEN 'ar' THEN 'ar' ELSE 'en' END
  ELSE 'en'
END
"""


def _foreign_keys(on: bool) -> None:
    # SQLite rebuilds a table to drop a column; with foreign keys enforced, rebuilding a table other
    # rows point at fails, so they are off meanwhile (as in 0003 and 0004).
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def upgrade():
    with op.batch_alter_table("interviews") as batch:
        batch.add_column(sa.Column("interface_language", sa.String(length=16), server_default="en",
                                   nullable=False))
    op.execute(f"UPDATE interviews SET interface_language = {_FROM_SPOKEN} WHERE language IS NOT NULL")
    with op.batch_alter_table("candidates") as batch:
        batch.add_column(sa.Column("consent_locale", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("locale", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("time_zone", sa.String(length=64), nullable=True))


def downgrade():
    _foreign_keys(False)
    with op.batch_alter_table("candidates") as batch:
        batch.drop_column("time_zone")
        batch.drop_column("locale")
        batch.drop_column("consent_locale")
    with op.batch_alter_table("interviews") as batch:
        batch.drop_column("interface_language")
    _foreign_keys(True)
