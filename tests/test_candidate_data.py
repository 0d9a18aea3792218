"""The candidate's own data page: what is stored about them, in plain words, and nobody else's."""

from __future__ import annotations

import hashlib

from app import locale_format
from app.extensions import db
from app.models import Answer, User, utcnow
from app.services import interviews
from app.states import AnswerStatus
from tests.factories import make_candidate, make_interview, make_ready_answer, mark_completed
from tests.helpers import CsrfClient, upload_answer


def test_data_page_lists_details_consent_expiry_and_every_take(client, app, media_dir):
    interview = make_interview(questions=2)
    cand, token = make_candidate(interview)
    data = media_dir["webm"].read_bytes()
    cc = CsrfClient(client)
    cc.refresh(f"/i/{token}")
    q1, q2 = interview.questions
    first = upload_answer(cc, token, q1.public_id, data)
    second = upload_answer(cc, token, q1.public_id, data[: len(data) // 2])  # a retake
    # A take still being recorded on question 2: a few bytes arrived, no checksum yet.
    db.session.add(Answer(candidate_id=cand.id, question_id=q2.id, take=1, status=AnswerStatus.RECORDING,
                          content_type="video/webm", chunk_count=2, received_bytes=2048))
    db.session.commit()

    html = client.get(f"/i/{token}/data").get_data(as_text=True)
    assert "Ada Lovelace" in html and "ada@example.com" in html
    with app.test_request_context(f"/i/{token}/data"):  # dated as the page dates them: English, UTC
        consented, expires = (locale_format.format_when(m) for m in (cand.consent_at, cand.expires_at))
    assert f"You agreed on {consented}, to the privacy notice of" in html
    assert f"Works until {expires}" in html
    assert html.count("data-take=") == 3
    for receipt in (first, second):
        assert receipt["sha256"] in html and f"{receipt['bytes']:,} bytes" in html
    assert html.count("the answer you kept") == 1 and "replaced by a later take" in html
    assert "2,048 bytes arrived, in 2 pieces" in html and "Not complete" in html
    assert "Received whole" in html


def test_done_page_links_to_the_data_page_and_every_page_says_whom_to_ask(client, app):
    cand, token = make_candidate(make_interview(questions=1))
    cand.interview.contact_email = "talent@example.com"
    make_ready_answer(cand, cand.interview.questions[0], original_size=10, original_sha256="a" * 64)
    mark_completed(cand)
    done = client.get(f"/i/{token}/done").get_data(as_text=True)
    assert f'href="/i/{token}/data"' in done
    page = client.get(f"/i/{token}/data").get_data(as_text=True)
    assert "Finished on" in page and "Worked until" in page and f'href="/i/{token}/done"' in page
    for html in (done, page):
        assert '<footer class="help">' in html and 'href="mailto:talent@example.com"' in html


def test_data_page_shows_only_this_candidates_data(client, app):
    interview = make_interview(questions=1)
    _mine, token = make_candidate(interview, consent=False)
    author = db.session.get(User, interview.created_by_id)
    other, _ = interviews.invite_candidate(author, interview, "Grace Hopper", "grace@example.com")
    other.consent_at = utcnow()
    db.session.commit()
    other_sha = hashlib.sha256(b"someone else").hexdigest()
    make_ready_answer(other, interview.questions[0], original_size=999_999, original_sha256=other_sha)

    resp = client.get(f"/i/{token}/data")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    assert "Ada Lovelace" in html
    assert "Grace" not in html and "grace@example.com" not in html
    assert other_sha not in html and "999,999" not in html
    assert "You have not agreed yet" in html and "No recordings yet." in html
    assert client.get(f"/i/{'A' * 43}/data").status_code == 404
