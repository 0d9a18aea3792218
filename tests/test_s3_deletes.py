"""Deleting as the pipeline does, against the tests' own `rclone serve s3`: an answer's chunks once
its original is joined and checked (jobs/join.py), in one request, then the answer's folder (an
erasure) leave nothing behind, neither objects nor folders, and nothing in the server's log."""

from __future__ import annotations

import io
import os

import jobs
import jobs.join
from app.extensions import db
from app.models import Answer
from app.storage import answer_prefix, current_storage
from stack.services import RCLONE_TIDY_NOTE, _copy_log
from tests.factories import make_candidate, make_interview
from tests.helpers import upload_answer


def _objects(prefix: str) -> set[str]:
    store = current_storage()
    return {o.object_name for o in store.client.list_objects(store.bucket, prefix=prefix, recursive=True)}


def test_the_chunks_and_then_the_answer_go_without_a_trace_or_an_error_in_the_log(
        app, csrf_client, servers):
    log_path = servers["s3_log"]
    seen = log_path.stat().st_size
    cand, token = make_candidate(make_interview(questions=1))
    csrf_client.refresh(f"/i/{token}")
    data = os.urandom(200_000)
    receipt = upload_answer(csrf_client, token, cand.interview.questions[0].public_id, data,
                            content_type="video/webm;codecs=h264,opus", chunk_size=8 * 1024)
    answer = db.session.execute(db.select(Answer).filter_by(public_id=receipt["answer_id"])).scalar_one()
    folder = answer_prefix(answer.public_id)
    assert len(_objects(folder)) == answer.chunk_count == 25
    jobs.use_app(app)
    try:
        jobs.join.run(answer.id)  # joins, checks, then deletes the 25 chunks in one request
    finally:
        jobs.use_app(None)
    db.session.expire_all()
    assert _objects(folder) == {answer.original_key}
    assert not [k for k in _objects(folder) if "/chunks/" in k]
    current_storage().delete_prefix(folder)  # as an erasure does
    assert _objects(folder) == set()
    bucket = servers["s3_dir"] / app.config["S3_BUCKET"]
    assert not (bucket / folder).exists(), "the answer's folder stayed behind on the server's disk"
    logged = log_path.read_bytes()[seen:].decode(errors="replace")
    assert "ERROR" not in logged, logged


def test_the_stack_log_leaves_out_only_rclones_note_on_a_folder_it_keeps():
    out = io.BytesIO()
    note = b"2026/12/06 14:44:28 ERROR : b/answers/x/chunks/: " + RCLONE_TIDY_NOTE + b"\n"
    other = b"2026/12/06 14:44:29 ERROR : b/answers/x/original.webm: Failed to copy: disk full\n"
    _copy_log(io.BytesIO(note + other + note), out)
    assert out.getvalue() == other
