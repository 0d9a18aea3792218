"""Nothing recorded is lost: a network cut mid-answer, a reload mid-recording, a reload before the
answer was confirmed, and a phone that records MP4 — in headless Chromium on the real pages; and
the last chunk carries the finalize."""

from __future__ import annotations

import hashlib
import re
import subprocess
import time

import pytest

from app.extensions import db
from app.models import Answer
from app.states import AnswerStatus
from app.storage import current_storage
from tests.browser import chromium, live_server, wait_for
from tests.conftest import BACKENDS
from tests.factories import make_candidate, make_interview

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", [BACKENDS[-1]], indirect=True)]


def _begin(page, base: str, token: str) -> None:
    """Consent, then pass the device check and the practice question quickly."""
    page.goto(f"{base}/i/{token}")
    page.get_by_label("I agree to be recorded").check()
    page.get_by_role("button", name="Agree and continue").click()
    page.get_by_role("button", name="Continue to a practice question").click(timeout=20_000)
    page.get_by_role("button", name="Start the interview").click()


def _record_unsent(page, base: str, token: str) -> None:
    """Record a 4 s answer that the server never receives: every chunk stays in the browser."""
    _begin(page, base, token)
    page.route("**/chunks/*", lambda route: route.abort())
    page.get_by_role("button", name="Start recording now").click()
    page.wait_for_timeout(4000)
    page.get_by_role("button", name="Stop recording").click()
    page.get_by_text("Connection problem").wait_for(timeout=20_000)
    # The page keeps the take as stopped (whole) only once the recorder has stopped: wait for it,
    # or a page closed at once leaves a take the next visit counts as cut off.
    page.wait_for_function(_STOPPED_TAKE_KEPT, timeout=20_000)


_STOPPED_TAKE_KEPT = """() => new Promise((resolve) => {
  const opened = indexedDB.open("oneway-recordings");
  opened.onerror = () => resolve(false);
  opened.onsuccess = () => {
    const db = opened.result;
    if (!db.objectStoreNames.contains("takes")) { db.close(); return resolve(false); }
    const all = db.transaction("takes", "readonly").objectStore("takes").getAll();
    all.onsuccess = () => { db.close(); resolve(all.result.some((t) => t.stopped)); };
    all.onerror = () => { db.close(); resolve(false); };
  };
})"""


def _receipt(page):
    page.locator("#receipt").filter(has_text="Answer received").wait_for(timeout=60_000)


def _record_for(page, ms: int) -> None:
    """Record an answer of `ms` milliseconds and wait for its receipt."""
    page.get_by_role("button", name="Start recording now").click()
    page.wait_for_timeout(ms)
    page.get_by_role("button", name="Stop recording").click()
    _receipt(page)


def _answers(question_position: int | None = None) -> list[Answer]:
    db.session.expire_all()
    rows = db.session.execute(db.select(Answer).order_by(Answer.id)).scalars().all()
    return [a for a in rows if question_position is None or a.question.position == question_position]


def _join(app, answer_id: int) -> None:
    """Run the answer's first stage, which joins its chunks into the original (jobs/join.py)."""
    import jobs
    import jobs.join

    jobs.use_app(app)
    try:
        jobs.join.run(answer_id)
    finally:
        jobs.use_app(None)


def _assert_joined_whole(app, answer_id: int, tmp_path) -> None:
    """Join the answer's chunks as its first stage does; the original is the recorder's bytes
    (the join keeps it only when it matches the browser's checksum) and plays for as long as
    the browser recorded."""
    _join(app, answer_id)
    [answer] = [a for a in _answers() if a.id == answer_id]
    data = current_storage().get_bytes(answer.original_key)
    assert hashlib.sha256(data).hexdigest() == answer.original_sha256
    assert abs(_played_seconds(data, tmp_path) - answer.client_duration_ms / 1000) < 1.0


def _played_seconds(data: bytes, tmp_path) -> float:
    """Decode the whole file; fail on any decoding error; return how long it played."""
    path = tmp_path / "original.webm"
    path.write_bytes(data)
    proc = subprocess.run(["ffmpeg", "-nostdin", "-v", "info", "-i", str(path), "-f", "null", "-"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    errors = [line for line in proc.stderr.splitlines() if "error" in line.lower()]
    assert not errors, errors
    h, m, s = re.findall(r"time=(\d+):(\d+):([\d.]+)", proc.stderr)[-1]
    return int(h) * 3600 + int(m) * 60 + float(s)


def test_network_cut_mid_answer_loses_nothing(app, media_dir, tmp_path):
    _cand, token = make_candidate(make_interview(questions=1, think=30, answer=30), consent=False)
    with live_server(app) as base, chromium(media_dir["y4m"], media_dir["speech"]) as browser:
        context = browser.new_context()
        page = context.new_page()
        _begin(page, base, token)
        page.get_by_role("button", name="Start recording now").click()
        page.wait_for_timeout(2000)
        context.set_offline(True)
        page.wait_for_timeout(1000)
        at_cut = _answers()[0].chunk_count
        page.wait_for_timeout(4000)
        before_back = _answers()[0].chunk_count
        context.set_offline(False)
        page.wait_for_timeout(1500)
        page.get_by_role("button", name="Stop recording").click()
        _receipt(page)
    assert before_back == at_cut, "nothing reached the server while offline"
    [answer] = _answers()
    # The 5 s recorded offline were sent after, in fewer chunks: the pieces made while one chunk
    # was waiting for the network went together as the next (the whole take plays through below).
    assert answer.chunk_count >= before_back + 2, "the chunks recorded offline were sent after"
    assert answer.status == AnswerStatus.UPLOADED and answer.client_duration_ms >= 8000
    _assert_joined_whole(app, answer.id, tmp_path)


class _SlowChunks:
    """A server that takes `delay` seconds over every chunk, as one serving hundreds of candidates
    at once does (issue 22)."""

    def __init__(self, wsgi, delay: float):
        self.wsgi, self.delay = wsgi, delay

    def __call__(self, environ, start_response):
        if environ["REQUEST_METHOD"] == "PUT" and "/chunks/" in environ["PATH_INFO"]:
            time.sleep(self.delay)
        return self.wsgi(environ, start_response)


def test_a_slow_server_gets_fewer_larger_chunks_of_the_same_recording(app, media_dir, tmp_path):
    """The recorder makes a piece a second; while a chunk waits 2.5 s for its acknowledgement,
    the pieces made meanwhile go together as the next chunk, so the upload keeps up with the
    recording instead of falling a second further behind with every chunk."""
    _cand, token = make_candidate(make_interview(questions=1, think=30, answer=30), consent=False)
    plain, app.wsgi_app = app.wsgi_app, _SlowChunks(app.wsgi_app, 2.5)
    try:
        with live_server(app) as base, chromium(media_dir["y4m"], media_dir["speech"]) as browser:
            page = browser.new_page()
            _begin(page, base, token)
            _record_for(page, 10_000)
    finally:
        app.wsgi_app = plain
    [answer] = _answers()
    assert answer.status == AnswerStatus.UPLOADED and answer.client_duration_ms >= 9500
    # About 10 pieces: sent one a chunk, they would be 10 or 11 chunks (the last acknowledged
    # some 15 s after the stop); joined while each chunk waits, about 5.
    assert 2 <= answer.chunk_count <= 6, answer.chunk_count
    _assert_joined_whole(app, answer.id, tmp_path)


class _Requests:
    """Notes what the page sends: (method, path, whether it carried the finalize's headers)."""

    def __init__(self, wsgi):
        self.wsgi, self.seen = wsgi, []

    def __call__(self, environ, start_response):
        self.seen.append((environ["REQUEST_METHOD"], environ["PATH_INFO"],
                          "HTTP_X_RECORDING_SHA256" in environ))
        return self.wsgi(environ, start_response)


def test_the_last_chunk_carries_the_finalize(app, media_dir, tmp_path):
    """After Stop the recorder sends its last chunk with the finalize (the chunk count, the whole
    recording's SHA-256 and its duration), so the receipt comes one request sooner; no
    finalize of its own is sent, and what is kept is the recording, whole."""
    _cand, token = make_candidate(make_interview(questions=1, think=30, answer=30), consent=False)
    plain, app.wsgi_app = app.wsgi_app, _Requests(app.wsgi_app)
    try:
        with live_server(app) as base, chromium(media_dir["y4m"], media_dir["speech"]) as browser:
            page = browser.new_page()
            _begin(page, base, token)
            _record_for(page, 4000)
        seen = app.wsgi_app.seen
    finally:
        app.wsgi_app = plain
    [answer] = _answers()
    chunks = [(path, closing) for method, path, closing in seen if method == "PUT" and "/chunks/" in path]
    assert not [path for method, path, _c in seen if path.endswith("/finalize")], seen
    assert [closing for _p, closing in chunks] == [False] * (len(chunks) - 1) + [True], chunks
    assert answer.status == AnswerStatus.UPLOADED and answer.chunk_count == len(chunks)
    assert answer.client_duration_ms >= 3500
    _assert_joined_whole(app, answer.id, tmp_path)


def test_reload_mid_recording_resumes_and_costs_no_take(app, media_dir):
    interview = make_interview(questions=2, think=30, answer=30, takes=2)
    _cand, token = make_candidate(interview, consent=False)
    with live_server(app) as base, chromium(media_dir["y4m"], media_dir["speech"]) as browser:
        page = browser.new_page()
        _begin(page, base, token)
        _record_for(page, 3000)
        page.get_by_role("button", name="Keep and go to the next question").click()
        page.get_by_role("button", name="Start recording now").click()
        page.wait_for_timeout(2500)
        page.reload()  # the tab is reloaded in the middle of the second answer
        page.get_by_text("Question 2 of 2 · takes left: 2").wait_for(timeout=20_000)
        _record_for(page, 3000)
        assert page.get_by_role("button", name="Record again (1 take left)").is_visible()
        page.get_by_role("button", name="Keep and finish the interview").click()
        page.wait_for_url("**/done")
    first, second = _answers(0), _answers(1)
    assert [a.status for a in first] == [AnswerStatus.UPLOADED]
    # The take cut off by the reload was let go at the browser's word; the next one was kept.
    assert [a.status for a in second] == [AnswerStatus.UPLOADED]


def test_take_stopped_but_never_confirmed_is_sent_after_a_reload(app, media_dir, tmp_path):
    _cand, token = make_candidate(make_interview(questions=1, think=30, answer=30), consent=False)
    with live_server(app) as base, chromium(media_dir["y4m"], media_dir["speech"]) as browser:
        page = browser.new_page()
        _record_unsent(page, base, token)
        [open_take] = _answers()
        assert open_take.status == AnswerStatus.RECORDING and open_take.chunk_count == 0
        page.unroute("**/chunks/*")
        page.reload()
        page.locator("#receipt").filter(has_text="kept in this browser, was sent and received").wait_for(
            timeout=60_000)
        assert page.get_by_text("You have answered every question.").is_visible()
    [answer] = _answers()
    assert answer.id == open_take.id and answer.status == AnswerStatus.UPLOADED
    # The first piece was refused and retried; the pieces made meanwhile were kept as one chunk
    # (app/static/js/uploader.js), and that is what the browser kept and sent after the reload.
    assert answer.chunk_count >= 2 and answer.client_duration_ms >= 3500
    _assert_joined_whole(app, answer.id, tmp_path)


def test_hardening_a_whole_take_the_server_let_go_is_sent_again_from_the_browser(app, media_dir):
    """The server lets go of a take that hears nothing for a day; a browser that still holds the
    whole recording sends it again, as a new take, when the candidate comes back."""
    from datetime import timedelta

    from app.models import utcnow
    from app.services.takes import let_go_abandoned

    _cand, token = make_candidate(make_interview(questions=1, think=30, answer=30), consent=False)
    with live_server(app) as base, chromium(media_dir["y4m"], media_dir["speech"]) as browser:
        context = browser.new_context()  # one profile: its IndexedDB outlives the page
        page = context.new_page()
        _record_unsent(page, base, token)
        [open_take] = _answers()
        let_go_id = open_take.id
        page.close()  # the candidate leaves with the recording kept in the browser
        assert let_go_abandoned(utcnow() + timedelta(hours=25)) == 1
        assert _answers() == []
        page = context.new_page()
        page.goto(f"{base}/i/{token}/record")
        page.locator("#receipt").filter(has_text="kept in this browser, was sent and received").wait_for(
            timeout=60_000)
        assert page.get_by_text("You have answered every question.").is_visible()
    [answer] = _answers()
    assert answer.id != let_go_id and answer.status == AnswerStatus.UPLOADED and answer.chunk_count >= 2
    assert answer.client_duration_ms >= 3500


def test_phone_that_records_mp4_is_handled_end_to_end(app, media_dir, run_jobs, tmp_path):
    _cand, token = make_candidate(make_interview(questions=1, think=30, answer=30), consent=False)
    only_mp4 = """
      const original = MediaRecorder.isTypeSupported.bind(MediaRecorder);
      MediaRecorder.isTypeSupported = (t) => t.startsWith('video/mp4') && original(t);
    """
    with live_server(app) as base, chromium(media_dir["y4m"], media_dir["speech"]) as browser:
        context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                      has_touch=True, device_scale_factor=3)
        context.add_init_script(only_mp4)
        page = context.new_page()
        _begin(page, base, token)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.get_by_role("button", name="Start recording now").tap()
        page.wait_for_timeout(4000)
        page.get_by_role("button", name="Stop recording").tap()
        _receipt(page)
    [answer] = _answers()
    assert answer.content_type.startswith("video/mp4")
    run_jobs()
    answer = wait_for(lambda: (a := _answers()[0]).status in (AnswerStatus.READY, AnswerStatus.FAILED) and a,
                      timeout=120, what="processing")
    assert answer.status == AnswerStatus.READY, answer.failure_reason
    assert answer.original_key.endswith(".mp4")
    assert answer.duration_s and abs(answer.duration_s - answer.client_duration_ms / 1000) < 1.0


def test_extra_time_audio_only_and_written_answers_in_the_browser(app, media_dir, run_jobs):
    from tests.factories import make_user
    from tests.helpers import CsrfClient

    owner = make_user()
    interview = make_interview(owner, questions=2, think=30, answer=5, takes=1)
    interview.accommodations = "auto"
    interview.questions[0].kind, interview.questions[1].kind = "audio", "written"
    db.session.commit()
    cand, token = make_candidate(interview, owner, consent=False)
    with live_server(app) as base, chromium(media_dir["y4m"], media_dir["speech"]) as browser:
        page = browser.new_page()
        page.goto(f"{base}/i/{token}")
        page.get_by_label("Time on every question").select_option("2")
        page.get_by_role("button", name="Ask for more time").click()
        page.locator("[data-accommodation=granted]").wait_for()
        page.get_by_label("I agree to be recorded").check()
        page.get_by_role("button", name="Agree and continue").click()
        page.get_by_role("button", name="Continue to a practice question").click(timeout=20_000)
        page.get_by_role("button", name="Start the interview").click()
        # Audio only, 5 s doubled to 10 s: the countdown says so, and it stops itself.
        page.get_by_text("sound only, your camera is not recorded").wait_for()
        page.get_by_role("button", name="Start recording now").click()
        page.get_by_text("Time left: 0:10").wait_for(timeout=5_000)
        _receipt(page)
        page.get_by_role("button", name="Keep and go to the next question").click()
        page.get_by_role("button", name="Start writing now").click()
        page.get_by_label("Your answer").fill("I would start by measuring.\nThen I would fix it.")
        page.get_by_role("button", name="Send my answer").click()
        _receipt(page)
        page.get_by_role("button", name="Keep and finish the interview").click()
        page.wait_for_url("**/done")
    audio, written = _answers(0)[0], _answers(1)[0]
    assert audio.content_type.startswith("audio/") and 9.0 <= audio.client_duration_ms / 1000 <= 11.5
    assert written.status == AnswerStatus.READY and written.written_text.startswith("I would start")
    run_jobs()
    audio = _answers(0)[0]
    assert audio.status == AnswerStatus.READY, audio.failure_reason
    assert audio.width is None and audio.poster_key is None and audio.mp4_key.endswith(".m4a")
    staff = CsrfClient(app.test_client())
    staff.login(owner.email)
    html = staff.get(f"/review/candidates/{cand.public_id}").get_data(as_text=True)
    assert "data-written" in html and "Then I would fix it." in html
    assert f'data-answer="{audio.public_id}"' in html and "<audio" in html
