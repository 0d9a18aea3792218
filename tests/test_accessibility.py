"""Every candidate page passes an axe-core WCAG 2.2 AA scan in headless Chromium, on a desktop
window and on a phone, and the phone pages fit the screen one-handed."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from app.extensions import db
from app.models import PromptMedia, new_public_id, utcnow
from app.storage import current_storage
from tests.browser import ROOT, chromium, live_server
from tests.conftest import BACKENDS
from tests.factories import make_candidate, make_interview, make_ready_answer, mark_completed

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PIXEL_7 = {"viewport": {"width": 412, "height": 915}, "device_scale_factor": 2.625,
           "is_mobile": True, "has_touch": True}
IPHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3,
          "is_mobile": True, "has_touch": True}
IPHONE_SIDEWAYS = {"viewport": {"width": 844, "height": 390}, "device_scale_factor": 3,
                   "is_mobile": True, "has_touch": True}
SMALL_PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 3,
               "is_mobile": True, "has_touch": True}
# Browser tests are slow: one backend is enough, PostgreSQL where the machine has it.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("backend", [BACKENDS[-1]], indirect=True),
]


@pytest.fixture(scope="module")
def browser(media_dir):
    with chromium(media_dir["y4m"], media_dir["speech"]) as b:
        yield b


@pytest.fixture
def base(app):
    with live_server(app) as url:
        yield url


@pytest.fixture
def open_page(browser):
    """open_page(device): a fresh page (own cookies) with that device's screen."""
    contexts = []

    def open_(device: dict):
        ctx = browser.new_context(**device)
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(30_000)
        return page

    yield open_
    for ctx in contexts:
        ctx.close()


def axe_violations(page) -> list[dict]:
    """Serious and critical WCAG 2.2 AA violations on the page as it is now.
    axe is injected through the DevTools protocol, which the page's strict CSP does not govern."""
    # Never skipped: `make test` installs axe-core, and a missing copy must fail loudly.
    assert AXE.exists(), "axe-core is not installed: run `npm ci` (make test does)"
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS)
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def assert_accessible(page, what: str) -> None:
    found = axe_violations(page)
    assert not found, f"{what}: {json.dumps(found, indent=1)}"


def wait_for_camera(page) -> None:
    """The preview plays the fake camera and the recorder offers its first action."""
    page.wait_for_function(
        "() => { const v = document.getElementById('preview');"
        " return v && v.readyState >= 2 && v.videoWidth > 0 && !v.paused; }", timeout=30_000)
    page.locator(".actions button:visible").first.wait_for(timeout=30_000)


def _think_candidate():
    """A candidate who has consented, with a long think time so the countdown stays on screen."""
    return make_candidate(make_interview(questions=2, think=120, answer=60))


def _completed_candidate():
    candidate, token = make_candidate(make_interview(questions=2))
    for i, q in enumerate(candidate.interview.questions):
        make_ready_answer(candidate, q, original_size=123_456 + i, original_sha256=f"{i}" * 64,
                          uploaded_at=utcnow())
    mark_completed(candidate)
    return candidate, token


def _with_prompts(interview, mp4: Path) -> None:
    """A welcome video and a video of the first question, ready (a real MP4, one caption cue)."""
    for question_id in (None, interview.questions[0].id):
        cue = {"start": 0.0, "end": 2.0, "text": "Why us?"}
        media = PromptMedia(public_id=new_public_id(), org_id=interview.org_id, interview_id=interview.id,
                            question_id=question_id, content_type="video/mp4", status="ready", width=640,
                            height=480, transcript={"text": "Why us?", "language": "en", "segments": [cue]})
        put = current_storage().put_file(f"prompts/{media.public_id}/prompt.mp4", mp4, "video/mp4")
        media.mp4_key, media.mp4_size = put.key, put.size
        db.session.add(media)
    db.session.commit()


@pytest.mark.parametrize("device", [DESKTOP, PIXEL_7], ids=["desktop", "pixel7"])
def test_prompt_videos_on_the_landing_and_record_pages_are_accessible(app, base, open_page, device,
                                                                      media_dir):
    candidate, token = _think_candidate()
    _with_prompts(candidate.interview, media_dir["mp4"])
    page = open_page(device)
    page.goto(f"{base}/i/{token}")
    page.locator("[data-welcome-video] video").wait_for()
    assert_accessible(page, "landing with a welcome video")
    page.goto(f"{base}/i/{token}/record")
    wait_for_camera(page)
    page.get_by_role("button", name="Continue to a practice question").click()
    page.get_by_role("button", name="Start recording now").click()
    page.get_by_role("button", name="Stop recording").click()
    page.get_by_role("button", name="Start the interview").click()
    page.locator("#prompt-video").wait_for()
    page.get_by_role("button", name="Skip to the thinking time").wait_for()
    assert_accessible(page, "record page, the question's video playing")


@pytest.mark.parametrize("device", [DESKTOP, PIXEL_7], ids=["desktop", "pixel7"])
def test_landing_and_consent_error_are_accessible(app, base, open_page, device):
    _, token = make_candidate(consent=False)
    page = open_page(device)
    page.goto(f"{base}/i/{token}")
    assert_accessible(page, "landing")
    # Sent without ticking the box (the browser's own check turned off): the error is shown.
    page.locator("form[action$='/consent']").evaluate("f => { f.noValidate = true; }")
    page.get_by_role("button", name="Agree and continue").click()
    page.get_by_role("alert").wait_for()
    # Focus lands on the box to tick, which reads out the error it is described by. The browser
    # applies `autofocus` at its next rendering step, which can come after the alert is in the page.
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'consent'",
                           timeout=5_000)
    assert page.evaluate("() => document.activeElement.getAttribute('aria-describedby')") == "consent-error"
    assert_accessible(page, "landing with the consent error")


@pytest.mark.parametrize("device", [DESKTOP, PIXEL_7], ids=["desktop", "pixel7"])
def test_apply_page_and_its_errors_and_the_link_page_are_accessible(app, base, open_page, device):
    from app.services import applying
    from tests.factories import make_user

    owner = make_user()
    token = applying.turn_on(owner, make_interview(owner))
    page = open_page(device)
    page.goto(f"{base}/apply/{token}")
    assert_accessible(page, "apply form")
    page.get_by_role("button", name="Get my interview link").click()
    page.get_by_role("alert").wait_for()
    assert page.locator("#f-email").get_attribute("aria-describedby") == "f-email-error"
    assert_accessible(page, "apply form with errors")
    page.get_by_label("Your name").fill("Grace Hopper")
    page.get_by_label("Your e-mail address").fill("grace@example.com")
    page.get_by_role("button", name="Get my interview link").click()
    page.locator("[data-invite-link]").wait_for()
    assert_accessible(page, "applied page with the invite link")


@pytest.mark.parametrize("device", [DESKTOP, PIXEL_7], ids=["desktop", "pixel7"])
def test_record_page_is_accessible(app, base, open_page, device):
    """Each stage before the first answer: device check, practice question, real question."""
    _, token = _think_candidate()
    page = open_page(device)
    page.goto(f"{base}/i/{token}/record")
    wait_for_camera(page)
    assert_accessible(page, "record page, device check")
    page.get_by_role("button", name="Continue to a practice question").click()
    page.locator("#timer").filter(has_text="Thinking time").wait_for()
    assert_accessible(page, "record page, practice question")
    # Practice answers stay in the browser, so recording one here sends nothing.
    page.get_by_role("button", name="Start recording now").click()
    page.get_by_role("button", name="Stop recording").wait_for()
    assert_accessible(page, "record page, recording the practice answer")
    page.get_by_role("button", name="Stop recording").click()
    page.locator("#playback").wait_for()
    assert_accessible(page, "record page, watching the practice answer")
    page.get_by_role("button", name="Start the interview").click()
    page.locator("#progress").filter(has_text="Question 1 of 2").wait_for()
    page.locator("#timer").filter(has_text="Thinking time").wait_for()
    assert_accessible(page, "record page, think countdown of question 1")


def test_done_data_and_error_pages_are_accessible(app, base, open_page):
    from app.models import User
    from app.services import grading

    candidate, token = _completed_candidate()
    owner = db.session.get(User, candidate.interview.created_by_id)
    grading.decide(owner, candidate, "reject", "", "Thank you; we chose others this time.")
    expired, expired_token = make_candidate()
    expired.expires_at = utcnow() - timedelta(days=1)
    db.session.commit()
    page = open_page(DESKTOP)
    page.goto(f"{base}/i/{token}")
    page.wait_for_url("**/done")
    assert_accessible(page, "done page")
    page.get_by_role("link", name="What we store about you").click()
    page.wait_for_url("**/data")
    assert_accessible(page, "data page")
    page.goto(f"{base}/i/{token}/about-you")
    assert_accessible(page, "the voluntary self-identification form")
    page.get_by_label("Female").check()
    page.get_by_role("button", name="Save my answers").click()
    page.wait_for_url("**/done?saved=about-you")
    assert_accessible(page, "done page, answers saved")
    page.goto(f"{base}/i/{token}/data")
    page.get_by_label("I want everything about me deleted for good.").check()
    page.get_by_role("button", name="Ask for deletion").click()
    page.wait_for_url("**/data#choices")
    assert page.locator("[data-field=deletion-countdown]").is_visible()
    assert_accessible(page, "data page with a deletion counting down")
    _, undecided_token = make_candidate(consent=False)
    page.goto(f"{base}/i/{undecided_token}/decline")
    assert_accessible(page, "another way to apply")
    assert page.goto(f"{base}/i/{expired_token}").status == 410
    assert_accessible(page, "expired link")
    assert page.goto(f"{base}/i/{'A' * 43}").status == 404
    assert_accessible(page, "unknown link")


def _fits(page, what: str) -> None:
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{what} scrolls sideways: {width}"


def _main_button_on_screen(page, what: str) -> None:
    """Where the page opens, without scrolling: the preview leaves room, the main button is on screen."""
    page.evaluate("() => window.scrollTo(0, 0)")
    found = page.evaluate("""() => {
        const b = [...document.querySelectorAll('.actions button.primary')]
            .find((x) => !x.hidden).getBoundingClientRect();
        return {preview: document.getElementById('preview').getBoundingClientRect().height,
                top: b.top, bottom: b.bottom, height: b.height, width: b.width,
                vh: window.innerHeight, vw: window.innerWidth};
    }""")
    assert found["preview"] <= 0.46 * found["vh"], (what, found)
    assert found["top"] >= 0 and found["bottom"] <= found["vh"], (what, found)
    assert found["height"] >= 44, (what, found)
    if found["vw"] <= 720:  # full width under the thumb when upright
        assert found["width"] >= 0.8 * found["vw"], (what, found)


@pytest.mark.parametrize("device", [IPHONE, PIXEL_7, SMALL_PHONE, IPHONE_SIDEWAYS],
                         ids=["iphone", "pixel7", "360px", "iphone-sideways"])
def test_candidate_pages_fit_a_phone(app, base, open_page, device):
    _, token = make_candidate(make_interview(questions=1, think=120, answer=60), consent=False)
    interview = make_interview(questions=1, think=120, answer=60)
    interview.questions[0].prompt = ("Tell us about a time you disagreed with a colleague about how "
                                     "to do a piece of work: what happened, and what did you learn?")
    db.session.commit()
    _, recording_token = make_candidate(interview)
    _, done_token = _completed_candidate()
    page = open_page(device)
    page.goto(f"{base}/i/{token}")
    _fits(page, "landing")
    button = page.get_by_role("button", name="Agree and continue")
    assert button.bounding_box()["height"] >= 44
    assert page.locator("#consent").bounding_box()["width"] >= 24  # WCAG 2.5.8 target size
    page.goto(f"{base}/i/{recording_token}/record")
    wait_for_camera(page)
    _main_button_on_screen(page, "device check")
    page.get_by_role("button", name="Continue to a practice question").click()
    page.get_by_role("button", name="Start the interview").click()
    page.locator("#progress").filter(has_text="Question 1 of 1").wait_for()
    page.locator("#timer").filter(has_text="Thinking time").wait_for()
    _fits(page, "record page")
    _main_button_on_screen(page, "think countdown")
    for path in ("done", "data"):
        page.goto(f"{base}/i/{done_token}/{path}")
        _fits(page, f"{path} page")


def test_consent_works_by_keyboard_alone(app, base, open_page):
    _, token = make_candidate(consent=False)
    page = open_page(DESKTOP)
    page.goto(f"{base}/i/{token}")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Skip to content"
    for _ in range(20):  # what comes before it in the page: links, other forms
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.id") == "consent":
            break
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Agree and continue"
    page.keyboard.press("Enter")
    page.wait_for_url("**/record")
