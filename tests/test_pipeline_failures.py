"""Every answer ends ready or failed with a reason a person understands; none stays stuck."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from rq.job import Job

from app.extensions import db
from app.media import quality
from app.models import Answer
from app.queue import redis_conn
from app.states import AnswerStatus
from tests.browser import wait_for
from tests.conftest import ROOT, worker_env
from tests.factories import make_candidate, make_interview
from tests.helpers import upload_answer

pytestmark = [pytest.mark.processes, pytest.mark.slow]


def _upload(csrf_client, media: bytes, **kw) -> Answer:
    cand, token = make_candidate(make_interview(questions=1))
    csrf_client.refresh(f"/i/{token}")
    receipt = upload_answer(csrf_client, token, cand.interview.questions[0].public_id, media, **kw)
    return db.session.execute(db.select(Answer).filter_by(public_id=receipt["answer_id"])).scalar_one()


def _reload(answer: Answer) -> Answer:
    db.session.expire_all()
    return db.session.get(Answer, answer.id)


def test_truncated_webm_fails_as_truncated(csrf_client, app, media_dir, run_jobs):
    data = media_dir["webm"].read_bytes()
    answer = _upload(csrf_client, data[: len(data) // 3], duration_ms=3300)
    run_jobs()
    answer = _reload(answer)
    assert answer.status == AnswerStatus.FAILED
    assert "truncated" in answer.failure_reason


def test_silent_answer_is_ready_and_flagged(csrf_client, app, media_dir, run_jobs):
    answer = _upload(csrf_client, media_dir["silent"].read_bytes())
    run_jobs()
    answer = _reload(answer)
    assert answer.status == AnswerStatus.READY, answer.failure_reason
    assert quality.SILENT in answer.quality_flags
    assert answer.quality_audio["sound_fraction"] < 0.02


def test_black_video_is_ready_and_flagged(csrf_client, app, media_dir, run_jobs):
    answer = _upload(csrf_client, media_dir["black"].read_bytes())
    run_jobs()
    answer = _reload(answer)
    assert answer.status == AnswerStatus.READY, answer.failure_reason
    assert quality.BLACK in answer.quality_flags
    assert quality.SILENT not in answer.quality_flags  # the speech is there


def test_speaking_answer_has_no_sound_warning(csrf_client, app, media_dir, run_jobs):
    answer = _upload(csrf_client, media_dir["webm"].read_bytes())
    run_jobs()
    answer = _reload(answer)
    assert answer.status == AnswerStatus.READY
    assert quality.SILENT not in answer.quality_flags and quality.BLACK not in answer.quality_flags
    # The test pattern shows no face: the check says so, as a warning only.
    assert quality.NO_FACE in answer.quality_flags


def test_transcription_that_raises_fails_the_answer_with_its_reason(
        csrf_client, app, media_dir, run_jobs):
    app.config.update(WHISPER_MODEL="/nonexistent/model", JOB_RETRIES=0)
    answer = _upload(csrf_client, media_dir["webm"].read_bytes())
    run_jobs()
    answer = _reload(answer)
    assert answer.status == AnswerStatus.FAILED
    assert answer.failure_reason.startswith("Transcribe failed unexpectedly")
    assert "can be retried" in answer.failure_reason


def _worker(env, log):
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "app:create_app", "worker",
                             "media", "asr"], env=env, cwd=ROOT, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)


def test_worker_killed_mid_job_is_recovered(csrf_client, app, servers, databases, backend,
                                            media_dir, tmp_path):
    answer = _upload(csrf_client, media_dir["webm"].read_bytes())
    env = worker_env(servers, databases[0][backend])
    env.update(RECONCILE_SECONDS="1", JOB_LEASE_SECONDS="3", RECONCILE_MIN_AGE_SECONDS="1")
    with open(tmp_path / "workers.log", "wb") as log:
        first = _worker(env, log)
        second = None
        try:
            # Kill the first worker while it is transcribing (it is loading the model then).
            job_id = f"transcribe-{answer.id}"

            def transcribing():
                try:
                    return Job.fetch(job_id, connection=redis_conn()).get_status() == "started"
                except Exception:  # not created yet
                    return False

            wait_for(transcribing, timeout=120, interval=0.1, what="the transcription to start")
            os.killpg(first.pid, signal.SIGKILL)  # the worker and its scheduler process
            first.wait(10)
            assert _reload(answer).status == AnswerStatus.PROCESSING
            second = _worker(env, log)
            wait_for(lambda: _reload(answer).status in (AnswerStatus.READY, AnswerStatus.FAILED), timeout=180,
                     what="the answer to settle after the kill")
            answer = _reload(answer)
            assert answer.status == AnswerStatus.READY, answer.failure_reason
            assert answer.recoveries == 1
            assert "programming" in answer.transcript["text"].lower()
        finally:
            for proc in (first, second):
                if proc is not None and proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(15)
