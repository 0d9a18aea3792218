"""`make run`'s embedded stack (stack/run.py) starts whole, answers, and stops whole: SIGTERM, as
a supervisor sends, leaves no redis-server, rclone, SMTP server, worker or gunicorn behind."""

from __future__ import annotations

import json
import os
import re
import signal
import smtplib
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from stack.services import free_port
from tests.conftest import ROOT

pytestmark = pytest.mark.processes


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        state = next(ln for ln in Path(f"/proc/{pid}/status").read_text().splitlines()
                     if ln.startswith("State:"))
    except (OSError, StopIteration):
        return False
    return "zombie" not in state


def _descendants(root: int) -> set[int]:
    """Every live process below `root` (redis-server renames itself, so names will not do)."""
    parents = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                stat = (proc / "stat").read_text()
            except OSError:
                continue
            parents[int(proc.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        kids = [p for p, pp in parents.items() if pp == pid and p not in found]
        found.update(kids)
        todo.extend(kids)
    return {p for p in found if _alive(p)}


def test_the_embedded_stack_starts_answers_and_stops_whole_on_sigterm(tmp_path):
    var = tmp_path / "var"
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "S3_ENDPOINT", "PORT", "MAIL_SERVER", "MAIL_PORT")}
    env.update(ONEWAY_VAR_DIR=str(var), PORT=str(port), WHISPER_MODEL="tiny.en",
               MODEL_CACHE_DIR=str(tmp_path / "models"), PYTHONUNBUFFERED="1")
    with open(tmp_path / "run.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "stack.run"], cwd=ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT)
        children: set[int] = set()
        try:
            deadline, health = time.monotonic() + 120, None
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz/ready", timeout=5) as r:
                        health = json.load(r)
                    if health["checks"]["workers"]["ok"]:
                        break
                except (OSError, ValueError):
                    pass
                time.sleep(1)
            output = (tmp_path / "run.log").read_text(errors="replace")
            assert health and health["status"] == "ok", output[-3000:]
            assert f"Oneway is running at http://127.0.0.1:{port}/" in output
            assert "Demo login: demo@oneway.local / demo-password" in output
            # The local SMTP server keeps what it is given under var/mail, as the banner says.
            smtp = re.search(r"caught by a local SMTP server on 127\.0\.0\.1:(\d+) and kept in (\S+)/new",
                             output)
            assert smtp and smtp.group(2) == str(var / "mail"), output[-3000:]
            with smtplib.SMTP("127.0.0.1", int(smtp.group(1)), timeout=10) as client:
                client.sendmail("a@example.com", ["b@example.com"], b"Subject: caught\r\n\r\nhello")
            assert [p.read_bytes().count(b"Subject: caught") for p in (var / "mail" / "new").iterdir()] == [1]
            children = _descendants(proc.pid)
            # redis-server, rclone, the SMTP server, the worker, gunicorn and its two workers at least
            assert len(children) >= 7, children
            # The workers yield the CPU to the web app (WORKER_NICE): uploads first under load.
            nice = {_cmdline(p): os.getpriority(os.PRIO_PROCESS, p) for p in children if _alive(p)}
            workers = {c: n for c, n in nice.items() if c.endswith(("worker", "worker ai"))}
            web = {c: n for c, n in nice.items() if "gunicorn" in c}
            assert len(workers) == 2 and set(workers.values()) == {10}, nice
            assert web and set(web.values()) == {0}, nice

            proc.send_signal(signal.SIGTERM)
            assert proc.wait(60) == 0
            left, deadline = None, time.monotonic() + 20
            while time.monotonic() < deadline:
                left = {p for p in children if _alive(p)}
                if not left:
                    break
                time.sleep(0.5)
            assert not left, f"left running after SIGTERM: {left}"
        finally:
            if proc.poll() is None:
                proc.kill()
            for pid in _descendants(proc.pid) | {p for p in children if _alive(p)}:
                os.kill(pid, signal.SIGKILL)
