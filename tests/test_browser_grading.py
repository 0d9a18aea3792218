"""A grader grades a candidate with the keyboard alone in headless Chromium; another grader's score
stays out of the page until the first has submitted."""

from __future__ import annotations

import subprocess

import pytest

from app.extensions import db
from app.models import Review, Score
from app.services import interviews
from tests.browser import CHROMIUM, live_server, signed_in_page
from tests.conftest import BACKENDS
from tests.factories import (
    PASSWORD,
    make_candidate,
    make_interview,
    make_media_answer,
    make_scores,
    make_user,
)

pytestmark = pytest.mark.browser

WORDS = ["first", "second", "third", "fourth", "fifth", "sixth"]


@pytest.fixture(scope="module")
def mp4(tmp_path_factory) -> bytes:
    """Twelve seconds of test pattern and tone, H.264/AAC with the index up front."""
    out = tmp_path_factory.mktemp("grading") / "answer.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10",
                    "-f", "lavfi", "-i", "sine=frequency=440", "-t", "12", "-c:v", "libx264",
                    "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags", "+faststart",
                    str(out)], check=True, timeout=60)
    return out.read_bytes()


def _transcript() -> dict:
    words = [{"word": w, "start": 2.0 * i, "end": 2.0 * i + 1.5} for i, w in enumerate(WORDS)]
    return {"language": "en", "text": " ".join(WORDS),
            "segments": [{"start": 0.0, "end": 12.0, "text": " ".join(WORDS), "words": words}]}


def _media(page) -> dict:
    return page.evaluate("""() => { const v = document.querySelector('section.answer video');
        return {t: v.currentTime, paused: v.paused, rate: v.playbackRate,
                captions: v.textTracks[0] && v.textTracks[0].mode}; }""")


@pytest.mark.parametrize("backend", [BACKENDS[-1]], indirect=True)
def test_grader_grades_a_candidate_with_the_keyboard_alone(app, backend, mp4):
    from playwright.sync_api import expect, sync_playwright

    owner = make_user(role="owner")
    alice = make_user(org=owner.organisation, role="reviewer")
    bob = make_user(org=owner.organisation, role="reviewer")
    interview = make_interview(owner, questions=2)
    cand, _ = make_candidate(interview)
    later, _ = make_candidate(interview)
    for c in (cand, later):
        for q in interview.questions:
            make_media_answer(c, q, data=mp4, transcript=_transcript(), duration_s=12.0)
    make_scores(alice, cand, [1, 2])  # comments "comment 1 by ..." and an overall "overall by ..."
    rubric_iv = make_interview(owner, questions=1)
    interviews.set_rubric(owner, rubric_iv, rubric_iv.questions[0].public_id, "", "Clarity\nDepth")
    rubric_cand, _ = make_candidate(rubric_iv)
    make_media_answer(rubric_cand, rubric_iv.questions[0], data=mp4, transcript=_transcript())

    with live_server(app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--autoplay-policy=no-user-gesture-required"])
        try:
            page = browser.new_page()
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{base}/login")
            page.get_by_label("Email").fill(bob.email)
            page.get_by_label("Password").fill(PASSWORD)
            page.keyboard.press("Enter")
            page.wait_for_url(f"{base}/")
            page.goto(f"{base}/review/candidates/{cand.public_id}")
            page.locator("[data-controls]").first.wait_for(state="visible")
            # Blind: nothing of Alice's is on the page before Bob submits.
            assert "comment 1 by" not in page.content() and page.locator("[data-summary]").count() == 0

            page.keyboard.press("?")
            expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
            page.keyboard.press("Escape")
            expect(page.locator("[data-help]")).to_be_hidden()

            page.keyboard.press("k")
            page.wait_for_function("() => !document.querySelector('section.answer video').paused")
            page.keyboard.press("k")
            page.wait_for_function("() => document.querySelector('section.answer video').paused")
            start = _media(page)["t"]
            page.keyboard.press("l")
            assert _media(page)["t"] >= min(start + 9.9, 11.9)
            page.keyboard.press("j")
            assert _media(page)["t"] <= start + 0.5
            page.keyboard.press(">")
            page.keyboard.press(">")
            assert _media(page)["rate"] == 1.5
            page.keyboard.press("<")
            assert _media(page)["rate"] == 1.25
            assert _media(page)["captions"] == "showing"
            page.keyboard.press("c")
            assert _media(page)["captions"] == "hidden"

            # The transcript: a click on a word seeks there and that word lights up.
            page.locator("section.answer").first.locator(".w", has_text="fourth").click()
            page.wait_for_function("() => document.querySelector('section.answer video').currentTime >= 6")
            expect(page.locator("section.answer").first.locator(".w.now")).to_have_count(1)
            page.keyboard.press("k")  # pause (the click started playback)

            page.keyboard.press("Escape")
            page.keyboard.press("p")  # back to question 1 whatever the click focused
            page.keyboard.press("4")
            first = page.locator("section.answer").nth(0)
            expect(first.locator("[data-saved-score]")).to_have_attribute("data-saved-score", "4")
            page.keyboard.press("5")  # the digit moved on to question 2
            second = page.locator("section.answer").nth(1)
            expect(second.locator("[data-saved-score]")).to_have_attribute("data-saved-score", "5")

            page.keyboard.press("g")
            page.keyboard.press("ArrowRight")  # from "Strong yes" to "Yes"
            page.keyboard.press("Tab")
            page.keyboard.type("Clear answers.")
            page.keyboard.press("Tab")
            page.keyboard.press("Enter")
            page.locator("[data-summary]").wait_for()
            assert "comment 1 by" in page.content()  # now Alice's scores show

            # The page came back from the submit: its keys work once review.js has run again.
            page.locator("[data-controls]").first.wait_for(state="visible")
            page.keyboard.press("Shift+N")
            page.wait_for_url(f"**/review/candidates/{later.public_id}")

            # A search hit opens the answer at the moment the word is said.
            page.goto(f"{base}/interviews/{interview.public_id}/search?q=fourth")
            page.locator("[data-hit] a").nth(2).click()  # the later candidate's first answer
            page.wait_for_url(f"**/review/candidates/{later.public_id}?t=6.00#q-*")
            page.wait_for_function("() => document.querySelector('section.answer.current video')"
                                   ".currentTime >= 5.9")
            expect(page.locator("section.answer.current .w.now")).to_have_text("fourth")

            # With criteria, one digit per criterion; the last one saves their rounded mean.
            page.goto(f"{base}/review/candidates/{rubric_cand.public_id}")
            page.locator("[data-controls]").first.wait_for(state="visible")
            page.keyboard.press("4")
            page.keyboard.press("5")
            expect(page.locator("[data-saved-score]")).to_have_attribute("data-saved-score", "5")
            assert not errors, errors
        finally:
            browser.close()

    db.session.expire_all()
    scores = db.session.execute(db.select(Score.value).filter_by(user_id=bob.id, candidate_id=cand.id)
                                .order_by(Score.question_id)).scalars().all()
    assert scores == [4, 5]
    review = db.session.execute(db.select(Review).filter_by(user_id=bob.id)).scalar_one()
    assert (review.recommendation, review.comment) == ("yes", "Clear answers.")
    assert db.session.execute(db.select(Score.criteria).filter_by(
        user_id=bob.id, candidate_id=rubric_cand.id)).scalar_one() == [4, 5]


@pytest.mark.parametrize("backend", [BACKENDS[-1]], indirect=True)
def test_keyboard_help_keeps_focus_inside_and_gives_it_back(app, backend):
    from playwright.sync_api import expect

    owner = make_user(role="owner")
    interview = make_interview(owner, questions=2)
    cand, _ = make_candidate(interview)
    for q in interview.questions:
        make_media_answer(cand, q)
    inside = "() => document.querySelector('[data-help]').contains(document.activeElement)"
    with live_server(app) as base, signed_in_page(base, owner, PASSWORD) as page:
        page.goto(f"{base}/review/candidates/{cand.public_id}")
        dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
        opener = page.get_by_role("button", name="Keyboard shortcuts")
        opener.focus()
        page.keyboard.press("Enter")
        expect(dialog).to_be_visible()
        expect(dialog).to_have_attribute("aria-modal", "true")
        expect(dialog.get_by_role("button", name="Close")).to_be_focused()
        for key in ("Tab", "Tab", "Tab", "Shift+Tab", "Shift+Tab", "Shift+Tab"):
            page.keyboard.press(key)
            assert page.evaluate(inside), f"{key} left the dialog"
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
        expect(opener).to_be_focused()

        # Opened with "?" from question 2: Escape, or a click beside the card, goes back there.
        page.keyboard.press("n")
        question2 = page.locator("section.answer h2").nth(1)
        expect(question2).to_be_focused()
        page.keyboard.press("?")
        expect(dialog).to_be_visible()
        page.keyboard.press("Shift+Tab")
        assert page.evaluate(inside)
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
        expect(question2).to_be_focused()
        page.keyboard.press("?")
        page.mouse.click(5, 5)
        expect(dialog).to_be_hidden()
        expect(question2).to_be_focused()
        assert not page.errors, page.errors
