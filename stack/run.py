"""`make run`: the embedded stack (SQLite, redis-server, rclone S3, a worker, the web app) in one command.

Anything given in the environment (DATABASE_URL, REDIS_URL, S3_ENDPOINT with its keys and bucket)
is used instead of the embedded part. Ctrl-C (or SIGTERM) stops everything; data stays under
var/ (ONEWAY_VAR_DIR).
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from stack.services import free_port, port_open, start_redis, start_s3, stop, wait_port, web_command

ROOT = Path(__file__).resolve().parent.parent
VAR = Path(os.environ.get("ONEWAY_VAR_DIR", ROOT / "var"))
DEV_S3_KEYS = ("oneway-local-access", "oneway-local-secret-key")


def _port(preferred: int) -> int:
    return preferred if not port_open(preferred) else free_port()


def _secret_key() -> str:
    path = VAR / "secret_key"
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


def main() -> int:
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _stop_on_signal)
    VAR.mkdir(parents=True, exist_ok=True)
    (VAR / "logs").mkdir(exist_ok=True)
    env = dict(os.environ)
    env.setdefault("ONEWAY_ENV", "development")
    env.setdefault("SECRET_KEY", _secret_key())
    env.setdefault("DATABASE_URL", f"sqlite:///{VAR / 'oneway.sqlite3'}")
    env.setdefault("MODEL_CACHE_DIR", str(VAR / "models"))
    env["PYTHONUNBUFFERED"] = "1"
    children: list[subprocess.Popen] = []
    web_port = int(env.get("PORT", "5000"))
    try:
        if "REDIS_URL" not in os.environ:
            port = _port(6390)
            log = open(VAR / "logs" / "redis.log", "ab")
            children.append(start_redis(port, VAR / "redis", persist=True, log=log))
            env["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
        if "S3_ENDPOINT" not in os.environ:
            port = _port(9390)
            log = open(VAR / "logs" / "s3.log", "ab")
            children.append(start_s3(port, VAR / "s3", *DEV_S3_KEYS, log=log))
            env["S3_ENDPOINT"] = f"http://127.0.0.1:{port}"
            env["S3_ACCESS_KEY"], env["S3_SECRET_KEY"] = DEV_S3_KEYS
        _flask(env, "db", "upgrade")
        _flask(env, "ensure-bucket")
        _flask(env, "seed-demo")
        worker_log = open(VAR / "logs" / "worker.log", "ab")
        children.append(subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app:create_app", "worker", "media", "asr"],
            env=env, cwd=ROOT, stdout=worker_log, stderr=subprocess.STDOUT))
        if port_open(web_port):
            raise RuntimeError(f"port {web_port} is in use; set PORT to another one")
        web = subprocess.Popen(web_command(web_port), env=env, cwd=ROOT)
        children.append(web)
        wait_port(web_port, web, timeout=60, what="web app")
        print(f"\nOneway is running at http://127.0.0.1:{web_port}/  (logs in {VAR / 'logs'})")
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


if __name__ == "__main__":
    sys.exit(main())
