"""A developer's own setup: a `.env` file read by `flask` and `make run` (the real environment wins
over it), and `flask shell` opening with the database and every model at hand."""

from __future__ import annotations

import os
import subprocess
import sys

from stack.run import environment
from tests.conftest import ROOT


def test_make_run_takes_settings_from_dotenv_but_the_environment_wins(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("REDIS_URL=redis://from-dotenv:6379/0\nPORT=5999\nexport S3_BUCKET='quoted bucket'\n")

    env = environment({"PORT": "5123", "PATH": "/usr/bin"}, dotenv)

    assert env["REDIS_URL"] == "redis://from-dotenv:6379/0"
    assert env["S3_BUCKET"] == "quoted bucket"
    assert env["PORT"] == "5123"
    assert env["PATH"] == "/usr/bin"
    assert environment({"FLASK_SKIP_DOTENV": "1"}, dotenv) == {"FLASK_SKIP_DOTENV": "1"}
    assert environment({"PORT": "5123"}, tmp_path / "missing.env") == {"PORT": "5123"}


def test_flask_reads_dotenv_itself_and_the_environment_wins(tmp_path):
    (tmp_path / ".env").write_text("SECRET_KEY=secret-from-dotenv\nONEWAY_PROBE=probe-from-dotenv\n")
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "FLASK_SKIP_DOTENV")}
    env.update(ONEWAY_PROBE="probe-from-environment", PYTHONPATH=str(ROOT), ONEWAY_ENV="testing")

    shell = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app:create_app", "shell"], cwd=tmp_path, env=env,
        input="import os; print('seen:', app.config['SECRET_KEY'], os.environ['ONEWAY_PROBE'])\n",
        capture_output=True, text=True, timeout=120)

    assert "seen: secret-from-dotenv probe-from-environment" in shell.stdout, shell.stderr[-2000:]


def test_flask_shell_starts_with_db_and_every_model():
    import app.models
    from app import create_app
    from app.extensions import db

    application = create_app({"SECRET_KEY": "shell-test", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                              "TESTING": True})
    models = {name: obj for name, obj in vars(app.models).items()
              if isinstance(obj, type) and issubclass(obj, db.Model) and obj is not db.Model}

    with application.app_context():  # as `flask shell` has one
        context = application.make_shell_context()

    assert context["db"] is db
    assert len(models) >= 20
    assert {name: context.get(name) for name in models} == models
