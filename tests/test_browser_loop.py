"""The whole loop in a real browser: a candidate records two answers, a real worker processes
them, and a grader plays them (H.264/AAC MP4, seekable), reads the transcript and scores."""

from __future__ import annotations

import json
import subprocess

import pytest

from app.extensions import db
from app.models import Answer, Candidate
from app.states import AnswerStatus
from tests.browser import chromium, live_server, rq_worker, wait_for
from tests.conftest import BACKENDS, worker_env
from tests.factories import PASSWORD, make_candidate, make_interview, make_user
from tests.media import HEARD

pytestmark = [pytest.mark.browser, pytest.mark.processes]

RECORD_SECONDS = 4



def _ffprobe(path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_format",
                          "-show_streams", str(path)], capture_output=True, check=True, text=True)
    return json.loads(out.stdout)


def _record_one(page, number: int, by_hand: bool) -> None:
    """By hand: start early and stop after a few seconds. Otherwise the think countdown starts
    the recording and the answer limit stops it."""
    if by_hand:
        page.get_by_role("button", name="Start recording now").click()
    page.get_by_role("button", name="Stop recording").wait_for(state="visible", timeout=15_000)
    if by_hand:
        page.wait_for_timeout(RECORD_SECONDS * 1000)
        page.get_by_role("button", name="Stop recording").click()
    try:
        page.locator("#receipt").filter(has_text="Answer received").wait_for(timeout=30_000)
    except Exception:
        raise AssertionError(f"no receipt for answer {number}: status={page.inner_text('#status')!r} "
                             f"error={page.inner_text('#error')!r} console={page.console!r}") from None


# One backend is enough for this slow test: PostgreSQL where the machine has it.
@pytest.mark.parametrize("backend", [BACKENDS[-1]], indirect=True)
def test_candidate_records_two_answers_and_grader_reviews_them(app, servers, databases, backend,
                                                              media_dir, tmp_path):
    owner = make_user(role="owner")
    interview = make_interview(owner, questions=2, think=30, answer=20, takes=2)
    interview.questions[1].think_seconds, interview.questions[1].answer_seconds = 2, 5
    db.session.commit()
    candidate, token = make_candidate(interview, owner, consent=False)
    env = worker_env(servers, databases[0][backend])

    with live_server(app) as base, rq_worker(env, tmp_path / "worker.log"), \
            chromium(media_dir["y4m"], media_dir["speech"]) as browser:
        # The candidate: consent, then two recorded answers, then finish.
        page = browser.new_page()
        console = page.console = []
        page.on("console", lambda m: console.append(m.text))
        page.on("requestfailed", lambda r: console.append(f"failed {r.url} {r.failure}"))
        page.goto(f"{base}/i/{token}")
        page.get_by_label("I agree to be recorded").check()
        page.get_by_role("button", name="Agree and continue").click()
        page.wait_for_url("**/record")
        # Device check and practice: recorded and played back in the page, never uploaded.
        sent = []
        page.on("request", lambda r: sent.append(r.url) if r.method != "GET" else None)
        page.get_by_role("button", name="Record a 3-second test").click()
        page.get_by_role("button", name="Continue to a practice question").wait_for(timeout=20_000)
        assert page.locator("#playback").is_visible()
        page.get_by_role("button", name="Continue to a practice question").click()
        page.get_by_role("button", name="Start recording now").click()
        page.wait_for_timeout(2000)
        page.get_by_role("button", name="Stop recording").click()
        page.get_by_role("button", name="Practise again").wait_for()
        assert page.locator("#playback").evaluate("v => v.src.startsWith('blob:')")
        assert sent == [], sent
        page.get_by_role("button", name="Start the interview").click()
        # Question 1, twice: the second take is the one kept.
        _record_one(page, 1, by_hand=True)
        page.get_by_role("button", name="Record again (1 take left)").click()
        _record_one(page, 1, by_hand=True)
        assert page.get_by_role("button", name="Record again").count() == 0  # no takes left
        page.get_by_role("button", name="Keep and go to the next question").click()
        _record_one(page, 2, by_hand=False)
        page.get_by_role("button", name="Keep and finish the interview").click()
        page.wait_for_url("**/done")
        assert page.locator("[data-receipt]").count() == 2

        def all_ready():
            db.session.expire_all()
            answers = db.session.execute(db.select(Answer)).scalars().all()
            failed = [a.failure_reason for a in answers if a.status == AnswerStatus.FAILED]
            assert not failed, failed
            done = len(answers) == 3 and all(a.status == AnswerStatus.READY for a in answers)
            return done and [a for a in answers if not (a.question.position == 0 and a.take == 1)]

        answers = wait_for(all_ready, timeout=240, what="both answers to be ready")
        wait_for(lambda: db.session.get(Candidate, candidate.id).package_key
                 or db.session.expire_all(), timeout=60, what="the candidate package")

        # The grader: sign in, open the candidate, play and check each answer, score one.
        grader = browser.new_page()
        grader.goto(f"{base}/login")
        grader.get_by_label("Email").fill(owner.email)
        grader.get_by_label("Password").fill(PASSWORD)
        grader.get_by_role("button", name="Sign in").click()
        grader.goto(f"{base}/review/candidates/{candidate.public_id}")
        videos = grader.locator("video[data-answer]")
        assert videos.count() == 2
        transcripts = grader.locator("[data-transcript]")
        for i, answer in enumerate(sorted(answers, key=lambda a: a.question.position)):
            src = videos.nth(i).get_attribute("src")
            head = grader.request.get(f"{base}{src}", headers={"Range": "bytes=0-99"})
            assert head.status == 206 and len(head.body()) == 100
            assert head.headers["content-range"] == f"bytes 0-99/{answer.mp4_size}"
            full = grader.request.get(f"{base}{src}")
            mp4 = tmp_path / f"answer{i}.mp4"
            mp4.write_bytes(full.body())
            info = _ffprobe(mp4)
            codecs = {s["codec_type"]: s["codec_name"] for s in info["streams"]}
            assert codecs == {"video": "h264", "audio": "aac"}
            recorded = answer.client_duration_ms / 1000
            if i == 1:  # stopped by the 5 s limit, not by hand
                assert 4.5 <= recorded <= 6.0, recorded
            assert abs(float(info["format"]["duration"]) - recorded) < 1.0, (info["format"], recorded)
            text = transcripts.nth(i).inner_text().lower()
            assert any(k in text for k in HEARD), text
            assert grader.locator(f"video[data-answer='{answer.public_id}'] track").count() == 1
        # The browser itself can play the first answer and seek in it.
        played = grader.evaluate("""async () => {
            const v = document.querySelector('video[data-answer]');
            v.muted = true; await v.play(); await new Promise(r => setTimeout(r, 500));
            v.currentTime = 2; await new Promise(r => v.addEventListener('seeked', r, {once: true}));
            return {t: v.currentTime, d: v.duration, tracks: v.textTracks.length};
        }""")
        assert played["t"] >= 1.9 and played["d"] > 3 and played["tracks"] == 1
        first = grader.locator("section.answer").first
        first.get_by_label("4").check()
        first.get_by_label("Comment").fill("Clear and concise.")
        first.get_by_role("button", name="Save score").click()
        grader.wait_for_load_state()
        first = grader.locator("section.answer").first
        assert first.locator("[data-saved-score]").get_attribute("data-saved-score") == "4"
        assert first.get_by_label("Comment").input_value() == "Clear and concise."
