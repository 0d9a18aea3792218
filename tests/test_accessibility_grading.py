"""The graders' and guests' pages pass the same axe-core WCAG 2.2 AA scan as the candidate's."""

from __future__ import annotations

import pytest

from app.services import sharing, team
from tests.browser import CHROMIUM, live_server
from tests.conftest import BACKENDS
from tests.factories import (
    PASSWORD,
    make_candidate,
    make_interview,
    make_media_answer,
    make_scores,
    make_user,
)
from tests.test_accessibility import DESKTOP, assert_accessible

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("backend", [BACKENDS[-1]], indirect=True),
]


def test_grading_and_sharing_pages_pass_axe(app):
    from playwright.sync_api import sync_playwright

    owner = make_user(role="owner")
    alice = make_user(org=owner.organisation, role="reviewer")
    interview = make_interview(owner, questions=2)
    cand, _ = make_candidate(interview)
    for q in interview.questions:
        make_media_answer(cand, q)
    make_scores(alice, cand, [4, 2])
    _, token = sharing.create_link(owner, [cand.public_id], permission="score")
    _, reset_token = team.make_reset_link(owner, alice.public_id)
    with live_server(app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_context(**DESKTOP).new_page()
            page.goto(f"{base}/login")
            page.get_by_label("Email").fill(owner.email)
            page.get_by_label("Password").fill(PASSWORD)
            page.keyboard.press("Enter")
            page.wait_for_url(f"{base}/")
            for path, what in [(f"/interviews/{interview.public_id}", "interview page"),
                               (f"/interviews/{interview.public_id}/queue", "queue"),
                               (f"/interviews/{interview.public_id}/search?q=hello", "search"),
                               (f"/interviews/{interview.public_id}/shares", "share links"),
                               ("/team", "team"),
                               ("/team/audit", "audit log"),
                               ("/account/password", "change password"),
                               (f"/review/candidates/{cand.public_id}", "candidate, before submitting")]:
                page.goto(base + path)
                assert_accessible(page, what)
            page.goto(f"{base}/account/password")
            page.get_by_label("Current password").fill("not-the-password")
            page.get_by_label("New password", exact=True).fill("a-new-password")
            page.get_by_label("New password again").fill("a-new-password")
            page.keyboard.press("Enter")
            page.locator("#f-current_password-error").wait_for()
            assert_accessible(page, "change password, refused")
            page.goto(f"{base}/review/candidates/{cand.public_id}")
            page.keyboard.press("?")
            assert_accessible(page, "keyboard help")
            page.keyboard.press("Escape")
            make_scores(owner, cand, [5, 5])
            page.reload()
            assert_accessible(page, "candidate, after submitting")
            guest = browser.new_context(**DESKTOP).new_page()
            guest.goto(f"{base}/s/{token}")
            assert_accessible(guest, "guest page, before naming")
            guest.get_by_label("Your name").fill("Grace")
            guest.keyboard.press("Enter")
            guest.locator("[data-guest]").wait_for()
            assert_accessible(guest, "guest page, scoring")
            guest.goto(f"{base}/reset/{reset_token}")
            assert_accessible(guest, "password reset link")
            guest.get_by_label("New password", exact=True).fill("a-new-password")
            guest.get_by_label("New password again").fill("another-password")
            guest.keyboard.press("Enter")
            guest.locator("#f-password_confirm-error").wait_for()
            assert_accessible(guest, "password reset link, refused")
        finally:
            browser.close()
