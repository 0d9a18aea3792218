"""`make run`: the embedded stack (SQLite, redis-server, rclone S3, a worker, the web app) in one command.

Anything given in the environment or in the repository's `.env` file (DATABASE_URL, REDIS_URL,
S3_ENDPOINT with its keys and bucket) is used instead of the embedded part; the environment wins over
`.env`, as it does for `flask`. Ctrl-C (or SIGTERM) stops everything; data stays under var/
(ONEWAY_VAR_DIR).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from dotenv import dotenv_values

from stack.services import (
    free_port,
    port_open,
    start_redis,
    start_s3,
    start_smtp,
    stop,
    wait_port,
    web_command,
)

ROOT = Path(__file__).resolve().parent.parent
DEV_S3_KEYS = ("oneway-local-access", "oneway-local-secret-key")


def _port(preferred: int) -> int:
    return preferred if not port_open(preferred) else free_port()


def environment(base: Mapping[str, str], dotenv_path: Path = ROOT / ".env") -> dict[str, str]:
    """The stack's environment: `base` (the real one) over the settings in `dotenv_path`, so a variable
    already set wins over the file, as `flask` does it. FLASK_SKIP_DOTENV=1 skips the file for both."""
    env = dict(base)
    if env.get("FLASK_SKIP_DOTENV", "").lower() in ("1", "true", "yes"):
        return env
    if dotenv_path.is_file():
        for key, value in dotenv_values(dotenv_path, encoding="utf-8").items():
            if value is not None:
                env.setdefault(key, value)
    return env


def _secret_key(var: Path) -> str:
    path = var / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _flask(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "flask", "--app", "app:create_app", *args],
                   env=env, cwd=ROOT, check=True)


def _stop_on_signal(signum, _frame) -> None:
    """SIGTERM (kill, systemd, a supervisor) and SIGHUP (the terminal closed) stop the stack as
    Ctrl-C does; left at their defaults they would end this process and orphan the others."""
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _mail(env: dict, var: Path, children: list, log) -> str:
    """The local SMTP server where no MAIL_SERVER is set: every e-mail Oneway sends is caught there,
    never sent on. Read it in the app (each candidate's Messages page) or as files in var/mail/new.
    Returns where mail goes, for the banner."""
    if "MAIL_SERVER" in env:
        return f"goes to {env['MAIL_SERVER']}:{env.get('MAIL_PORT', '25')}"
    port = _port(8025)
    children.append(start_smtp(port, var / "mail", log=log("smtp.log")))
    env["MAIL_SERVER"], env["MAIL_PORT"] = "127.0.0.1", str(port)
    return (f"is caught by a local SMTP server on 127.0.0.1:{port} and kept in {var / 'mail'}/new "
            "(list it: .venv/bin/python -m stack.smtp --list --maildir var/mail)")


def main() -> int:
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _stop_on_signal)
    env = environment(os.environ)
    var = Path(env.get("ONEWAY_VAR_DIR", ROOT / "var"))
    var.mkdir(parents=True, exist_ok=True)
    (var / "logs").mkdir(exist_ok=True)
    env.setdefault("ONEWAY_ENV", "development")
    env.setdefault("SECRET_KEY", _secret_key(var))
    env.setdefault("DATABASE_URL", f"sqlite:///{var / 'oneway.sqlite3'}")
    env.setdefault("MODEL_CACHE_DIR", str(var / "models"))
    env["PYTHONUNBUFFERED"] = "1"
    children: list[subprocess.Popen] = []
    logs = contextlib.ExitStack()  # each child's log file, open while the child runs

    def log(name: str):
        return logs.enter_context(open(var / "logs" / name, "ab"))

    web_port = int(env.get("PORT", "5000"))
    try:
        if "REDIS_URL" not in env:
            port = _port(6390)
            children.append(start_redis(port, var / "redis", persist=True, log=log("redis.log")))
            env["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
        if "S3_ENDPOINT" not in env:
            port = _port(9390)
            children.append(start_s3(port, var / "s3", *DEV_S3_KEYS, log=log("s3.log")))
            env["S3_ENDPOINT"] = f"http://127.0.0.1:{port}"
            env["S3_ACCESS_KEY"], env["S3_SECRET_KEY"] = DEV_S3_KEYS
        mail_note = _mail(env, var, children, log)
        env.setdefault("BASE_URL", f"http://127.0.0.1:{web_port}")
        _flask(env, "db", "upgrade")
        _flask(env, "ensure-bucket")
        _flask(env, "seed-demo")
        children.append(subprocess.Popen(
            # No queues named: the worker's default, app.queue.ONE_WORKER_QUEUES.
            [sys.executable, "-m", "flask", "--app", "app:create_app", "worker"],
            env=env, cwd=ROOT, stdout=log("worker.log"), stderr=subprocess.STDOUT))
        # The language model (AI assistance) in a worker of its own, so it never delays media.
        children.append(subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app:create_app", "worker", "ai"],
            env=env, cwd=ROOT, stdout=log("ai-worker.log"), stderr=subprocess.STDOUT))
        if port_open(web_port):
            raise RuntimeError(f"port {web_port} is in use; set PORT to another one")
        web = subprocess.Popen(web_command(web_port), env=env, cwd=ROOT)
        children.append(web)
        wait_port(web_port, web, timeout=60, what="web app")
        print(f"\nOneway is running at http://127.0.0.1:{web_port}/  (logs in {var / 'logs'})")
        print(f"Outgoing e-mail {mail_note}.")
        print("Press Ctrl-C to stop.\n", flush=True)
        while all(c.poll() is None for c in children):
            time.sleep(0.5)
        dead = next(c for c in children if c.poll() is not None)
        print(f"{dead.args[0]} stopped (exit {dead.returncode}); stopping the rest.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping…")
        return 0
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"Could not start Oneway: {exc}", file=sys.stderr)
        return 1
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        stop(*reversed(children))
        logs.close()


if __name__ == "__main__":
    sys.exit(main())
