"""Upgrading (and downgrading) a database that already holds interviews, candidates, scores and
answers keeps their data."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from tests.conftest import BACKENDS, PG_ADMIN_URL, ROOT, SECRET

SEED = [
    "insert into organisations(public_id,name,created_at,updated_at) "
    "values('o','O','2026-01-01','2026-01-01')",
    "insert into users(public_id,org_id,email,name,password_hash,role,active,created_at,updated_at) "
    "values('u',1,'a@b.c','A','x','owner',true,'2026-01-01','2026-01-01')",
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


ANSWERS = [
    "insert into answers(public_id,candidate_id,question_id,take,status,content_type,stage_seconds,"
    "ready_at,created_at,updated_at) values('a1',1,1,1,'ready','video/webm',"
    "'{\"transcode\": 1.5, \"thumbnail\": 0.25, \"transcribe\": 3.0}','2026-01-02 10:00:00+00:00',"
    "'2026-01-01 00:00:00','2026-01-03 00:00:00')",
    "insert into answers(public_id,candidate_id,question_id,take,status,content_type,created_at,"
    "updated_at) values('a2',1,1,2,'processing','video/webm','2026-01-01 00:00:00','2026-01-01 00:00:00')",
]


@pytest.fixture(params=BACKENDS)
def empty_database(request, tmp_path):
    """The URL of a database with nothing in it, on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.sqlite3'}"
        return
    name = f"oneway_mig_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_stage_timings_move_into_their_table_and_back(empty_database, monkeypatch):
    from app import create_app
    from app.extensions import db
    from app.models import Answer

    monkeypatch.setenv("ONEWAY_ENV", "testing")
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database, "SECRET_KEY": SECRET})
    migrations = str(ROOT / "migrations")
    answers = sa.table("answers", sa.column("public_id"), sa.column("stage_seconds", sa.JSON()))
    timings = {"transcode": 1.5, "thumbnail": 0.25, "transcribe": 3.0}
    with app.app_context():
        upgrade(directory=migrations, revision="0004")
        with db.engine.begin() as conn:
            for statement in SEED + ANSWERS:
                conn.execute(sa.text(statement))
        upgrade(directory=migrations, revision="0005")
        # Only the columns 0005 has: later revisions add others to the model.
        found = {a.public_id: a for a in db.session.execute(
            db.select(Answer).options(sa.orm.load_only(Answer.public_id))).scalars()}
        assert {k: a.stage_seconds for k, a in found.items()} == {"a1": timings, "a2": {}}
        # The JSON kept no times: each run is dated by the answer's ready_at.
        assert {r.finished_at.isoformat() for r in found["a1"].stage_runs} == {"2026-01-02T10:00:00+00:00"}
        db.session.remove()
        assert "stage_seconds" not in {c["name"] for c in sa.inspect(db.engine).get_columns("answers")}

        downgrade(directory=migrations, revision="0004")
        with db.engine.connect() as conn:
            rows = dict(conn.execute(sa.select(answers.c.public_id, answers.c.stage_seconds)).all())
            assert rows == {"a1": timings, "a2": None}
            assert not sa.inspect(conn).has_table("answer_stage_runs")
        upgrade(directory=migrations)  # and up again, as a rollback and redeploy would
        assert db.session.execute(db.select(Answer).filter_by(public_id="a1")).scalar_one().stage_seconds \
            == timings
        db.session.remove()
        db.engine.dispose()


def test_downgrading_several_steps_at_once_keeps_every_row(empty_database, monkeypatch):
    """SQLite rebuilds tables to drop columns; in a multi-step run the earlier steps' transaction
    is open, so the migrations must not rely on turning foreign keys off inside it: dropping a
    rebuilt parent table would cascade to its children's rows."""
    from app import create_app
    from app.extensions import db

    monkeypatch.setenv("ONEWAY_ENV", "testing")
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database, "SECRET_KEY": SECRET})
    migrations = str(ROOT / "migrations")
    counted = ("interviews", "questions", "candidates", "scores", "answers")

    def counts():
        with db.engine.connect() as conn:
            return {t: conn.execute(sa.text(f"select count(*) from {t}")).scalar() for t in counted}

    with app.app_context():
        upgrade(directory=migrations, revision="0004")
        with db.engine.begin() as conn:
            for statement in SEED + ANSWERS:
                conn.execute(sa.text(statement))
        before = counts()
        assert before == {"interviews": 1, "questions": 1, "candidates": 1, "scores": 1, "answers": 2}
        upgrade(directory=migrations)
        assert counts() == before
        downgrade(directory=migrations, revision="0002")  # 0005, 0004 and 0003 in one run
        assert counts() == before
        upgrade(directory=migrations)
        assert counts() == before
        if db.engine.dialect.name == "sqlite":
            with db.engine.connect() as conn:  # the app's connections enforce the keys again
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        db.engine.dispose()


def test_hardening_reviewer_scope_migration_keeps_each_members_access(empty_database, monkeypatch):
    """Reviewers with no assignment saw every interview before 0010: they keep that as an explicit
    "all interviews"; assigned reviewers, removed ones, owners and recruiters get false."""
    from app import create_app
    from app.extensions import db

    monkeypatch.setenv("ONEWAY_ENV", "testing")
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database, "SECRET_KEY": SECRET})
    migrations = str(ROOT / "migrations")
    members = [("free", "reviewer", "true"), ("assigned", "reviewer", "true"), ("gone", "reviewer", "false"),
               ("recruiter", "recruiter", "true")]
    with app.app_context():
        upgrade(directory=migrations, revision="0009")
        with db.engine.begin() as conn:
            for statement in SEED:
                conn.execute(sa.text(statement))
            for name, role, active in members:
                conn.execute(sa.text(
                    "insert into users(public_id,org_id,email,name,password_hash,role,active,session_epoch,"
                    f"created_at,updated_at) values('{name}',1,'{name}@b.c','{name}','x','{role}',{active},0,"
                    "'2026-01-01','2026-01-01')"))
            conn.execute(sa.text("insert into interview_assignments(interview_id,user_id,created_at) "
                                 "select 1, id, '2026-01-01' from users where public_id='assigned'"))
        upgrade(directory=migrations, revision="0010")
        with db.engine.connect() as conn:
            scope = dict(conn.execute(sa.text("select public_id, all_interviews from users")).all())
        assert {k: bool(v) for k, v in scope.items()} == {
            "u": False, "free": True, "assigned": False, "gone": False, "recruiter": False}
        downgrade(directory=migrations, revision="0009")
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("select count(*) from users")).scalar() == 5
            assert conn.execute(sa.text("select count(*) from interview_assignments")).scalar() == 1
        assert "all_interviews" not in {c["name"] for c in sa.inspect(db.engine).get_columns("users")}
        upgrade(directory=migrations)
        db.engine.dispose()


def test_authoring_migration_keeps_each_answers_prompt_and_downgrades(empty_database, monkeypatch):
    """0014: existing answers get the prompt they were given (no one could change it before), and
    the downgrade drops the new columns and table with rows pointing at candidates and answers."""
    from app import create_app
    from app.extensions import db

    monkeypatch.setenv("ONEWAY_ENV", "testing")
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database, "SECRET_KEY": SECRET})
    migrations = str(ROOT / "migrations")
    with app.app_context():
        upgrade(directory=migrations, revision="0013")
        with db.engine.begin() as conn:
            for statement in SEED:
                conn.execute(sa.text(statement))
            conn.execute(sa.text("insert into answers(public_id,candidate_id,question_id,take,status,"
                                 "content_type,created_at,updated_at) values('a1',1,1,1,'ready','video/webm',"
                                 "'2026-01-01','2026-01-01')"))
            conn.execute(sa.text("insert into reviews(candidate_id,user_id,recommendation,comment,"
                                 "submitted_at,created_at,updated_at) values(1,1,'yes','',"
                                 "'2026-01-05 10:00:00+00:00','2026-01-05','2026-01-05')"))
            conn.execute(sa.text("insert into candidate_stats(candidate_id,rating,reviews,disagreement,"
                                 "updated_at) values(1,4,1,false,'2026-01-05')"))
        upgrade(directory=migrations, revision="0014")
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("select prompt_text from answers")).scalar() == "P"
            assert tuple(conn.execute(sa.text(
                "select score_sum, score_count, score_min, score_max from reviews")).one()) == (4, 1, 4, 4)
            first = conn.execute(sa.text("select first_reviewed_at from candidate_stats")).scalar()
            assert first is not None
            assert conn.execute(sa.text("select is_template, closed_at from interviews")).one() in (
                (False, None), (0, None))
        downgrade(directory=migrations, revision="0013")
        inspector = sa.inspect(db.engine)
        assert "prompt_text" not in {c["name"] for c in inspector.get_columns("answers")}
        assert not inspector.has_table("bank_questions")
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("select count(*) from answers")).scalar() == 1
        upgrade(directory=migrations)
        db.engine.dispose()


def test_languages_migration_gives_existing_interviews_an_interface_language(empty_database, monkeypatch):
    """0012: the spoken language stays; the interface language follows it where Oneway has pages in it
    (zh -> zh_Hans, pt-BR -> pt_BR), else English; candidates' new columns start empty."""
    from app import create_app
    from app.extensions import db

    monkeypatch.setenv("ONEWAY_ENV", "testing")
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database, "SECRET_KEY": SECRET})
    migrations = str(ROOT / "migrations")
    spoken = {"i": None, "zh": "zh", "tw": "zh-TW", "pt": "pt-BR", "de": "de", "ja": "ja", "ar": "AR"}
    with app.app_context():
        upgrade(directory=migrations, revision="0011")
        with db.engine.begin() as conn:
            for statement in SEED:
                conn.execute(sa.text(statement))
            for public_id, language in list(spoken.items())[1:]:
                conn.execute(sa.text("insert into interviews(public_id,org_id,title,intro,language,"
                                     "created_at,"
                                     "updated_at) values(:p,1,'T','',:l,'2026-01-01','2026-01-01')"),
                             {"p": public_id, "l": language})
        upgrade(directory=migrations, revision="0012")
        with db.engine.connect() as conn:
            found = dict(conn.execute(sa.text("select public_id, interface_language from interviews")).all())
            kept = dict(conn.execute(sa.text("select public_id, language from interviews")).all())
            candidate = conn.execute(sa.text("select locale, time_zone, consent_locale from candidates")
                                     ).one()
        assert found == {"i": "en", "zh": "zh_Hans", "tw": "en", "pt": "pt_BR", "de": "de", "ja": "en",
                         "ar": "ar"}
        assert kept == spoken and tuple(candidate) == (None, None, None)
        downgrade(directory=migrations, revision="0011")
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("interviews")}
        assert "interface_language" not in columns
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("select count(*) from interviews")).scalar() == 7
        upgrade(directory=migrations)
        db.engine.dispose()
