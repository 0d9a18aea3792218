"""Upgrading a SQLite database that already holds interviews, candidates and scores works."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import upgrade

from tests.conftest import ROOT, SECRET

SEED = [
    "insert into organisations(public_id,name,created_at,updated_at) "
    "values('o','O','2026-01-01','2026-01-01')",
    "insert into users(public_id,org_id,email,name,password_hash,role,active,created_at,updated_at) "
    "values('u',1,'a@b.c','A','x','owner',1,'2026-01-01','2026-01-01')",
    "insert into interviews(public_id,org_id,title,intro,created_at,updated_at) "
    "values('i',1,'T','','2026-01-01','2026-01-01')",
    "insert into questions(public_id,interview_id,position,prompt,think_seconds,answer_seconds,max_takes,"
    "created_at,updated_at) values('q',1,0,'P',1,30,1,'2026-01-01','2026-01-01')",
    "insert into candidates(public_id,org_id,interview_id,name,email,token_hash,expires_at,status,"
    "package_version,created_at,updated_at) values('c',1,1,'C','c@d.e','h','2030-01-01','invited',0,"
    "'2026-01-01','2026-01-01')",
    "insert into scores(candidate_id,question_id,user_id,value,comment,created_at,updated_at) "
    "values(1,1,1,4,'','2026-01-01','2026-01-01')",
]


def test_upgrade_from_0002_keeps_rows_and_constraints(tmp_path, monkeypatch):
    from app import create_app
    from app.extensions import db

    monkeypatch.setenv("ONEWAY_ENV", "testing")
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"), revision="0002")
        with db.engine.begin() as conn:
            for statement in SEED:
                conn.execute(sa.text(statement))
        upgrade(directory=str(ROOT / "migrations"))
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("select anonymous, review_media from interviews")).one() == (
                0, "video")
            assert conn.execute(sa.text("select value, criteria from scores")).one() == (4, None)
            schema = conn.execute(sa.text("select sql from sqlite_master where name='questions'")).scalar()
            assert "CHECK (max_takes >= 1)" in schema
        db.engine.dispose()
