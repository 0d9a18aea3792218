"""A hiring manager reorders and edits questions with the keyboard alone, in headless Chromium."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Interview
from tests.browser import live_server, signed_in_page
from tests.conftest import BACKENDS
from tests.factories import PASSWORD, make_interview, make_user

pytestmark = pytest.mark.browser


def _tab_to(page, selector: str, most: int = 120) -> None:
    """Press Tab until the focused element matches the CSS selector."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def _focused(page) -> str:
    return page.evaluate("() => document.activeElement.getAttribute('aria-label') || "
                         "document.activeElement.textContent.trim()")


@pytest.mark.parametrize("backend", [BACKENDS[-1]], indirect=True)
def test_questions_are_reordered_and_edited_with_the_keyboard_alone(app, backend):
    owner = make_user()
    iv = make_interview(owner, questions=3)
    first, second, third = (q.public_id for q in iv.questions)
    with live_server(app) as base, signed_in_page(base, owner, PASSWORD) as page:
        page.goto(f"{base}/interviews/{iv.public_id}")
        _tab_to(page, f'#q-{first} [data-move="down"]')
        page.keyboard.press("Enter")
        page.wait_for_url(f"**moved={first}**")
        # Focus comes back on the moved question's button, now question 2's, so Enter moves it again.
        # The page's script moves it once the page is loaded, which can be just after the URL
        # changes: wait for it (a timeout fails the test if it never comes).
        page.wait_for_function("() => document.activeElement.getAttribute('aria-label') === "
                               "'Move question 2 down'")
        assert _focused(page) == "Move question 2 down"
        page.keyboard.press("Enter")
        page.wait_for_function("() => document.activeElement.getAttribute('aria-label') === "
                               "'Move question 3 up'")
        db.session.expire_all()
        assert [q.public_id for q in db.session.get(Interview, iv.id).questions] == [second, third, first]
        assert page.locator("[data-questions] > li").evaluate_all(
            "items => items.map(li => li.dataset.question)") == [second, third, first]

        _tab_to(page, f'#q-{third} a[href$="/edit"]')
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/questions/{third}/edit")
        _tab_to(page, "#f-prompt")
        page.keyboard.press("Control+A")
        page.keyboard.type("What would you change in your last team?")
        _tab_to(page, "#f-think_seconds")
        page.keyboard.press("Control+A")
        page.keyboard.type("45")
        _tab_to(page, 'button[type="submit"].primary')
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/interviews/{iv.public_id}#q-{third}")
        assert "What would you change in your last team?" in page.content()
        assert page.errors == []
    db.session.expire_all()
    edited = next(q for q in db.session.get(Interview, iv.id).questions if q.public_id == third)
    assert (edited.prompt, edited.think_seconds, edited.position) == (
        "What would you change in your last team?", 45, 1)
