"""A developer's own setup: a `.env` file read by `flask` and `make run` (the real environment wins
over it)."""

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

