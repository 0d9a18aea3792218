"""The workers' local spool holds candidates' recordings: erasing a candidate removes its copies
on every worker at once (real worker processes, each with a spool of its own as on separate
machines), and nobody but the worker's user may read it."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.services import retention
from jobs import spool
from tests.conftest import ROOT, worker_env
from tests.factories import make_candidate, make_interview, make_media_answer, make_user

pytestmark = pytest.mark.processes


def _spool_files(folder: Path, answer_public_id: str) -> list[Path]:
    """What the early passes, the transcode and the early video leave in a worker's spool."""
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"{answer_public_id}.rec", f"{answer_public_id}.lock", f"{answer_public_id}-answer.mp4.kept",
             f"{answer_public_id}-video-part-0003.ts.kept"]
    for name in names:
        (folder / name).write_bytes(b"recording")
    return [folder / name for name in names]


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_hardening_erasing_a_candidate_removes_spool_copies_on_every_worker(
        app, servers, databases, backend, tmp_path, monkeypatch):
    from app.queue import redis_conn

    owner = make_user(role="owner")
    interview = make_interview(owner, questions=1)
    erased, _ = make_candidate(interview)
    kept, _ = make_candidate(interview)
    gone_answer = make_media_answer(erased, interview.questions[0]).public_id
    kept_answer = make_media_answer(kept, interview.questions[0]).public_id
    machines = [tmp_path / "machine-a", tmp_path / "machine-b"]
    gone = [f for m in machines for f in _spool_files(m, gone_answer)]
    stay = [f for m in machines for f in _spool_files(m, kept_answer)]
    with open(tmp_path / "workers.log", "wb") as log:
        workers = []
        try:
            for folder, queue in zip(machines, ("media", "asr"), strict=True):
                # No periodic pass in this test's time: only the erasure's own message may act.
                env = {**worker_env(servers, databases[0][backend]), "ONEWAY_SPOOL_DIR": str(folder),
                       "RECONCILE_SECONDS": "3600"}
                workers.append(subprocess.Popen(
                    [sys.executable, "-m", "flask", "--app", "app:create_app", "worker", queue], env=env,
                    cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
            listening = _wait(lambda: redis_conn().pubsub_numsub(retention.ERASED_CHANNEL)[0][1] == 2, 60)
            assert all(f.exists() for f in gone + stay)

            retention.erase(owner, erased.public_id, confirmed=True)
            assert _wait(lambda: not any(f.exists() for f in gone), 5), (
                listening, [f for f in gone if f.exists()], (tmp_path / "workers.log").read_text()[-3000:])
            assert all(f.exists() for f in stay)  # another candidate's copies stay

            # A worker that was not listening then (stopped, or its Redis connection broken) removes
            # them when it listens again: the purged folders of the last day are kept in Redis.
            late = tmp_path / "machine-c"
            missed = _spool_files(late, gone_answer) + _spool_files(late, kept_answer)
            monkeypatch.setenv("ONEWAY_SPOOL_DIR", str(late))
            spool.forget(retention.recently_purged_answers(redis_conn()))
            assert [f.exists() for f in missed] == [False] * 4 + [True] * 4
        finally:
            for proc in workers:
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(30)


def test_hardening_spool_is_private_to_the_workers_user(app, tmp_path, monkeypatch):
    from app.storage import chunk_key, current_storage

    folder = tmp_path / "spool"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)  # a folder made by an earlier version, readable by every local user
    monkeypatch.setenv("ONEWAY_SPOOL_DIR", str(folder))
    store = current_storage()
    key = chunk_key("private-answer", 0, "0" * 64)
    store.put_bytes(key, b"recording", "application/octet-stream")
    with spool.recording_so_far(store, "private-answer", [9], lambda seq: store.get_bytes(key)):
        pass
    made = tmp_path / "review.mp4"
    made.write_bytes(b"mp4")
    made.chmod(0o644)
    spool.keep(made, "private-answer-answer.mp4")

    def mode(path: Path) -> int:
        return stat.S_IMODE(path.stat().st_mode)

    assert mode(folder) == 0o700
    files = sorted(folder.iterdir())
    assert [f.name for f in files] == ["private-answer-answer.mp4.kept", "private-answer.lock",
                                       "private-answer.rec"]
    assert {f.name: mode(f) for f in files} == dict.fromkeys((f.name for f in files), 0o600)
