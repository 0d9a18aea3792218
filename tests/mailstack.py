"""Oneway as `make run` runs it, for the e-mail tests and bench/outreach.py: gunicorn, real worker
processes, redis-server and the local SMTP server (stack/smtp.py), on a fresh SQLite database, with
a signed-in owner and an interview. Workers can be killed (SIGKILL) and the SMTP server stopped and
started again on its port."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

from stack.services import free_port, start_redis, start_smtp, stop
from tests.server import Browser, gunicorn

ROOT = Path(__file__).resolve().parent.parent
EMAIL, PASSWORD = "owner@example.com", "a-long-password-1"


class MailStack:
    """The running stack: its web address, signed-in browser, interview, workers and SMTP server."""

    def __init__(self, folder: Path, env: dict):
        self.folder, self.env = folder, env
        self.maildir = folder / "mail"
        self.smtp_port = int(env["MAIL_PORT"])
        self.smtp: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        self.browser: Browser | None = None
        self.interview = ""

    def start_smtp(self, hold_rcpt: float = 0.0) -> None:
        with open(self.folder / "smtp.log", "ab") as log:  # the child keeps its own copy of the file
            self.smtp = start_smtp(self.smtp_port, self.maildir, log=log, hold_rcpt=hold_rcpt)

    def stop_smtp(self) -> None:
        stop(self.smtp)
        self.smtp = None

    def start_worker(self) -> subprocess.Popen:
        with open(self.folder / f"worker-{len(self.workers)}.log", "ab") as log:
            proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app:create_app", "worker",
                                     "mail"], env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        self.workers.append(proc)
        return proc

    def kill_worker(self, proc: subprocess.Popen) -> None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

    def received(self) -> Counter:
        """Message-IDs the SMTP server kept, with how many times each arrived."""
        new = self.maildir / "new"
        found = Counter()
        for path in new.glob("*") if new.is_dir() else ():
            head = path.read_bytes().split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
            match = re.search(rb"^Message-ID:\s*(\S+)", head, re.M | re.I)
            if match:
                found[match.group(1).decode()] += 1
        return found

    def wait_for(self, count: int, timeout: float) -> float | None:
        """Seconds until `count` distinct messages arrived, or None when `timeout` passed first."""
        began = time.monotonic()
        while time.monotonic() - began < timeout:
            if len(self.received()) >= count:
                return time.monotonic() - began
            time.sleep(0.1)
        return None

    def invite_list(self, n: int, domain: str = "example.com") -> tuple[int, float]:
        """Post a list of n candidates to the bulk invite; (HTTP status, milliseconds it took)."""
        text = "".join(f"Candidate {i}, c{i}@{domain}\n" for i in range(n))
        self.browser.open_page(f"/interviews/{self.interview}/outreach")
        began = time.perf_counter()
        status, _headers, _body = self.browser.post_form(f"/interviews/{self.interview}/bulk/create",
                                                         {"text": text})
        return status, (time.perf_counter() - began) * 1000


def stack_env(folder: Path, redis_port: int, smtp_port: int, **extra) -> dict:
    env = dict(os.environ)
    env.update(ONEWAY_ENV="development", FLASK_SKIP_DOTENV="1", SECRET_KEY="mailstack-secret",
               DATABASE_URL=f"sqlite:///{folder / 'oneway.sqlite3'}",
               REDIS_URL=f"redis://127.0.0.1:{redis_port}/0", MAIL_SERVER="127.0.0.1",
               MAIL_PORT=str(smtp_port),
               # Quick retries and recovery, so that the tests wait seconds, not minutes.
               MAIL_RETRY_SECONDS="1", MAIL_STALE_SECONDS="5", MAIL_MAX_ATTEMPTS="1000",
               OUTREACH_TICK_SECONDS="1", PASSWORD_HASH_METHOD="pbkdf2:sha256:1",
               SESSION_COOKIE_SECURE="false", PYTHONUNBUFFERED="1", S3_ENDPOINT="http://127.0.0.1:9")
    env.update({k: str(v) for k, v in extra.items()})
    return env


def _flask(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "flask", "--app", "app:create_app", *args], env=env, cwd=ROOT,
                   check=True, capture_output=True, timeout=120)


@contextmanager
def mail_stack(folder: Path, web_workers: int = 1, **extra):
    """The stack, set up and signed in; no mail worker yet (start_worker), SMTP running."""
    folder.mkdir(parents=True, exist_ok=True)
    redis_port, smtp_port = free_port(), free_port()
    redis = start_redis(redis_port, folder / "redis", persist=False)
    env = stack_env(folder, redis_port, smtp_port, **extra)
    s = MailStack(folder, env)
    try:
        s.start_smtp()
        _flask(env, "db", "upgrade")
        _flask(env, "create-user", EMAIL, "--name", "Owner", "--organisation", "Bench Org",
               "--password", PASSWORD)
        with gunicorn(env, folder / "web.log", workers=web_workers) as server:
            env["BASE_URL"] = server.base
            s.browser = Browser(server.base)
            s.browser.login(EMAIL, PASSWORD)
            s.browser.open_page("/interviews/new")
            status, headers, _ = s.browser.post_form("/interviews/new", {
                "title": "Campus intake", "prompt": "Tell us about a project.", "think_seconds": "10",
                "answer_seconds": "60", "max_takes": "2", "kind": "video"})
            assert status == 302, status
            s.interview = headers["Location"].rstrip("/").rsplit("/", 1)[-1]
            yield s
    finally:
        for proc in s.workers:
            if proc.poll() is None:
                proc.terminate()
        for proc in s.workers:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        stop(s.smtp, redis)
