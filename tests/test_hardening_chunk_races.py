"""Chunks racing under a real gunicorn (processes and threads): a chunk sent by several requests
at once is counted once, and a finalize racing the last chunk keeps the take whole, whether it
comes on its own or with the last chunk."""

from __future__ import annotations

import hashlib
import json
import threading

import pytest

import jobs
import jobs.join
from app.extensions import db
from app.states import AnswerStatus
from app.storage import current_storage
from tests.conftest import BACKENDS, worker_env
from tests.factories import make_candidate, make_interview
from tests.helpers import chunk_name, stored_chunks
from tests.server import Browser, gunicorn
from tests.test_hardening_abuse import _answer, _chunk_rows

pytestmark = pytest.mark.processes


def _take(web, token: str, question_id: str) -> tuple[Browser, str]:
    """A browser on the recording page that has started a take: it and the take's URL."""
    browser = Browser(web.base)
    browser.open_page(f"/i/{token}/record")
    status, _h, body = browser.send_json("POST", f"/i/{token}/questions/{question_id}/takes",
                                         {"content_type": "video/webm"})
    assert status == 201, body
    return browser, f"/i/{token}/answers/{json.loads(body)['answer_id']}"


def _put(browser: Browser, base: str, seq: int, data: bytes, extra: dict | None = None):
    """A function that sends chunk `seq` (with `extra` headers): its status and JSON answer."""
    def send():
        status, _h, body = browser.request("PUT", f"{base}/chunks/{seq}", data, {
            "Content-Type": "application/octet-stream", "X-CSRFToken": browser.token, **(extra or {})})
        return status, json.loads(body)
    return send


def _at_once(sends) -> list:
    """What each of `sends` answered, all of them started at the same moment."""
    start, results = threading.Barrier(len(sends)), [None] * len(sends)

    def go(i, send):
        start.wait()
        results[i] = send()

    tabs = [threading.Thread(target=go, args=(i, s)) for i, s in enumerate(sends)]
    for tab in tabs:
        tab.start()
    for tab in tabs:
        tab.join(90)
    return results


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_hardening_one_chunk_sent_by_several_tabs_at_once_is_counted_once(
        app, servers, databases, backend, tmp_path):
    """A chunk counts once however many requests carry it at the same moment (a retry on a slow
    network, a second tab), under gunicorn's processes and threads: every copy of the same bytes
    is acknowledged, one of them as new, and the take holds the chunk once, with its size counted
    once; other bytes under the same number are refused (409). Then the take is finalized while
    copies of its last chunk race in: a finalize that came first is refused (a chunk is missing)
    and the take goes on; either way the take is kept whole, each chunk counted once."""
    interview = make_interview(questions=1, takes=1)
    _cand, token = make_candidate(interview)
    qid = interview.questions[0].public_id
    db.session.remove()  # nothing of this test's session may reach the server
    first, other = b"\x1a\x45\xdf\xa3" + b"a" * 150_000, b"\x1a\x45\xdf\xa3" + b"b" * 150_000
    second = b"c" * 90_000

    with gunicorn(worker_env(servers, databases[0][backend]), tmp_path / "web.log", workers=2,
                  threads=4) as web:
        browser, base = _take(web, token, qid)

        def put(seq, data):
            return _put(browser, base, seq, data)

        copies = _at_once([put(0, first)] * 8)
        assert all(status == 200 for status, _ in copies), copies
        assert [r["duplicate"] for _, r in copies].count(False) == 1, copies
        assert {r["chunks"] for _, r in copies} == {1}
        status, refused = put(0, other)()
        assert status == 409 and "different content" in refused["error"], refused

        whole = hashlib.sha256(first + second).hexdigest()

        def finalize():
            return browser.send_json("POST", f"{base}/finalize", {"chunks": 2, "sha256": whole})

        raced = _at_once([put(1, second)] * 4 + [finalize])
        fin_status, _h, fin_body = raced[4]
        # Before chunk 1 was held the finalize is refused and the take goes on; sent again, it is kept.
        assert fin_status in (200, 409), fin_body
        again = finalize() if fin_status == 409 else None
        log = web.log_text()
    assert "Traceback" not in log, log[-3000:]
    assert all(status == 200 for status, _ in raced[:4]), raced
    assert [r["duplicate"] for _, r in raced[:4]].count(False) == 1, raced
    assert again is None or again[0] == 200, again
    answer = _answer(base.rsplit("/", 1)[1])
    assert answer.status == AnswerStatus.UPLOADED and answer.original_sha256 == whole
    assert (answer.chunk_count, answer.received_bytes) == (2, len(first) + len(second))
    assert answer.original_size == len(first) + len(second) and _chunk_rows(answer.public_id) == 2


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_hardening_a_last_chunk_carrying_the_finalize_sent_by_several_tabs_at_once(
        app, servers, databases, backend, tmp_path):
    """The last chunk carries the finalize (app/static/js/uploader.js); four copies of it race a
    finalize of its own, under gunicorn's processes and threads: one copy stores the chunk and
    keeps the take, every other copy gets the same whole receipt, the finalize either came first
    (refused: a chunk is missing) or is a repeat, and the take is kept once, whole."""
    interview = make_interview(questions=1, takes=1)
    _cand, token = make_candidate(interview)
    qid = interview.questions[0].public_id
    db.session.remove()  # nothing of this test's session may reach the server
    first, second = b"\x1a\x45\xdf\xa3" + b"a" * 150_000, b"c" * 90_000
    whole = hashlib.sha256(first + second).hexdigest()
    with gunicorn(worker_env(servers, databases[0][backend]), tmp_path / "web.log", workers=2,
                  threads=4) as web:
        browser, base = _take(web, token, qid)
        assert _put(browser, base, 0, first)()[0] == 200
        closing = {"X-Recording-Chunks": "2", "X-Recording-SHA256": whole, "X-Recording-Duration-Ms": "2000"}

        def finalize():
            status, _h, body = browser.send_json("POST", f"{base}/finalize", {"chunks": 2, "sha256": whole})
            return status, json.loads(body)

        raced = _at_once([_put(browser, base, 1, second, closing)] * 4 + [finalize])
        log = web.log_text()
    assert "Traceback" not in log, log[-3000:]
    copies, (fin_status, fin) = raced[:4], raced[4]
    assert all(status == 200 and r["finalized"] for status, r in copies), raced
    assert [r["duplicate"] for _, r in copies].count(False) == 1, raced
    whole_receipt = (len(first) + len(second), whole, 2)
    assert {(r["bytes"], r["sha256"], r["chunks"]) for _, r in copies} == {whole_receipt}
    assert (fin_status, fin.get("duplicate")) in ((409, None), (200, True)), fin
    answer = _answer(base.rsplit("/", 1)[1])
    assert answer.status == AnswerStatus.UPLOADED and answer.original_sha256 == whole
    assert (answer.chunk_count, answer.received_bytes, answer.client_duration_ms) == (
        2, len(first) + len(second), 2000)
    assert answer.original_size == len(first) + len(second) and _chunk_rows(answer.public_id) == 2


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_hardening_different_bytes_under_one_chunk_number_at_once_keep_the_recorded_ones(
        app, servers, databases, backend, tmp_path):
    """Different bytes sent as the same chunk at the same moment (two tabs, a misbehaving client),
    under gunicorn's processes and threads: one is recorded and the others refused (409), and
    storage holds the recorded bytes whichever write reached it last, because each content is
    stored under its own name. The join then makes exactly the recording the take recorded, and
    every chunk goes, the refused ones too. (Before 2026-12-07's eighth session a refused copy
    could overwrite the recorded one, and the join then failed on the checksum.)"""
    interview = make_interview(questions=1, takes=1)
    _cand, token = make_candidate(interview)
    qid = interview.questions[0].public_id
    db.session.remove()  # nothing of this test's session may reach the server
    magic = b"\x1a\x45\xdf\xa3"  # a WebM's first bytes, which chunk 0 must start with
    versions = [[(magic if seq == 0 else b"") + bytes([65 + seq]) * 1000 + bytes([48 + k]) * 120_000
                 for k in range(3)] for seq in range(6)]
    with gunicorn(worker_env(servers, databases[0][backend]), tmp_path / "web.log", workers=2,
                  threads=4) as web:
        browser, base = _take(web, token, qid)
        kept = []
        for seq, contents in enumerate(versions):
            raced = _at_once([_put(browser, base, seq, data) for data in contents])
            won = [i for i, (status, _r) in enumerate(raced) if status == 200]
            assert len(won) == 1, raced
            assert all(status == 409 and "different content" in r["error"]
                       for i, (status, r) in enumerate(raced) if i != won[0]), raced
            kept.append(contents[won[0]])
        recording = b"".join(kept)
        status, _h, body = browser.send_json("POST", f"{base}/finalize", {
            "chunks": len(kept), "sha256": hashlib.sha256(recording).hexdigest()})
        assert status == 200, body
        log = web.log_text()
    assert "Traceback" not in log, log[-3000:]
    answer = _answer(base.rsplit("/", 1)[1])
    held = stored_chunks(answer.public_id)
    for seq, data in enumerate(kept):
        assert held[chunk_name(seq, data)] == data
    assert set(held) <= {chunk_name(seq, data) for seq, contents in enumerate(versions) for data in contents}
    jobs.use_app(app)
    try:
        jobs.join.run(answer.id)
    finally:
        jobs.use_app(None)
    answer = _answer(answer.public_id)
    assert answer.status == AnswerStatus.PROCESSING and answer.failure_reason is None
    assert current_storage().get_bytes(answer.original_key) == recording
    assert stored_chunks(answer.public_id) == {}
