"""Processing under load: answers finish in the order they were completed, one answer's stages run back
to back, and early passes (only useful on an idle machine) are never queued by the dozen: at most one
waits per answer, and none while their queue has a backlog."""

from __future__ import annotations

import pytest
from rq import Queue, SimpleWorker

from app.extensions import db
from app.models import Answer
from app.queue import ASR_QUEUE, MEDIA_QUEUE, QUEUES, enqueue, redis_conn
from app.states import AnswerStatus
from tests.factories import make_candidate, make_interview
from tests.helpers import split, upload_answer
from tests.test_pipeline import _record

pytestmark = pytest.mark.slow


def _ids(queue: str) -> list[str]:
    return Queue(queue, connection=redis_conn()).job_ids


def _answer_id(public_id: str) -> int:
    return db.session.execute(db.select(Answer.id).filter_by(public_id=public_id)).scalar_one()


def test_answers_finish_in_the_order_they_were_completed(app, csrf_client, media_dir):
    done = []
    for _ in range(3):
        cand, token = make_candidate(make_interview(questions=1))
        csrf_client.refresh(f"/i/{token}")
        receipt = upload_answer(csrf_client, token, cand.interview.questions[0].public_id,
                                media_dir["webm"].read_bytes())
        done.append(_answer_id(receipt["answer_id"]))
    first, second, third = done
    # First stages queue in completion order (at the front, the newest would pass every older one).
    assert _ids(MEDIA_QUEUE) == [f"join-{a}" for a in done]
    import jobs

    jobs.use_app(app)
    try:
        worker = SimpleWorker([Queue(q, connection=redis_conn()) for q in QUEUES], connection=redis_conn())
        worker.work(burst=True, max_jobs=1)  # the oldest answer's join
        # Its next stage goes ahead of the newer answers' first ones.
        assert _ids(MEDIA_QUEUE) == [f"transcode-{first}", f"join-{second}", f"join-{third}"]
        worker.work(burst=True, max_jobs=1)  # ... its transcode
    finally:
        jobs.use_app(None)
    # And so on, until it is finished: it finishes first.
    assert _ids(MEDIA_QUEUE) == [f"thumbnail-{first}", f"join-{second}", f"join-{third}"]
    assert _ids(ASR_QUEUE) == [f"transcribe-{first}"]


def test_an_answer_has_at_most_one_early_pass_waiting_and_none_under_a_backlog(app, csrf_client, media_dir):
    app.config.update(EARLY_VIDEO_CHUNKS=3, EARLY_PASSES_MAX_WAITING=2)
    cand, token = make_candidate(make_interview(questions=1))
    csrf_client.refresh(f"/i/{token}")
    data = media_dir["long"].read_bytes()
    parts = split(data, len(data) // 15 + 1)
    answer, base = _record(csrf_client, token, cand.interview.questions[0].public_id, data, parts, 9)
    row = _answer_id(answer)
    # Chunks 2, 5 and 8 each asked for a pass: the newest took the place of those not started.
    assert _ids(MEDIA_QUEUE) == [f"early-video-{row}-8"]
    # A backlog: three answers' transcodes wait. The pass chunk 11 asks for is not queued, and no
    # early transcription pass either, though the transcription queue itself is empty: in make run
    # one worker serves both, so it would delay those transcodes.
    # (Sequential decoding: its passes can settle something at any chunk, so only the backlog
    # holds them back.)
    app.config.update(EARLY_TRANSCRIBE_CHUNKS=1, WHISPER_ALIGN_MODEL="", WHISPER_DECODING="sequential")
    with app.app_context():
        for i in range(3):
            enqueue("jobs.transcode.run", 10_000 + i, queue=MEDIA_QUEUE, job_id=f"transcode-{10_000 + i}")
    Queue(ASR_QUEUE, connection=redis_conn()).empty()
    for seq in range(9, 12):
        assert csrf_client.put(f"{base}/chunks/{seq}", data=parts[seq]).status_code == 200
    assert [j for j in _ids(MEDIA_QUEUE) if j.startswith("early-video")] == [f"early-video-{row}-8"]
    assert _ids(ASR_QUEUE) == []


def test_one_worker_transcribes_a_finished_answer_before_the_next_answers_media():
    """RQ takes from its queues in the order given: a worker for all of them (make run, the image's
    default) lists transcription before media, after the short outward jobs."""
    from app.queue import MAIL_QUEUE, ONE_WORKER_QUEUES, WEBHOOK_QUEUE

    assert ONE_WORKER_QUEUES.index(ASR_QUEUE) < ONE_WORKER_QUEUES.index(MEDIA_QUEUE)
    assert set(ONE_WORKER_QUEUES[:2]) == {MAIL_QUEUE, WEBHOOK_QUEUE}


def _x264_settings(mp4: bytes) -> str:
    """The settings libx264 writes into the stream it makes (its SEI: "x264 - core ... options: ...")."""
    start = mp4.index(b"x264 - core")
    return mp4[start:mp4.index(b"\x00", start)].decode("ascii", "replace")


def test_under_a_backlog_a_whole_recording_is_encoded_with_the_cheaper_preset(app, csrf_client, media_dir):
    import jobs
    from app.queue import ONE_WORKER_QUEUES
    from app.storage import current_storage

    app.config.update(X264_PRESET="veryfast", X264_BACKLOG_PRESET="ultrafast", X264_BACKLOG_AFTER=1,
                      EARLY_VIDEO_CHUNKS=0)
    sent = []
    for _ in range(3):  # three Firefox (VP8) answers wait together
        cand, token = make_candidate(make_interview(questions=1))
        csrf_client.refresh(f"/i/{token}")
        receipt = upload_answer(csrf_client, token, cand.interview.questions[0].public_id,
                                media_dir["webm"].read_bytes())
        sent.append(receipt["answer_id"])
    # One worker for every queue, as make run's: an answer's stages run back to back, oldest first.
    # While the first is encoded two others wait, then one, then none.
    jobs.use_app(app)
    try:
        SimpleWorker([Queue(q, connection=redis_conn()) for q in ONE_WORKER_QUEUES],
                     connection=redis_conn()).work(burst=True, with_scheduler=False)
    finally:
        jobs.use_app(None)
    settings = []
    for public_id in sent:
        answer = db.session.execute(db.select(Answer).filter_by(public_id=public_id)).scalar_one()
        assert answer.status == AnswerStatus.READY, answer.failure_reason
        settings.append(_x264_settings(current_storage().get_bytes(answer.mp4_key)))
    # ultrafast turns off CABAC and B-frames; veryfast keeps both.
    assert ["cabac=0" in s and "bframes=0" in s for s in settings] == [True, False, False], settings
    assert all("cabac=1" in s for s in settings[1:])


def test_no_backlog_preset_means_the_one_preset(app, csrf_client, media_dir, run_jobs):
    from app.services import pipeline

    app.config.update(X264_PRESET="veryfast", X264_BACKLOG_PRESET="", X264_BACKLOG_AFTER=0)
    for _ in range(2):
        cand, token = make_candidate(make_interview(questions=1))
        csrf_client.refresh(f"/i/{token}")
        receipt = upload_answer(csrf_client, token, cand.interview.questions[0].public_id,
                                media_dir["webm"].read_bytes())
    answer = db.session.execute(db.select(Answer).filter_by(public_id=receipt["answer_id"])).scalar_one()
    assert pipeline.encode_preset(answer) == "veryfast"
    app.config.update(X264_BACKLOG_PRESET="ultrafast")
    assert pipeline.encode_preset(answer) == "ultrafast"  # the other answer waits
