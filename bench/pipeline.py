"""End-to-end processing benchmark: browser-like answers through the real upload API and worker.

Starts a private redis-server and `rclone serve s3`, a migrated SQLite database and a real
`flask worker media asr` process; uploads each answer in ~1-second chunks with Flask's test
client, then times how long after the last chunk the answer is ready, and compares our stages
with the bare tools (the same ffmpeg command, WhisperX's own transcribe) on the same input.
Prints ONE JSON object on stdout; logs go to stderr. See bench/README.md.

    .venv/bin/python bench/pipeline.py [--durations 30,60,180] [--resolutions 640x480,1280x720]
        [--codecs h264,vp8] [--model base|tiny.en] [--answers-for-memory 100]
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["ONEWAY_ENV"] = "testing"  # read when the app is imported

from bench._media import (  # noqa: E402
    BareWhisperX,
    OtherCpu,
    RssSampler,
    bare_ffmpeg,
    log,
    make_answer,
    process_cpu_s,
    rss_mb,
    spoken_text,
    word_error_rate,
)
from stack.services import free_port, start_redis, start_s3, stop  # noqa: E402

S3_KEYS = ("oneway-bench-access", "oneway-bench-secret-key")
SECRET = "bench-secret-not-for-production"
ANSWER_TIMEOUT_S = 15 * 60
QUIET_CORES = 0.1  # other processes' average use of the cores below which a phase is "quiet"
TARGETS = {"ready_60s_within_s": 20, "ratio_vs_bare_max": 1.1}
DEFAULT_EXTRA = [(60.0, "1280x720", "vp8"), (180.0, "1280x720", "vp8")]  # when --codecs is not given


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--durations", default="30,60,180", help="answer lengths in seconds")
    p.add_argument("--resolutions", default="640x480,1280x720")
    p.add_argument("--codecs", default=None,
                   help="h264,vp8: every duration x resolution for each (default: h264, plus "
                        "one vp8 case at 60 s 1280x720)")
    p.add_argument("--model", default="base", help="WHISPER_MODEL: base or tiny.en")
    p.add_argument("--answers-for-memory", type=int, default=100,
                   help="short answers pushed through the worker after the cases")
    p.add_argument("--memory-answer-s", type=float, default=5.0)
    p.add_argument("--answer-timeout", type=float, default=ANSWER_TIMEOUT_S)
    p.add_argument("--repeats", type=int, default=1,
                   help="run every case this many times, in rounds (wall times on a shared "
                        "machine drift; the summary gives each case's median)")
    p.add_argument("--no-pace", action="store_true",
                   help="upload chunks as fast as possible instead of one per second of recording")
    a = p.parse_args(argv)
    durations = [float(x) for x in a.durations.split(",") if x]
    resolutions = [x for x in a.resolutions.split(",") if x]
    codecs = [x for x in (a.codecs or "h264").split(",") if x]
    a.cases = list(itertools.product(durations, resolutions, codecs))
    if a.codecs is None:
        a.cases += [c for c in DEFAULT_EXTRA if c not in a.cases]
    return a


class Bench:
    """The servers, the app (in this process, for uploads and polling) and the worker process."""

    def __init__(self, tmp: Path, model: str, pace: float = 1.0, settings: dict | None = None):
        self.tmp, self.model, self.pace = tmp, model, pace
        self.extra = dict(settings or {})  # more settings (strings) for the app and the worker
        self.procs: list[subprocess.Popen] = []
        self.worker = self.sampler = self.bare = None
        self.idle_cpu_per_s = 0.0
        self.worker_log = tmp / "worker.log"

    def start(self) -> None:
        redis_port, s3_port = free_port(), free_port()
        self.procs.append(start_redis(redis_port, self.tmp / "redis", persist=False))
        self.procs.append(start_s3(s3_port, self.tmp / "s3", *S3_KEYS))
        self.settings = {
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "S3_ENDPOINT": f"http://127.0.0.1:{s3_port}",
            "S3_ACCESS_KEY": S3_KEYS[0], "S3_SECRET_KEY": S3_KEYS[1], "S3_BUCKET": "oneway-bench",
            "WHISPER_MODEL": self.model, "MODEL_CACHE_DIR": str(self.tmp / "models"),
            **self.extra,
        }
        database_url = f"sqlite:///{self.tmp / 'bench.sqlite3'}"
        from app import create_app

        self.app = create_app({
            **self.settings, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": SECRET,
            "TESTING": True, "WTF_CSRF_ENABLED": True, "SERVER_NAME": None,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1", "SESSION_COOKIE_SECURE": False,
            "REMEMBER_COOKIE_SECURE": False})
        self.ctx = self.app.app_context()
        self.ctx.push()
        from flask_migrate import upgrade

        from app.storage import current_storage

        upgrade(directory=str(ROOT / "migrations"))
        current_storage().ensure_bucket()
        self.env = {**os.environ, **{k: str(v) for k, v in self.settings.items()},
                    "DATABASE_URL": database_url, "SECRET_KEY": SECRET, "ONEWAY_ENV": "testing",
                    "PYTHONUNBUFFERED": "1", "PYANNOTE_METRICS_ENABLED": "false", "HF_HUB_OFFLINE": "1"}
        from app.media.speech_models import resolve_model

        # Resolve (for "base": join) the model once, before the worker needs it.
        self.model_dir = resolve_model(self.model, self.settings["MODEL_CACHE_DIR"])
        self.threads = self.app.config["WHISPER_THREADS"] or os.cpu_count() or 2
        with open(self.worker_log, "wb") as out:
            self.worker = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "app:create_app", "worker", "media", "asr"],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        self.sampler = RssSampler(self.worker.pid)
        log(f"worker pid {self.worker.pid}, log {self.worker_log}")
        from tests.factories import make_interview, make_user
        from tests.helpers import CsrfClient

        self.user = make_user()
        self.interview = make_interview(self.user, questions=1, answer=1800, takes=1,
                                        language="en")
        self.client = CsrfClient(self.app.test_client())

    def pids(self) -> list[int]:
        """The benchmark's own processes besides this one: worker, redis, S3, bare WhisperX."""
        return [self.worker.pid, *(p.pid for p in self.procs), *([self.bare.pid] if self.bare else [])]

    def measure_idle_cpu(self, seconds: float = 10.0) -> float:
        """CPU seconds per second the worker spends with nothing to do."""
        time.sleep(2)  # let the warm-up's last writes settle
        before = process_cpu_s(self.worker.pid)
        time.sleep(seconds)
        self.idle_cpu_per_s = round((process_cpu_s(self.worker.pid) - before) / seconds, 4)
        return self.idle_cpu_per_s

    def close(self) -> None:
        for fn in (lambda: self.bare and self.bare.close(), lambda: self.sampler and self.sampler.stop(),
                   lambda: stop(self.worker, *self.procs), self._drop_app, self._keep_log):
            try:
                fn()
            except Exception:  # cleanup goes on whatever one step hits
                log("cleanup step failed:\n" + traceback.format_exc())

    def _keep_log(self) -> None:
        """The worker's log outlives the run's temporary folder, for a look at what it did."""
        if self.worker_log.exists():
            kept = Path(tempfile.gettempdir()) / "oneway-bench-worker.log"
            shutil.copyfile(self.worker_log, kept)
            log(f"worker log kept in {kept}")

    def _drop_app(self) -> None:
        if getattr(self, "ctx", None) is not None:
            from app.extensions import db

            db.session.remove()
            db.engine.dispose()
            self.ctx.pop()

    def worker_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.worker_log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def upload(self, path: Path, content_type: str, duration: float) -> tuple[str, float]:
        """What the recorder does: a take, ~1-second chunks in order, finalize with the SHA-256.
        Returns the answer id and the wall-clock time the last chunk was stored."""
        import hashlib

        from tests.factories import make_candidate
        from tests.helpers import split

        candidate, token = make_candidate(self.interview, self.user)
        question_id = candidate.interview.questions[0].public_id
        self.client.refresh(f"/i/{token}")
        data = path.read_bytes()
        chunk = max(1, math.ceil(len(data) / max(1, round(duration))))
        r = self.client.post(f"/i/{token}/questions/{question_id}/takes",
                             json={"content_type": content_type})
        if r.status_code != 201:
            raise RuntimeError(f"start take: {r.status_code} {r.get_data(as_text=True)[:300]}")
        answer_id = r.get_json()["answer_id"]
        parts = split(data, chunk)
        began = time.monotonic()
        for seq, part in enumerate(parts):
            # Paced as the recorder sends them: one chunk a second of recording, so work that
            # starts early (transcribing what has arrived) gets the time it has in real life.
            wait = began + seq * self.pace - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            r = self.client.put(f"/i/{token}/answers/{answer_id}/chunks/{seq}", data=part)
            if r.status_code != 200:
                raise RuntimeError(f"chunk {seq}: {r.status_code} {r.get_data(as_text=True)[:300]}")
        # The clock starts when the last chunk is stored: joining the chunks at finalize is part
        # of the wait a grader sees.
        last_chunk = time.time()
        r = self.client.post(f"/i/{token}/answers/{answer_id}/finalize",
                             json={"chunks": len(parts), "sha256": hashlib.sha256(data).hexdigest(),
                                   "duration_ms": int(duration * 1000)})
        self.finalize_s = round(time.time() - last_chunk, 3)
        if r.status_code != 200:
            raise RuntimeError(f"finalize: {r.status_code} {r.get_data(as_text=True)[:300]}")
        return answer_id, last_chunk

    def wait(self, answer_id: str, timeout: float) -> dict:
        """Poll the database until the answer is ready or failed (or the timeout passes)."""
        from app.extensions import db
        from app.models import Answer
        from app.states import AnswerStatus

        deadline = time.monotonic() + timeout
        while True:
            db.session.expire_all()
            a = db.session.execute(db.select(Answer).filter_by(public_id=answer_id)).scalar_one()
            row = {"status": a.status, "failure_reason": a.failure_reason, "ready_at": a.ready_at,
                   "stage_seconds": dict(a.stage_seconds or {}), "duration_s": a.duration_s}
            row["text"] = (a.transcript or {}).get("text", "")
            early = (a.transcript or {}).get("early_seconds")
            if early:  # work done while recording counts too, though nobody waited for it
                row["stage_seconds"]["transcribe_early"] = early
            db.session.rollback()  # hold no read lock on SQLite between polls
            if row["status"] in (AnswerStatus.READY, AnswerStatus.FAILED):
                return row
            if self.worker.poll() is not None:
                raise RuntimeError(f"the worker exited with code {self.worker.returncode}:\n"
                                   + self.worker_tail())
            if time.monotonic() > deadline:
                row["failure_reason"] = f"not ready or failed within {timeout:.0f} s " \
                                        f"(last status {row['status']!r})"
                row["status"] = "timeout"
                return row
            time.sleep(0.1)

    def process(self, path: Path, content_type: str, duration: float, timeout: float) -> dict:
        self.sampler.reset()
        others = OtherCpu(*self.pids())
        cpu, began = process_cpu_s(self.worker.pid), time.monotonic()
        answer_id, last_chunk = self.upload(path, content_type, duration)
        row = self.wait(answer_id, timeout)
        row["other_cpu"] = others.stop()
        # The worker's CPU over the answer (early passes, stages, their ffmpeg children), less
        # what it spends idle (polling Redis) in as long: unlike wall time, other processes on
        # the machine hardly change it.
        spent = process_cpu_s(self.worker.pid) - cpu
        row["worker_cpu_s"] = round(spent - self.idle_cpu_per_s * (time.monotonic() - began), 3)
        row["answer_id"], row["last_chunk"], row["finalize_s"] = answer_id, last_chunk, self.finalize_s
        row["peak_rss_mb"] = self.sampler.peak_mb()
        return row


def run_case(bench: Bench, media_dir: Path, duration: float, resolution: str, codec: str,
             timeout: float) -> dict:
    log(f"case {duration:g}s {resolution} {codec}: making the recording")
    path, content_type = make_answer(media_dir, duration, resolution, codec)
    case = {"duration_s": duration, "resolution": resolution, "codec": codec,
            "content_type": content_type, "upload_bytes": path.stat().st_size,
            "loadavg_1m_at_start": round(os.getloadavg()[0], 2)}
    # The bare tools run just before our side and just after it, and their mean is the
    # yardstick: this machine's speed drifts over minutes (the bare ffmpeg took 14.6 s in one
    # round and 17.5 s in the next), and a drift falls on both sides of ours alike.
    log(f"case {duration:g}s {resolution} {codec}: the bare tools, before")
    before = run_bare(bench, path, media_dir, "before")
    log(f"case {duration:g}s {resolution} {codec}: uploading {case['upload_bytes']} bytes")
    row = bench.process(path, content_type, duration, timeout)
    stages = row["stage_seconds"]
    case.update(status=row["status"], peak_rss_mb=row["peak_rss_mb"], stages_s=stages)
    if row["status"] != "ready":
        case["failure_reason"] = row["failure_reason"]
        log(f"case FAILED: {row['failure_reason']}")
        return case
    ours = sum(stages.values())
    case["ready_after_last_chunk_s"] = round(row["ready_at"].timestamp() - row["last_chunk"], 3)
    case["finalize_s"] = row["finalize_s"]
    case["rtf"] = round(ours / duration, 4)
    log(f"case ready {case['ready_after_last_chunk_s']} s after the last chunk; stages {stages}; "
        "now the bare tools, after")
    after = run_bare(bench, path, media_dir, "after")
    runs = [before, after]
    # Other processes' use of the cores while each side ran: a case is only as fair as the
    # quietest of its phases.
    case["other_cpu"] = {"ours": row["other_cpu"],
                         "bare": max((r.pop("other_cpu") for r in runs), key=lambda o: o["cores"])}
    case["quiet"] = max(v["cores"] for v in case["other_cpu"].values()) <= QUIET_CORES
    ffmpeg_s = sum(r["ffmpeg_s"] for r in runs) / 2
    whisperx_s = sum(r["whisperx_transcribe_s"] for r in runs) / 2
    bare = ffmpeg_s + whisperx_s
    case["bare_tools_s"] = round(bare, 3)
    case["ratio_vs_bare"] = round(ours / bare, 3)
    bare_cpu = sum(r["cpu_s"] for r in runs) / 2
    case["cpu_s"] = {"ours": row["worker_cpu_s"], "bare_tools": round(bare_cpu, 3),
                     "ratio_vs_bare": round(row["worker_cpu_s"] / bare_cpu, 3)}
    case["bare_tools_detail"] = {
        "ffmpeg_s": round(ffmpeg_s, 3), "whisperx_transcribe_s": round(whisperx_s, 3),
        "ours_without_thumbnail_s": round(ours - stages.get("thumbnail", 0.0), 3),
        "runs": [{k: v for k, v in r.items() if k != "text"} for r in runs]}
    # The same speech, so the same words: word error rates against the script espeak-ng read
    # show that the speed was not bought with accuracy.
    script = spoken_text(duration)
    case["word_error_rate"] = {"ours": word_error_rate(script, row["text"]),
                               "bare_whisperx": word_error_rate(script, after["text"])}
    case["loadavg_1m_at_end"] = round(os.getloadavg()[0], 2)
    log(f"case done: {json.dumps(case)}")
    return case


def run_bare(bench: Bench, path: Path, media_dir: Path, tag: str) -> dict:
    """The bare tools on the recording: the ffmpeg command, then WhisperX's own transcribe."""
    others = OtherCpu(*bench.pids())
    ffmpeg_s, ffmpeg_cpu, wav = bare_ffmpeg(path, media_dir / f"bare-{tag}-{path.stem}",
                                           bench.app.config["X264_PRESET"])
    run = bench.bare.time(wav)
    return {"ffmpeg_s": round(ffmpeg_s, 3), "whisperx_transcribe_s": run["seconds"],
            "cpu_s": round(ffmpeg_cpu + run["cpu_s"], 3), "text": run["text"],
            "other_cpu": others.stop()}


def run_memory(bench: Bench, media_dir: Path, n: int, seconds: float, timeout: float) -> dict:
    path, content_type = make_answer(media_dir, seconds, "640x480", "h264")
    pid = bench.worker.pid
    out = {"answers": n, "answer_s": seconds, "rss_mb_before": rss_mb(pid), "rss_mb_after_10": None,
           "rss_mb_every_10": [], "failed": []}
    log(f"memory: {n} answers of {seconds:g} s; worker RSS {out['rss_mb_before']} MB")
    bench.pace = 0.0  # memory is what is measured here, not latency: no need to wait
    for i in range(1, n + 1):
        row = bench.process(path, content_type, seconds, timeout)
        if row["status"] != "ready":
            out["failed"].append({"answer": i, "status": row["status"],
                                  "failure_reason": row["failure_reason"]})
        if i % 10 == 0 or i == n:
            rss = rss_mb(pid)
            out["rss_mb_every_10"].append(rss)
            log(f"memory: {i}/{n} answers, worker RSS {rss} MB")
        if i == min(10, n):
            out["rss_mb_after_10"] = rss_mb(pid)
    out["rss_mb_after_last"] = rss_mb(pid)
    out["growth_mb"] = round(out["rss_mb_after_last"] - out["rss_mb_after_10"], 1)
    out["peak_rss_mb_vmhwm"] = rss_mb(pid, "VmHWM")
    return out


def machine(model: str) -> dict:
    cpu = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as info:
        cpu = next((ln.split(":", 1)[1].strip() for ln in info if ln.startswith("model name")), "")
    ffmpeg = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout
    return {"cores": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "platform": platform.platform(), "model": model,
            "ffmpeg": (ffmpeg.splitlines() or [""])[0], "loadavg_start": list(os.getloadavg())}


def summary(cases: list[dict]) -> list[dict]:
    """Per recording (length, size, codec): the median of its runs, and how many were quiet."""
    import statistics

    groups: dict[tuple, list[dict]] = {}
    for c in cases:
        if c.get("status") == "ready":
            groups.setdefault((c["duration_s"], c["resolution"], c["codec"]), []).append(c)
    out = []
    for (duration, resolution, codec), runs in groups.items():
        out.append({
            "duration_s": duration, "resolution": resolution, "codec": codec, "runs": len(runs),
            "quiet_runs": sum(1 for c in runs if c.get("quiet")),
            "ready_after_last_chunk_s": round(statistics.median(
                c["ready_after_last_chunk_s"] for c in runs), 3),
            "ratio_vs_bare": round(statistics.median(c["ratio_vs_bare"] for c in runs), 3),
            "ratio_vs_bare_runs": [c["ratio_vs_bare"] for c in runs],
            "cpu_ratio_vs_bare": round(statistics.median(c["cpu_s"]["ratio_vs_bare"] for c in runs),
                                       3)})
    return out


def checks(cases: list[dict], medians: list[dict] | None = None) -> dict:
    sixty = [c["ready_after_last_chunk_s"] for c in cases
             if c["duration_s"] == 60 and "ready_after_last_chunk_s" in c]
    ratios = [c["ratio_vs_bare"] for c in cases if "ratio_vs_bare" in c]
    cpu_ratios = [c["cpu_s"]["ratio_vs_bare"] for c in cases if "cpu_s" in c]
    return {"ready_60s_max_s": max(sixty) if sixty else None,
            "ready_60s_met": all(s <= TARGETS["ready_60s_within_s"] for s in sixty) if sixty else None,
            "ratio_vs_bare_max_seen": max(ratios) if ratios else None,
            "ratio_vs_bare_met": all(r <= TARGETS["ratio_vs_bare_max"] for r in ratios) if ratios
            else None,
            "cpu_ratio_vs_bare_max_seen": max(cpu_ratios) if cpu_ratios else None,
            "median_ratio_vs_bare_max": max((m["ratio_vs_bare"] for m in medians or []),
                                            default=None),
            "median_ratio_vs_bare_met": all(m["ratio_vs_bare"] <= TARGETS["ratio_vs_bare_max"]
                                            for m in medians) if medians else None,
            "cases_not_quiet": sum(1 for c in cases if c.get("quiet") is False)}


def main(argv=None) -> int:
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="oneway-bench-"))
    media_dir = tmp / "media"
    media_dir.mkdir()
    result = {"machine": machine(args.model), "cases": [], "memory": None, "targets": TARGETS}
    bench = Bench(tmp, args.model, 0.0 if args.no_pace else 1.0)
    started = time.monotonic()
    code = 0
    try:
        bench.start()
        result["machine"]["x264_preset"] = bench.app.config["X264_PRESET"]
        result["machine"]["early_video_chunks"] = bench.app.config["EARLY_VIDEO_CHUNKS"]
        log("warm-up answer (excluded): loads the speech model in the worker")
        warm, ctype = make_answer(media_dir, 5, "640x480", "h264")
        row = bench.process(warm, ctype, 5, args.answer_timeout)
        if row["status"] != "ready":
            raise RuntimeError(f"warm-up answer {row['status']}: {row['failure_reason']}\n"
                               + bench.worker_tail())
        result["machine"]["worker_rss_mb_after_warmup"] = rss_mb(bench.worker.pid)
        result["machine"]["worker_idle_cpu_per_s"] = bench.measure_idle_cpu()
        bench.bare = BareWhisperX(bench.model_dir, bench.threads, "en", bench.env)
        _, _, warm_wav = bare_ffmpeg(warm, media_dir / "bare-warmup", bench.app.config["X264_PRESET"])
        bench.bare.time(warm_wav)
        for repeat in range(1, args.repeats + 1):
            for duration, resolution, codec in args.cases:
                case = run_case(bench, media_dir, duration, resolution, codec, args.answer_timeout)
                result["cases"].append({**case, "repeat": repeat} if args.repeats > 1 else case)
        if args.answers_for_memory > 0:
            result["memory"] = run_memory(bench, media_dir, args.answers_for_memory,
                                          args.memory_answer_s, args.answer_timeout)
    except Exception as exc:
        code = 1
        log("benchmark failed:\n" + traceback.format_exc())
        result["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        bench.close()
        shutil.rmtree(tmp, ignore_errors=True)
    result["summary"] = summary(result["cases"])
    result["checks"] = checks(result["cases"], result["summary"])
    result["machine"]["loadavg_end"] = list(os.getloadavg())
    result["machine"]["wall_s"] = round(time.monotonic() - started, 1)
    print(json.dumps(result, indent=2, default=str))
    return code


if __name__ == "__main__":
    sys.exit(main())
