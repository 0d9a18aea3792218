"""The invitation as a candidate meets it: e-mailed through the real SMTP server, its link opened in
a real browser (headless Chromium), an answer recorded and received, and the confirmation e-mailed
with the answer's receipt."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.models import Candidate, MailKind, OutboxMessage
from app.services import interviews
from app.states import CandidateStatus, MailStatus
from tests.browser import chromium, live_server
from tests.conftest import BACKENDS
from tests.factories import make_interview, make_user

pytestmark = [pytest.mark.browser, pytest.mark.processes]


@pytest.mark.parametrize("backend", [BACKENDS[0]], indirect=True)
def test_the_emailed_link_opens_the_interview_and_an_answer_is_recorded(app, backend, media_dir, mailbox,
                                                                        run_jobs):
    owner = make_user()
    interview = make_interview(owner, questions=1, think=30, answer=10)
    with live_server(app) as base, chromium(media_dir["y4m"], media_dir["speech"]) as browser:
        with app.test_request_context(base_url=base):
            candidate, _ = interviews.invite_candidate(owner, interview, "Ada Lovelace", "ada@example.com",
                                                       send_email=True)
        run_jobs()
        [invitation] = mailbox.messages()
        link = re.search(r"https?://\S+/i/[A-Za-z0-9_-]{43}", invitation.get_body(("plain",)).get_content())
        assert link and link.group(0).startswith(base)
        page = browser.new_page()
        page.goto(link.group(0))
        assert "Ada Lovelace" in page.content()
        page.get_by_label("I agree to be recorded").check()
        page.get_by_role("button", name="Agree and continue").click()
        page.get_by_role("button", name="Continue to a practice question").click(timeout=20_000)
        page.get_by_role("button", name="Start the interview").click()
        page.get_by_role("button", name="Start recording now").click()
        page.wait_for_timeout(3000)
        page.get_by_role("button", name="Stop recording").click()
        page.locator("#receipt").filter(has_text="Answer received").wait_for(timeout=60_000)
        page.get_by_role("button", name="Keep and finish the interview").click()
        page.wait_for_url("**/done", timeout=30_000)
    db.session.expire_all()
    candidate = db.session.get(Candidate, candidate.id)
    assert candidate.status == CandidateStatus.COMPLETED and candidate.opened_at is not None
    run_jobs()
    confirmation = db.session.execute(db.select(OutboxMessage).filter_by(
        candidate_id=candidate.id, kind=MailKind.CONFIRMATION)).scalar_one()
    assert confirmation.status == MailStatus.SENT
    [answer] = candidate.answers
    got = [m for m in mailbox.messages() if m["Message-ID"] == confirmation.message_id]
    assert len(got) == 1 and answer.original_sha256 in got[0].get_body(("plain",)).get_content()
