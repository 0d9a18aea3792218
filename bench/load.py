"""Load benchmark (issue 22): many candidates at once, each recording a 60 s answer at the recorder's
pace of a piece a second (sent as the recorder sends them: pieces made while a chunk is on its way
go together as the next chunk), against `make run`'s parts (SQLite, redis-server, rclone S3, the SMTP
catcher, make run's one `flask worker` (mail, webhooks, asr, media), gunicorn as `make run` starts it) on free
ports. The load generator is lean: one thread per candidate on 127.0.0.1, sending what the
recorder sends (each chunk with its SHA-256, the last one carrying the finalize), then the finish
that the candidate's click on "Keep and finish the interview" sends, 2-6 s after the receipt.

Each codec runs on a fresh stack, so one codec's backlog never delays the other's figures: VP8
(Firefox's; re-encoded) and H.264 (Chromium's default; copied, not encoded). Everything lives in a
temporary folder removed at the end, every process is stopped, and the run stops by itself within
--limit-min minutes (30), with whatever was not ready by then reported as such.

Prints ONE JSON object on stdout; logs go to stderr. See bench/README.md.

    .venv/bin/python bench/load.py [--candidates 200] [--codecs vp8,h264] [--duration 60]
        [--resolution 640x480] [--model base] [--limit-min 30] [--one-piece-a-chunk] [--web 4x4]
        [--postgres ADMIN_URL] [--separate-finalize]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import json
import math
import os
import random
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["ONEWAY_ENV"] = "development"  # `make run`'s settings, read when the app is imported
os.environ["FLASK_SKIP_DOTENV"] = "1"

from bench._media import log, make_answer, process_cpu_s, tree_cpu_s  # noqa: E402
from stack.services import free_port, start_redis, start_s3, start_smtp, stop, wait_port, web_command  # noqa: E402
from tests.server import Browser  # noqa: E402

S3_KEYS = ("oneway-load-access", "oneway-load-secret-key")
SECRET = "load-bench-secret-not-for-production"
MAX_JOINED_BYTES = 8 * 1024 * 1024  # app/static/js/uploader.js
TARGETS = {"chunk_ack_p95_ms": 300, "upload_lag_p50_s": 2, "finalize_p95_ms": 1000, "lost": 0,
           "share_of_cpu_limit": 0.8}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--candidates", type=int, default=200, help="candidates recording at once")
    p.add_argument("--codecs", default="vp8,h264")
    p.add_argument("--duration", type=float, default=60.0, help="seconds of each answer")
    p.add_argument("--resolution", default="640x480")
    p.add_argument("--model", default="base", help="WHISPER_MODEL: base (make run's) or tiny.en")
    p.add_argument("--limit-min", type=float, default=30.0, help="the whole run stops within this")
    p.add_argument("--seed", type=int, default=22)
    p.add_argument("--postgres", metavar="ADMIN_URL", default=None,
                   help="a PostgreSQL server to hold the data instead of SQLite, as in production: a fresh "
                        "database per codec is made and dropped (e.g. postgresql+psycopg://postgres@127.0.0.1/test)")
    p.add_argument("--web", default="4x4", metavar="PROCESSESxTHREADS",
                   help="gunicorn's processes and threads: make run's 4x4, or the production image's 2x8")
    p.add_argument("--one-piece-a-chunk", action="store_true",
                   help="send each second's piece as its own chunk (the recorder before 2026-12-07)")
    p.add_argument("--media-workers", type=int, default=0,
                   help="workers that take only media jobs, beside make run's worker")
    p.add_argument("--gunicorn-args", default="", metavar="ARGS",
                   help="more gunicorn options for the web tier, e.g. \"--worker-connections 8\"")
    p.add_argument("--keep-alive", action="store_true",
                   help="each recorder sends its chunks on one connection kept open, as a browser does "
                        "(by default each request opens a connection of its own)")
    p.add_argument("--uploads-only", action="store_true",
                   help="no worker, and the run ends with the uploads: the web tier's figures alone")
    p.add_argument("--finish-after", type=_seconds_between, default="2,6", metavar="LO,HI",
                   help="seconds from an answer's receipt to the candidate's press of \"Keep and finish the "
                        "interview\": each candidate a time between LO and HI (a person reads the receipt, "
                        "then clicks); 0,0 sends the finish at once, as this bench did before 2026-12-07's "
                        "eighth session")
    p.add_argument("--separate-finalize", action="store_true",
                   help="finalize with a request of its own after the last chunk (the recorder before "
                        "2026-12-07's seventh session; a reloaded page still does)")
    return p.parse_args(argv)


def _seconds_between(text: str) -> tuple[float, float]:
    """--finish-after's LO and HI seconds, read when the arguments are (a clear error at once)."""
    lo, _, hi = text.partition(",")
    try:
        low, high = float(lo), float(hi or lo)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LO,HI seconds, e.g. 2,6: {text!r}") from None
    if not 0 <= low <= high:
        raise argparse.ArgumentTypeError(f"expected 0 <= LO <= HI: {text!r}")
    return low, high


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def _round(x: float | None, digits: int = 3) -> float | None:
    return None if x is None else round(x, digits)


class Stack:
    """One fresh stack in its own folder: servers, migrated database, worker, gunicorn."""

    def __init__(self, folder: Path, model: str, postgres: str | None = None, worker: bool = True,
                 web: tuple[int, int] = (4, 4), media_workers: int = 0, web_args: tuple[str, ...] = ()):
        self.folder, self.model, self.postgres, self.with_worker = folder, model, postgres, worker
        self.media_workers = media_workers  # more workers that take only `media` jobs
        self.workers: list[subprocess.Popen] = []
        self.web_shape = web  # gunicorn's processes and threads
        self.web_args = web_args  # more of gunicorn's options
        self.pg_name: str | None = None
        self.procs: list[subprocess.Popen] = []
        self.worker = self.web = None
        self.logs = contextlib.ExitStack()  # each server's log file, open while it runs

    def start(self) -> None:
        f = self.folder
        (f / "logs").mkdir(parents=True, exist_ok=True)
        redis_port, s3_port, smtp_port, web_port = free_port(), free_port(), free_port(), free_port()
        self.redis = start_redis(redis_port, f / "redis", persist=False)
        self.procs.append(self.redis)
        self.s3_log = f / "logs" / "s3.log"
        self.s3 = start_s3(s3_port, f / "s3", *S3_KEYS, log=self._log(self.s3_log))
        self.procs.append(self.s3)
        self.procs.append(start_smtp(smtp_port, f / "mail"))
        self.database = f"sqlite:///{f / 'oneway.sqlite3'}"
        if self.postgres:
            self.pg_name = f"oneway_load_{os.getpid()}_{f.name}"
            self._admin(f'CREATE DATABASE "{self.pg_name}"')
            self.database = self.postgres.rsplit("/", 1)[0] + f"/{self.pg_name}"
        self.env = {**os.environ, "ONEWAY_ENV": "development", "SECRET_KEY": SECRET,
                    "DATABASE_URL": self.database, "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
                    "S3_ENDPOINT": f"http://127.0.0.1:{s3_port}", "S3_ACCESS_KEY": S3_KEYS[0],
                    "S3_SECRET_KEY": S3_KEYS[1], "S3_BUCKET": "oneway-load", "MAIL_SERVER": "127.0.0.1",
                    "MAIL_PORT": str(smtp_port), "WHISPER_MODEL": self.model,
                    "MODEL_CACHE_DIR": str(f / "models"), "BASE_URL": f"http://127.0.0.1:{web_port}",
                    "PYTHONUNBUFFERED": "1", "PYANNOTE_METRICS_ENABLED": "false", "HF_HUB_OFFLINE": "1"}
        for args in (("db", "upgrade"), ("ensure-bucket",)):
            subprocess.run([sys.executable, "-m", "flask", "--app", "app:create_app", *args], env=self.env,
                           cwd=ROOT, check=True, capture_output=True, timeout=300)
        if self.with_worker:
            with open(f / "logs" / "worker.log", "ab") as out:
                self.worker = subprocess.Popen(
                    # make run's worker: no queues named, so the default order (app.queue.ONE_WORKER_QUEUES)
                    [sys.executable, "-m", "flask", "--app", "app:create_app", "worker"], env=self.env,
                    cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
            self.procs.append(self.worker)
            self.workers.append(self.worker)
            for n in range(self.media_workers):
                with open(f / "logs" / f"media-worker-{n}.log", "ab") as out:
                    self.workers.append(subprocess.Popen(
                        [sys.executable, "-m", "flask", "--app", "app:create_app", "worker", "media"],
                        env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT))
                self.procs.append(self.workers[-1])
        with open(f / "logs" / "web.log", "ab") as out:
            self.web = subprocess.Popen(web_command(web_port, "127.0.0.1", *self.web_shape, *self.web_args),
                                        env=self.env,
                                        cwd=ROOT, stdout=out,
                                        stderr=subprocess.STDOUT)
        self.procs.append(self.web)
        wait_port(web_port, self.web, timeout=120, what="gunicorn")
        self.base = f"http://127.0.0.1:{web_port}"
        from app import create_app

        self.app = create_app({"SQLALCHEMY_DATABASE_URI": self.database, "SECRET_KEY": SECRET,
                               **{k: self.env[k] for k in ("REDIS_URL", "S3_ENDPOINT", "S3_ACCESS_KEY",
                                                           "S3_SECRET_KEY", "S3_BUCKET")}})
        self.ctx = self.app.app_context()
        self.ctx.push()

    def _log(self, path: Path):
        return self.logs.enter_context(open(path, "ab"))

    def seed(self, candidates: int, duration: float) -> list[str]:
        """One interview of one question; `candidates` invited, each having given consent."""
        from tests.factories import make_candidate, make_interview, make_user

        user = make_user()
        interview = make_interview(user, questions=1, answer=max(120, int(duration * 2)), takes=1,
                                   language="en")
        return [make_candidate(interview, user)[1] for _ in range(candidates)]

    def answers(self) -> list[dict]:
        from app.extensions import db
        from app.models import Answer

        rows = db.session.execute(db.select(Answer.public_id, Answer.status, Answer.failure_reason,
                                            Answer.ready_at, Answer.original_key, Answer.original_size,
                                            Answer.original_sha256)).all()
        db.session.rollback()  # hold no read lock on SQLite between polls
        return [r._asdict() for r in rows]

    def stage_seconds(self) -> dict:
        """Each processing stage's median and total wall seconds over the answers (`make run`'s one
        worker runs one stage at a time, so the totals are where its time went)."""
        from app.extensions import db
        from app.models import AnswerStageRun

        rows = db.session.execute(db.select(AnswerStageRun.stage, AnswerStageRun.seconds)).all()
        db.session.rollback()
        by_stage: dict[str, list[float]] = {}
        for stage, seconds in rows:
            by_stage.setdefault(stage, []).append(seconds)
        return {stage: {"p50": _round(_pct(v, 0.5), 2), "total": round(sum(v), 1), "runs": len(v)}
                for stage, v in sorted(by_stage.items())}

    def worker_cpu_s(self) -> float:
        return sum(process_cpu_s(w.pid) or 0.0 for w in self.workers)

    def close(self) -> None:
        if getattr(self, "ctx", None) is not None:
            from app.extensions import db

            db.session.remove()
            db.engine.dispose()
            self.ctx.pop()
            self.ctx = None
        stop(*reversed(self.procs))
        self.logs.close()
        if self.pg_name:
            self._admin(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')

    def _admin(self, sql: str) -> None:
        import sqlalchemy as sa

        admin = sa.create_engine(self.postgres, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(sa.text(sql))
        finally:
            admin.dispose()


class KeptAlive:
    """The browser's chunk requests on one connection kept open, as a browser's page keeps its
    connection to the server between fetches (HTTP/1.1 keep-alive): the same headers and cookies as
    `browser`, a new connection only when the server closed the last one."""

    def __init__(self, browser: Browser):
        self.browser, self.conn = browser, None
        self.host = browser.base.split("://", 1)[1]

    def request(self, method: str, path: str, data: bytes, headers: dict) -> tuple[int, dict, bytes]:
        cookies = "; ".join(f"{c.name}={c.value}" for c in self.browser.jar)
        headers = {**headers, "Cookie": cookies, "Origin": self.browser.base}
        if self.browser.page:
            headers["Referer"] = self.browser.page
        for fresh in (False, True):
            if self.conn is None or fresh:
                if self.conn is not None:
                    self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, timeout=120)
            try:
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                body = resp.read()
            except (ConnectionError, http.client.HTTPException):
                if fresh:
                    raise
                continue  # the server closed the connection kept open: once more on a new one
            if resp.getheader("Connection", "").lower() == "close":
                self.conn.close()
                self.conn = None
            return resp.status, dict(resp.getheaders()), body
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def start_take(browser: Browser, token: str, content_type: str) -> tuple[str, dict]:
    """What the recording page does first: open it, read the question, start a take. Returns the
    take's answer URL and the take's JSON."""
    browser.open_page(f"/i/{token}/record")
    status, _h, body = browser.request("GET", f"/i/{token}/state")
    if status != 200:
        raise RuntimeError(f"state: {status}")
    question = json.loads(body)["questions"][0]["id"]
    status, _h, body = browser.send_json("POST", f"/i/{token}/questions/{question}/takes",
                                         {"content_type": content_type})
    if status != 201:
        raise RuntimeError(f"take: {status} {body[:200]!r}")
    take = json.loads(body)
    return f"/i/{token}/answers/{take['answer_id']}", take


class Recorder(threading.Thread):
    """One candidate's browser: the recording page, a take, a piece a second as the recorder makes
    them, sent in order, each request when the previous is acknowledged, the last chunk carrying
    the finalize, then, `finish_after` seconds after the receipt, the finish (a button the candidate
    presses). Like app/static/js/uploader.js, the pieces made while a request is
    on its way go together as the next chunk (up to its MAX_JOINED_BYTES); `one_piece_a_chunk`
    sends each piece on its own, and `separate_finalize` the finalize as a request of its own
    after the last chunk, as the uploader did before (for comparison)."""

    def __init__(self, base: str, token: str, pieces: list[bytes], content_type: str, start_at: float,
                 piece_s: float, deadline: float, one_piece_a_chunk: bool = False,
                 separate_finalize: bool = False, keep_alive: bool = False, finish_after: float = 0.0):
        super().__init__(daemon=True)
        self.base, self.token, self.pieces, self.content_type = base, token, pieces, content_type
        self.start_at, self.piece_s, self.deadline = start_at, piece_s, deadline
        self.one_piece_a_chunk, self.separate_finalize = one_piece_a_chunk, separate_finalize
        self.keep_alive, self.kept = keep_alive, None
        self.finish_after = finish_after  # the receipt read, then "Keep and finish the interview"
        self.acks_ms: list[float] = []
        self.ack_sent: list[float] = []  # when each acknowledged request was sent (monotonic)
        self.pieces_a_chunk: list[int] = []
        self.lag_s: float | None = None
        self.finalize_ms: float | None = None  # the request that carried the finalize
        self.finalized_at: float | None = None
        self.receipt_after_stop_s: float | None = None  # the recording's end to its receipt
        self.finalized_with_chunk = False
        self.receipt: dict | None = None
        self.error: str | None = None

    def run(self) -> None:
        try:
            self._record()
        except Exception as exc:  # reported in the figures ("errors"), never lost silently
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            if self.kept is not None:
                self.kept.close()

    def _record(self) -> None:
        browser = Browser(self.base)
        time.sleep(max(0.0, self.start_at - time.monotonic()))
        url, take = start_take(browser, self.token, self.content_type)
        if self.keep_alive:
            self.kept = KeptAlive(browser)
        self.max_joined = min(MAX_JOINED_BYTES, take.get("max_chunk_bytes") or MAX_JOINED_BYTES)
        began = time.monotonic()  # the recording starts; piece n exists from (n + 1) s on
        made = 0  # pieces sent so far
        whole = hashlib.sha256(b"".join(self.pieces)).hexdigest()
        duration_ms = int(len(self.pieces) * self.piece_s * 1000)
        stopped = began + len(self.pieces) * self.piece_s
        while made < len(self.pieces):
            time.sleep(max(0.0, began + (made + 1) * self.piece_s - time.monotonic()))
            ready = min(len(self.pieces), int((time.monotonic() - began) / self.piece_s))
            joined = self._joined(made, max(ready, made + 1))
            seq = len(self.acks_ms)
            closing = {}  # the last chunk (sent after the recording stopped) carries the finalize
            if made + joined == len(self.pieces) and not self.separate_finalize:
                closing = {"X-Recording-Chunks": str(seq + 1), "X-Recording-SHA256": whole,
                           "X-Recording-Duration-Ms": str(duration_ms)}
            answer = self._put(browser, url, seq, b"".join(self.pieces[made:made + joined]), closing)
            self.pieces_a_chunk.append(joined)
            made += joined
            if answer.get("finalized"):
                self.finalize_ms, self.finalized_at, self.receipt = self.acks_ms[-1], time.monotonic(), answer
                self.finalized_with_chunk = True
        done = time.monotonic()
        self.lag_s = done - stopped
        if self.receipt is None:  # sent on its own (--separate-finalize, or the take was not kept)
            sent = time.monotonic()
            status, _h, body = browser.send_json("POST", f"{url}/finalize", {
                "chunks": len(self.acks_ms), "sha256": whole, "duration_ms": duration_ms})
            self.finalized_at = time.monotonic()
            self.finalize_ms = (self.finalized_at - sent) * 1000
            if status != 200:
                raise RuntimeError(f"finalize: {status} {body[:200]!r}")
            self.receipt = json.loads(body)
        self.receipt_after_stop_s = self.finalized_at - stopped
        time.sleep(self.finish_after)
        status, _h, body = browser.send_json("POST", f"/i/{self.token}/finish", {})
        if status != 200:
            raise RuntimeError(f"finish: {status} {body[:200]!r}")

    def _joined(self, first: int, ready: int) -> int:
        """How many of the pieces ready from `first` on go in the next chunk."""
        if self.one_piece_a_chunk:
            return 1
        take, size = 1, len(self.pieces[first])
        while first + take < ready and size + len(self.pieces[first + take]) <= self.max_joined:
            size += len(self.pieces[first + take])
            take += 1
        return take

    def _put(self, browser: Browser, url: str, seq: int, chunk: bytes, extra: dict) -> dict:
        while True:
            if time.monotonic() > self.deadline:
                raise RuntimeError(f"chunk {seq} not acknowledged before the run's end")
            sent = time.monotonic()
            sender = self.kept or browser
            status, _h, body = sender.request("PUT", f"{url}/chunks/{seq}", chunk, {
                "Content-Type": "application/octet-stream", "X-CSRFToken": browser.token,
                "X-Chunk-SHA256": hashlib.sha256(chunk).hexdigest(), **extra})
            done = time.monotonic()
            if status == 200:
                self.acks_ms.append((done - sent) * 1000)
                self.ack_sent.append(sent)
                return json.loads(body)
            if 400 <= status < 500 and status not in (408, 429):
                raise RuntimeError(f"chunk {seq}: {status} {body[:200]!r}")
            time.sleep(0.5)  # the recorder retries a server error



def run_codec(args, codec: str, media: tuple[Path, str], folder: Path, deadline: float) -> dict:
    """One codec's phase on a fresh stack: the uploads, then processing until every answer is ready
    or failed, or the phase's deadline."""
    path, content_type = media
    data = path.read_bytes()
    n_pieces = max(1, round(args.duration))
    size = math.ceil(len(data) / n_pieces)
    pieces = [data[i:i + size] for i in range(0, len(data), size)]
    expected = (len(data), hashlib.sha256(data).hexdigest())
    processes, threads = (int(n) for n in args.web.lower().split("x"))
    stack = Stack(folder, args.model, args.postgres, worker=not args.uploads_only, web=(processes, threads),
                  media_workers=args.media_workers, web_args=tuple(shlex.split(args.gunicorn_args)))
    try:
        stack.start()
        tokens = stack.seed(args.candidates, args.duration)
        rng = random.Random(args.seed)
        clicks = random.Random(args.seed + 1)  # its own: the start times stay as they were
        lo, hi = args.finish_after
        # Recorders are not in step: each candidate starts within the same second.
        start = time.monotonic() + 2.0
        people = [Recorder(stack.base, t, pieces, content_type, start + rng.random(), 1.0, deadline,
                           args.one_piece_a_chunk, args.separate_finalize, args.keep_alive,
                           clicks.uniform(lo, hi)) for t in tokens]
        cpu0, wall0 = stack.worker_cpu_s(), time.monotonic()
        log(f"{codec}: {len(people)} candidates, {len(pieces)} pieces of {size} bytes each")
        spread, parts = _ConnectionSpread(stack), _PartsCpu(stack)
        for p in people:
            p.start()
        for p in people:
            p.join(max(1.0, deadline - time.monotonic()))
        spread.stop()
        uploads_cores = parts.cores()
        finals = sorted(p.finalized_at for p in people if p.finalized_at)
        log(f"{codec}: uploads done ({len(finals)} finalized); waiting for processing")
        rows = stack.answers() if args.uploads_only else _wait_ready(stack, len(finals), deadline)
        cpu_s = stack.worker_cpu_s() - cpu0
        wall = time.monotonic() - wall0
        s3_errors = [line for line in stack.s3_log.read_text(errors="replace").splitlines()
                     if "ERROR" in line]
        out = _figures(people, rows, finals, expected, stack, cpu_s, wall, s3_errors)
        out["stage_wall_s"] = stack.stage_seconds()
        out["web_connections"] = spread.figures()
        out["cores_during_uploads"] = uploads_cores
        out["web_tracebacks"] = _tracebacks(folder / "logs" / "web.log")
        return out
    finally:
        stack.close()


class _PartsCpu:
    """The cores each part of the stack used from now to cores(): the web tier (gunicorn, all its
    processes), the S3 server, Redis, the workers, and this load generator (the recorders)."""

    def __init__(self, stack: Stack):
        self.stack = stack
        self.began, self.start = time.monotonic(), self._cpu()

    def _cpu(self) -> dict[str, float]:
        s = self.stack
        return {"web": tree_cpu_s(s.web.pid), "s3": process_cpu_s(s.s3.pid) or 0.0,
                "redis": process_cpu_s(s.redis.pid) or 0.0, "workers": s.worker_cpu_s(),
                "recorders": process_cpu_s(os.getpid()) or 0.0}

    def cores(self) -> dict[str, float]:
        wall, now = time.monotonic() - self.began, self._cpu()
        out = {part: round((now[part] - self.start[part]) / wall, 2) for part in now}
        out["all"] = round(sum(out.values()), 2)
        return out


class _ConnectionSpread(threading.Thread):
    """How the recorders' connections spread over gunicorn's processes while they upload: `ss`,
    every 2 s, counts each process's established connections to the web port. A process holding
    most of them makes its requests wait while another idles."""

    def __init__(self, stack: Stack):
        super().__init__(daemon=True)
        self.port, self.samples, self.done = stack.base.rsplit(":", 1)[1], [], threading.Event()
        if shutil.which("ss"):
            self.start()

    def run(self) -> None:
        while not self.done.wait(2.0):
            out = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{self.port} )"],
                                 capture_output=True, text=True, timeout=10).stdout
            counts: dict[str, int] = {}
            for pid in re.findall(r"pid=(\d+)", out):
                counts[pid] = counts.get(pid, 0) + 1
            if sum(counts.values()) >= 10:
                self.samples.append(sorted(counts.values(), reverse=True))

    def stop(self) -> None:
        self.done.set()
        if self.is_alive():
            self.join(15)

    def figures(self) -> dict | None:
        """The busiest process's share of the connections (median and largest over the samples),
        and the samples themselves (most first)."""
        if not self.samples:
            return None
        shares = [s[0] / sum(s) for s in self.samples]
        return {"busiest_share_p50": _round(_pct(shares, 0.5)), "busiest_share_max": _round(max(shares)),
                "samples": self.samples[:40]}


def _tracebacks(path: Path, most: int = 3) -> dict:
    """How many tracebacks the web app logged, and the first few (the folder is removed at the
    end, so a 500 seen by a candidate must be explained here)."""
    blocks, current = [], None
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("Traceback (most recent call last)"):
            current = [line]
            blocks.append(current)
        elif current is not None:
            current.append(line)
            if not line.startswith((" ", "\t")):  # the exception's own line ends the block
                current = None
    # Whole, up to 60 lines: the app's frames (which request, which call) are what explains one.
    return {"count": len(blocks), "first": ["\n".join(b[-60:]) for b in blocks[:most]]}


def _wait_ready(stack: Stack, expected: int, deadline: float) -> list[dict]:
    while True:
        rows = stack.answers()
        settled = [r for r in rows if r["status"] in ("ready", "failed")]
        if len(settled) >= expected or time.monotonic() > deadline or stack.worker.poll() is not None:
            return rows
        time.sleep(2)


def _slow_acks(people, over_ms: float = 1000.0) -> dict:
    """When the acknowledgements slower than `over_ms` were sent, in seconds from the first
    request: whether they come together (the whole web tier stalled for a moment) or one here and
    there (a request waiting behind others on its process)."""
    sent = [(t, ms) for p in people for t, ms in zip(p.ack_sent, p.acks_ms, strict=True)]
    if not sent:
        return {}
    first = min(t for t, _ms in sent)
    slow = sorted((round(t - first, 1), round(ms)) for t, ms in sent if ms > over_ms)
    seconds = sorted({int(t) for t, _ms in slow})
    return {"over_ms": over_ms, "count": len(slow), "share": _round(len(slow) / len(sent), 4),
            "seconds_with_any": len(seconds), "seconds": seconds[:60],
            "slowest": sorted(slow, key=lambda x: -x[1])[:10]}


def _figures(people, rows, finals, expected, stack, cpu_s, wall, s3_errors) -> dict:
    from app.storage import current_storage

    acks = [ms for p in people for ms in p.acks_ms]
    joined = [n for p in people for n in p.pieces_a_chunk]
    lags = [p.lag_s for p in people if p.lag_s is not None]
    finalize = [p.finalize_ms for p in people if p.finalize_ms is not None]
    receipts = [p.receipt_after_stop_s for p in people if p.receipt_after_stop_s is not None]
    ready = [r for r in rows if r["status"] == "ready"]
    by_id = {r["public_id"]: r for r in rows}
    store = current_storage()
    lost = 0
    for p in people:
        row = by_id.get((p.receipt or {}).get("answer_id"))
        kept = (row is not None and p.receipt and (p.receipt["bytes"], p.receipt["sha256"]) == expected
                and (row["original_size"], row["original_sha256"]) == expected and row["status"] != "failed")
        if kept and row["original_key"]:
            kept = store.size(row["original_key"]) == expected[0]  # the joined original, checked by its job
        lost += not kept
    first_final = finals[0] if finals else None
    # ready_at is the database's wall clock; the figures are on this process's monotonic clock.
    offset = time.time() - time.monotonic()
    ready_times = sorted(r["ready_at"].timestamp() - offset for r in ready if r["ready_at"])
    span = (ready_times[-1] - first_final) if ready_times and first_final else None
    per_answer = cpu_s / len(ready) if ready else None
    cores = os.cpu_count() or 1
    cpu_limit = cores * 60 / per_answer if per_answer else None
    per_min = len(ready) / span * 60 if span else None
    out = {
        "candidates": len(people),
        "chunk_ack_p50_ms": _round(_pct(acks, 0.5), 1), "chunk_ack_p95_ms": _round(_pct(acks, 0.95), 1),
        "chunk_ack_max_ms": _round(max(acks) if acks else None, 1),
        "slow_acks": _slow_acks(people),
        # A request carries the pieces (a second each) made while the one before was on its way.
        "chunks_sent": len(joined), "pieces_a_chunk_max": max(joined) if joined else None,
        "pieces_a_chunk_mean": _round(sum(joined) / len(joined) if joined else None, 2),
        "upload_lag_p50_s": _round(_pct(lags, 0.5)), "upload_lag_p95_s": _round(_pct(lags, 0.95)),
        # The request that carried the finalize: the last chunk's, or a finalize of its own.
        "finalize_p50_ms": _round(_pct(finalize, 0.5), 1), "finalize_p95_ms": _round(_pct(finalize, 0.95), 1),
        "finalized_with_last_chunk": sum(p.finalized_with_chunk for p in people),
        # What a candidate waits for after Stop: the recording's end to the receipt on the page.
        "receipt_after_stop_p50_s": _round(_pct(receipts, 0.5)),
        "receipt_after_stop_p95_s": _round(_pct(receipts, 0.95)),
        "lost": lost, "errors": [p.error for p in people if p.error][:5],
        "ready": len(ready), "failed": sum(r["status"] == "failed" for r in rows),
        "answers_per_min": _round(per_min, 2),
        "cpu_s_per_answer": _round(per_answer, 1), "cores": cores,
        "cpu_limit_answers_per_min": _round(cpu_limit, 2),
        "share_of_cpu_limit": _round(per_min / cpu_limit if per_min and cpu_limit else None, 3),
        "first_ready_after_first_finalize_s": _round(ready_times[0] - first_final, 1)
        if ready_times and first_final else None,
        "all_ready_s": _round(span, 1) if len(ready) == len(people) else None,
        "worker_cpu_s": round(cpu_s, 1), "phase_wall_s": round(wall, 1),
        "s3_log_errors": len(s3_errors), "s3_log_error_sample": s3_errors[:2],
    }
    log(json.dumps(out))
    return out


def main(argv=None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    deadline = started + args.limit_min * 60 - 60  # a minute kept for stopping and cleaning up
    tmp = Path(tempfile.mkdtemp(prefix="oneway-load-"))

    def _stop(signum, _frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, _stop)
    # Whatever hangs, the run ends (and cleans up) by the limit.
    signal.signal(signal.SIGALRM, _stop)
    signal.alarm(max(1, int(args.limit_min * 60 - 30)))
    codecs = [c for c in args.codecs.split(",") if c]
    result: dict = {"candidates": args.candidates, "duration_s": args.duration, "resolution": args.resolution,
                    "model": args.model, "one_piece_a_chunk": args.one_piece_a_chunk,
                    "separate_finalize": args.separate_finalize, "media_workers": args.media_workers,
                    "gunicorn_args": args.gunicorn_args, "uploads_only": args.uploads_only,
                    "keep_alive": args.keep_alive, "finish_after_s": args.finish_after,
                    "database": "postgresql" if args.postgres else "sqlite", "web": args.web,
                    "load_average_before": os.getloadavg(), "targets": TARGETS}
    try:
        media = {c: make_answer(tmp / "media", args.duration, args.resolution, c) for c in codecs}
        for i, codec in enumerate(codecs):
            # Each codec gets an equal share of the time left.
            share = (deadline - time.monotonic()) / (len(codecs) - i)
            result[codec] = run_codec(args, codec, media[codec], tmp / codec, time.monotonic() + share)
    except KeyboardInterrupt as exc:
        result["stopped"] = str(exc)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result["load_average_after"] = os.getloadavg()
    result["wall_s"] = round(time.monotonic() - started, 1)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
