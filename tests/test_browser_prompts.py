"""A hiring manager records a question on video in a real browser; a real worker makes its MP4 and
captions; a candidate sees it played, captions on, before the thinking time starts."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import PromptMedia
from app.states import AnswerStatus
from tests.browser import chromium, chromium_args, live_server, rq_worker, signed_in_page, wait_for
from tests.conftest import BACKENDS, worker_env
from tests.factories import PASSWORD, make_candidate, make_interview, make_user

pytestmark = [pytest.mark.browser, pytest.mark.processes]

ASKING_SECONDS = 4


def _ready_prompt():
    db.session.expire_all()
    media = db.session.execute(db.select(PromptMedia)).scalar_one_or_none()
    assert media is None or media.status != AnswerStatus.FAILED, media.failure_reason
    return media if media is not None and media.status == AnswerStatus.READY else None


@pytest.mark.parametrize("backend", [BACKENDS[-1]], indirect=True)
def test_a_recorded_video_question_is_played_to_the_candidate_before_the_thinking_time(
        app, servers, databases, backend, media_dir, tmp_path):
    owner = make_user(role="owner")
    interview = make_interview(owner, questions=1, think=30, answer=20)
    question = interview.questions[0]
    _candidate, token = make_candidate(interview, owner)
    env = worker_env(servers, databases[0][backend])
    fake_devices = tuple(chromium_args(media_dir["y4m"], media_dir["speech"]))

    with live_server(app) as base, rq_worker(env, tmp_path / "worker.log", queues=("media", "asr")):
        # The hiring manager records the question on the question's editing page.
        with signed_in_page(base, owner, PASSWORD, fake_devices) as page:
            page.goto(f"{base}/interviews/{interview.public_id}/questions/{question.public_id}/edit")
            page.get_by_role("button", name="Start recording").click()
            stop = page.get_by_role("button", name="Stop and use this recording")
            stop.wait_for(timeout=15_000)
            page.wait_for_timeout(ASKING_SECONDS * 1000)
            stop.click()
            page.locator("[data-prompt-status]").wait_for(timeout=30_000)  # the page again, after sending
            assert not page.errors, page.errors
        media = wait_for(_ready_prompt, timeout=240, interval=1, what="the prompt to be processed")
        assert media.mp4_key and media.captions_key and media.transcript["segments"], media.transcript

        # The candidate: through the device check and practice to the first question.
        with chromium(media_dir["y4m"], media_dir["speech"]) as browser:
            page = browser.new_page()
            page.goto(f"{base}/i/{token}/record")
            page.get_by_role("button", name="Record a 3-second test").click()
            page.get_by_role("button", name="Continue to a practice question").click(timeout=20_000)
            page.get_by_role("button", name="Start recording now").click()
            page.get_by_role("button", name="Stop recording").click(timeout=15_000)
            page.get_by_role("button", name="Start the interview").click(timeout=15_000)
            # The question's video plays, with its captions showing and its words on the page; the
            # thinking time has not started, and the keyboard is on the button that skips to it.
            video = page.locator("#prompt-video")
            video.wait_for(state="visible", timeout=10_000)
            assert page.inner_text("#prompt") == question.prompt
            assert "Thinking time" not in page.inner_text("#timer")
            assert page.evaluate("document.activeElement.id") == "btn-skip"
            playing = page.evaluate("""async () => {
                const v = document.getElementById('prompt-video');
                for (let i = 0; i < 50 && (v.paused || !v.textTracks[0]?.cues?.length); i++) {
                    await new Promise(r => setTimeout(r, 100));
                }
                const track = v.textTracks[0];
                return {paused: v.paused, kind: track.kind, mode: track.mode, cues: track.cues.length,
                        src: v.currentSrc, think: document.getElementById('timer').textContent};
            }""")
            assert playing["paused"] is False and playing["think"] == "", playing
            assert (playing["kind"], playing["mode"]) == ("captions", "showing"), playing
            assert playing["cues"] > 0, playing
            assert playing["src"].endswith(f"/i/{token}/prompts/{media.public_id}/video")
            # When it ends, the thinking time starts, and recording after it.
            page.locator("#timer", has_text="Thinking time").wait_for(timeout=(ASKING_SECONDS + 15) * 1000)
            assert video.is_hidden() and video.get_attribute("data-watched") == "ended"
            assert page.get_by_role("button", name="Start recording now").is_visible()
            # Come back to it: the video plays again, and Enter on the focused button skips it.
            page.reload()
            page.get_by_role("button", name="Skip to the thinking time").wait_for(timeout=20_000)
            video.wait_for(state="visible")
            page.keyboard.press("Enter")
            page.locator("#timer", has_text="Thinking time").wait_for(timeout=5_000)
            assert video.get_attribute("data-watched") == "skipped"
