"""A question pool gives two candidates different questions, as each sees it in their own browser."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Candidate
from app.services import authoring
from tests.browser import chromium, live_server
from tests.conftest import BACKENDS
from tests.factories import make_candidate, make_interview, make_user

pytestmark = pytest.mark.browser


def _first_prompt(browser, base: str, token: str) -> str:
    """Through the device check and the practice question to the first question's prompt."""
    page = browser.new_page()
    try:
        page.goto(f"{base}/i/{token}/record")
        page.get_by_role("button", name="Record a 3-second test").click()
        page.get_by_role("button", name="Continue to a practice question").click(timeout=20_000)
        page.get_by_role("button", name="Start recording now").click()
        page.get_by_role("button", name="Stop recording").click(timeout=15_000)
        page.get_by_role("button", name="Start the interview").click(timeout=15_000)
        page.get_by_role("button", name="Start recording now").wait_for(timeout=15_000)
        return page.inner_text("#prompt")
    finally:
        page.close()


@pytest.mark.parametrize("backend", [BACKENDS[-1]], indirect=True)
def test_a_pool_gives_two_candidates_different_questions(app, backend, media_dir):
    owner = make_user()
    iv = make_interview(owner, questions=3, think=30)
    for q in iv.questions[:2]:  # the first place is a pool of two
        authoring.edit_question(owner, iv, q.public_id, {
            "prompt": q.prompt, "think_seconds": "30", "answer_seconds": "30", "max_takes": "2", "pool": "A"})
    drawn: dict[str, str] = {}  # first question's prompt -> a token that drew it
    while len(drawn) < 2:  # each draw is at random: invite until both alternatives came up
        candidate, token = make_candidate(iv, owner)
        drawn.setdefault(db.session.get(Candidate, candidate.id).questions[0].prompt, token)
    with live_server(app) as base, chromium(media_dir["y4m"], media_dir["speech"]) as browser:
        seen = {prompt: _first_prompt(browser, base, token) for prompt, token in drawn.items()}
    assert seen == {prompt: prompt for prompt in drawn}
    assert len(set(seen.values())) == 2
