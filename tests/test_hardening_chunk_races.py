"""Chunks racing under a real gunicorn (processes and threads): a chunk sent by several requests
at once is counted once, and a finalize racing the last chunk keeps the take whole."""

from __future__ import annotations

import hashlib
import json
import threading

import pytest

from app.extensions import db
from app.states import AnswerStatus
from tests.conftest import BACKENDS, worker_env
from tests.factories import make_candidate, make_interview
from tests.server import Browser, gunicorn
from tests.test_hardening_abuse import _answer, _chunk_rows

pytestmark = pytest.mark.processes


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

    def at_once(sends) -> list:
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

    with gunicorn(worker_env(servers, databases[0][backend]), tmp_path / "web.log", workers=2,
                  threads=4) as web:
        browser = Browser(web.base)
        browser.open_page(f"/i/{token}/record")
        status, _h, body = browser.send_json("POST", f"/i/{token}/questions/{qid}/takes",
                                             {"content_type": "video/webm"})
        assert status == 201, body
        base = f"/i/{token}/answers/{json.loads(body)['answer_id']}"

        def put(seq, data):
            def send():
                status, _h, body = browser.request("PUT", f"{base}/chunks/{seq}", data, {
                    "Content-Type": "application/octet-stream", "X-CSRFToken": browser.token})
                return status, json.loads(body)
            return send

        copies = at_once([put(0, first)] * 8)
        assert all(status == 200 for status, _ in copies), copies
        assert [r["duplicate"] for _, r in copies].count(False) == 1, copies
        assert {r["chunks"] for _, r in copies} == {1}
        status, refused = put(0, other)()
        assert status == 409 and "different content" in refused["error"], refused

        whole = hashlib.sha256(first + second).hexdigest()

        def finalize():
            return browser.send_json("POST", f"{base}/finalize", {"chunks": 2, "sha256": whole})

        raced = at_once([put(1, second)] * 4 + [finalize])
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
