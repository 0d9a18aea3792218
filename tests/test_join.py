"""Finalize counts, a job joins: the request only checks the chunk list and its totals in the
database, and jobs/join.py joins the chunks, checks the whole against the browser's checksum and
only then deletes them. A join run again, or cut off by a killed worker, ends the same."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from rq import Queue, SimpleWorker

import jobs
import jobs.join
from app.extensions import db
from app.models import Answer, AnswerChunk
from app.queue import MEDIA_QUEUE, lease_key, redis_conn
from app.services import pipeline
from app.states import AnswerStatus
from app.storage import answer_key, chunk_key, current_storage
from tests.conftest import ROOT, worker_env
from tests.factories import make_candidate, make_interview
from tests.helpers import redis_away, split, stored_chunks, upload_answer
from tests.server import Browser, gunicorn

pytestmark = pytest.mark.processes  # a real worker killed mid-join, and finalize through gunicorn

# Any bytes will do: joining and checking never read what the recording holds.
DATA = os.urandom(300_000)
# H.264 in WebM (Chromium's): no video pass is queued while it is sent, so the media queue holds
# only what finalize and the join put there.
KIND = "video/webm;codecs=h264,opus"


def _answer(public_id: str) -> Answer:
    db.session.expire_all()
    return db.session.execute(db.select(Answer).filter_by(public_id=public_id)).scalar_one()


def _chunks_stored(answer: Answer) -> list[bool]:
    """Whether each chunk the take recorded is in storage, under its number and checksum."""
    store = current_storage()
    rows = db.session.execute(db.select(AnswerChunk.seq, AnswerChunk.sha256)
                              .filter_by(answer_id=answer.id).order_by(AnswerChunk.seq)).all()
    assert len(rows) == answer.chunk_count
    return [store.exists(chunk_key(answer.public_id, seq, sha256)) for seq, sha256 in rows]


def _media_jobs() -> list[str]:
    return Queue(MEDIA_QUEUE, connection=redis_conn()).job_ids


def _sent(csrf_client, data: bytes = DATA, chunk_size: int = 64 * 1024) -> Answer:
    cand, token = make_candidate(make_interview(questions=1))
    csrf_client.refresh(f"/i/{token}")
    receipt = upload_answer(csrf_client, token, cand.interview.questions[0].public_id, data,
                            content_type=KIND, chunk_size=chunk_size)
    assert receipt["bytes"] == len(data) and receipt["sha256"] == hashlib.sha256(data).hexdigest()
    return _answer(receipt["answer_id"])


def _join(app, answer_id: int) -> None:
    """Run the join: its queued job if there is one (as a worker takes it), else the job's function."""
    jobs.use_app(app)
    try:
        if f"join-{answer_id}" in _media_jobs():
            SimpleWorker([Queue(MEDIA_QUEUE, connection=redis_conn())], connection=redis_conn()).work(
                burst=True, max_jobs=1, with_scheduler=False)
        else:
            jobs.join.run(answer_id)
    finally:
        jobs.use_app(None)


def test_the_join_job_joins_checks_and_only_then_deletes_the_chunks(csrf_client, app):
    answer = _sent(csrf_client)
    assert answer.status == AnswerStatus.UPLOADED and answer.original_key is None
    assert all(_chunks_stored(answer)) and _media_jobs() == [f"join-{answer.id}"]
    _join(app, answer.id)
    answer = _answer(answer.public_id)
    assert answer.status == AnswerStatus.PROCESSING
    assert answer.original_key == answer_key(answer.public_id, "original.webm")
    assert current_storage().get_bytes(answer.original_key) == DATA
    assert not any(_chunks_stored(answer))
    # The rows stay: a chunk sent again after a lost acknowledgement is still acknowledged.
    assert db.session.execute(db.select(db.func.count()).select_from(AnswerChunk)
                              .filter_by(answer_id=answer.id)).scalar_one() == answer.chunk_count
    assert _media_jobs() == [f"transcode-{answer.id}"] and "join" in answer.stage_seconds
    # Run again (the reconciler, a retry): nothing joined twice, nothing queued twice.
    _join(app, answer.id)
    assert current_storage().get_bytes(answer.original_key) == DATA
    assert _media_jobs() == [f"transcode-{answer.id}"]


def test_a_join_cut_off_after_writing_the_original_runs_again_to_the_same_result(csrf_client, app):
    """A worker killed between writing the original and committing its key leaves an object the
    database does not know: the next run writes the same key again, checks it, and goes on."""
    answer = _sent(csrf_client)
    key = answer_key(answer.public_id, "original.webm")
    current_storage().put_bytes(key, DATA[: len(DATA) // 2], "video/webm")  # what was left
    _join(app, answer.id)
    answer = _answer(answer.public_id)
    assert answer.original_key == key and current_storage().get_bytes(key) == DATA
    assert not any(_chunks_stored(answer)) and answer.status == AnswerStatus.PROCESSING


def test_a_take_recorded_across_the_upgrade_joins_its_chunks_stored_under_their_number_alone(
        csrf_client, app):
    """Until 2026-12-07 (eighth session) a chunk was stored under its number alone; a take whose
    recording went on across the upgrade has its first chunks there and the rest under their
    number and checksum. The join reads both, makes the whole recording, and removes both."""
    answer = _sent(csrf_client)
    store = current_storage()
    rows = db.session.execute(db.select(AnswerChunk.seq, AnswerChunk.sha256)
                              .filter_by(answer_id=answer.id).order_by(AnswerChunk.seq)).all()
    for seq, sha256 in rows[:3]:  # as the version before stored them
        store.copy(chunk_key(answer.public_id, seq, sha256), f"answers/{answer.public_id}/chunks/{seq:06d}")
        store.delete(chunk_key(answer.public_id, seq, sha256))
    assert _chunks_stored(answer) == [False] * 3 + [True] * (len(rows) - 3)
    _join(app, answer.id)
    answer = _answer(answer.public_id)
    assert answer.status == AnswerStatus.PROCESSING and answer.failure_reason is None
    assert store.get_bytes(answer.original_key) == DATA
    assert stored_chunks(answer.public_id) == {}


def test_chunks_left_by_a_join_killed_after_its_commit_go_with_the_next_run(csrf_client, app):
    """Killed after the original's key was committed and before the chunks were deleted: the
    reconciler's next run of the first stage deletes them and queues the transcode."""
    answer = _sent(csrf_client)
    key = answer_key(answer.public_id, "original.webm")
    current_storage().put_bytes(key, DATA, "video/webm")
    answer.original_key = key
    db.session.commit()
    assert pipeline.pending_stages(answer) == [pipeline.FIRST_STAGE]
    _join(app, answer.id)
    answer = _answer(answer.public_id)
    assert not any(_chunks_stored(answer)) and _media_jobs() == [f"transcode-{answer.id}"]


def test_a_failed_join_can_be_retried_from_its_chunks(csrf_client, app):
    """A join that failed (its retries spent while the store was away, say) kept every chunk, so
    staff's retry joins them again."""
    answer = _sent(csrf_client)
    pipeline.fail(answer.id, "Join failed unexpectedly (StorageError: the store was away).")
    answer = _answer(answer.public_id)
    assert answer.status == AnswerStatus.FAILED and all(_chunks_stored(answer))
    pipeline.retry(answer)
    _join(app, answer.id)
    answer = _answer(answer.public_id)
    assert answer.status == AnswerStatus.PROCESSING and answer.failure_reason is None
    assert current_storage().get_bytes(answer.original_key) == DATA


@pytest.mark.processes
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_worker_killed_mid_join_loses_nothing_and_the_join_runs_again(
        csrf_client, app, servers, databases, backend, tmp_path):
    """A real `flask worker media` is SIGKILLed while it joins an answer of many chunks: every
    chunk is still there and the answer still waits for its join; the reconciler queues the join
    again once the dead worker's lease lapses, and that run joins it whole."""
    data = os.urandom(3_000_000)
    answer = _sent(csrf_client, data, chunk_size=4096)  # 733 chunks: the join takes a while
    env = worker_env(servers, databases[0][backend]) | {"JOB_LEASE_SECONDS": "2",
                                                         "RECONCILE_SECONDS": "3600"}
    log_path = tmp_path / "worker.log"
    with open(log_path, "ab") as log:
        worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app:create_app", "worker",
                                   "media"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not redis_conn().exists(lease_key(f"join-{answer.id}")):
            assert time.monotonic() < deadline and worker.poll() is None, log_path.read_text()[-3000:]
            time.sleep(0.01)
        # The lease comes just before the move to processing: on a busy machine that commit can
        # take longer than the wait below.
        while _answer(answer.public_id).status != AnswerStatus.PROCESSING:
            assert time.monotonic() < deadline and worker.poll() is None, log_path.read_text()[-3000:]
            time.sleep(0.01)
        time.sleep(0.2)  # part-way through the chunks
        os.kill(worker.pid, signal.SIGKILL)
    finally:
        worker.kill()
        worker.wait(10)
    answer = _answer(answer.public_id)
    assert answer.original_key is None, "the join finished before the kill; make it longer"
    assert answer.status == AnswerStatus.PROCESSING and all(_chunks_stored(answer))
    time.sleep(2.5)  # the dead worker's lease lapses
    assert pipeline.reconcile(min_age_s=0, max_recoveries=3, lease_s=2) == [answer.public_id]
    jobs.use_app(app)
    try:
        SimpleWorker([Queue(MEDIA_QUEUE, connection=redis_conn())], connection=redis_conn()).work(
            burst=True, max_jobs=1, with_scheduler=False)
    finally:
        jobs.use_app(None)
    answer = _answer(answer.public_id)
    assert current_storage().get_bytes(answer.original_key) == data
    assert not any(_chunks_stored(answer)) and _media_jobs() == [f"transcode-{answer.id}"]


@pytest.mark.processes
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_finalize_through_gunicorn_counts_the_chunks_and_queues_the_join(app, servers, databases, backend,
                                                                          tmp_path):
    """What the recorder does, against a real gunicorn: chunks with their checksums (a damaged one
    refused), then a finalize whose receipt is the recording's bytes and SHA-256, answered
    without joining anything."""
    cand, token = make_candidate(make_interview(questions=1))
    question = cand.interview.questions[0].public_id
    db.session.remove()
    parts = split(DATA, 32 * 1024)
    with gunicorn(worker_env(servers, databases[0][backend]), tmp_path / "web.log") as web:
        browser = Browser(web.base)
        browser.open_page(f"/i/{token}/record")
        status, _h, body = browser.send_json("POST", f"/i/{token}/questions/{question}/takes",
                                             {"content_type": KIND})
        assert status == 201, body
        base = f"/i/{token}/answers/{json.loads(body)['answer_id']}"

        def put(seq: int, data: bytes, sha256: str):
            return browser.request("PUT", f"{base}/chunks/{seq}", data, {
                "Content-Type": "application/octet-stream", "X-CSRFToken": browser.token,
                "X-Chunk-SHA256": sha256})[0]

        damaged = parts[0][:-1] + bytes([parts[0][-1] ^ 0xFF])  # always differs from the sent byte
        assert put(0, damaged, hashlib.sha256(parts[0]).hexdigest()) == 422
        for seq, part in enumerate(parts):
            assert put(seq, part, hashlib.sha256(part).hexdigest()) == 200
        sha = hashlib.sha256(DATA).hexdigest()
        status, _h, body = browser.send_json("POST", f"{base}/finalize", {
            "chunks": len(parts), "sha256": sha, "duration_ms": 3000})
        log = web.log_text()
    assert status == 200, (body, log[-3000:])
    receipt = json.loads(body)
    assert (receipt["bytes"], receipt["sha256"], receipt["chunks"]) == (len(DATA), sha, len(parts))
    assert "Traceback" not in log, log[-3000:]
    answer = _answer(receipt["answer_id"])
    assert answer.status == AnswerStatus.UPLOADED and answer.original_key is None
    assert _media_jobs() == [f"join-{answer.id}"] and all(_chunks_stored(answer))


def test_a_finalize_while_redis_is_away_still_gives_the_receipt_and_the_reconcile_pass_queues_the_join(
        csrf_client, app):
    """The answer is committed before its join is queued: Redis failing then is no 500 (the browser
    would send it again, a candidate would read that it failed); the workers' pass queues it."""
    cand, token = make_candidate(make_interview(questions=1))
    csrf_client.refresh(f"/i/{token}")
    question = cand.interview.questions[0].public_id
    resp = csrf_client.post(f"/i/{token}/questions/{question}/takes", json={"content_type": KIND})
    answer_id = resp.get_json()["answer_id"]
    for seq, part in enumerate(split(DATA, 64 * 1024)):
        assert csrf_client.put(f"/i/{token}/answers/{answer_id}/chunks/{seq}", data=part).status_code == 200
    with redis_away(app):
        resp = csrf_client.post(f"/i/{token}/answers/{answer_id}/finalize",
                                json={"chunks": len(split(DATA, 64 * 1024)),
                                      "sha256": hashlib.sha256(DATA).hexdigest()})
    assert resp.status_code == 200 and resp.get_json()["sha256"] == hashlib.sha256(DATA).hexdigest()
    answer = _answer(answer_id)
    assert answer.status == AnswerStatus.UPLOADED and f"join-{answer.id}" not in _media_jobs()
    assert answer_id in pipeline.reconcile(0, 3, 30)
    assert f"join-{answer.id}" in _media_jobs()
    _join(app, answer.id)
    assert current_storage().get_bytes(_answer(answer_id).original_key) == DATA
