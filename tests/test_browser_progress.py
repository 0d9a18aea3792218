"""A grader looking at a candidate whose answer is still being processed sees each step tick off
and is offered the answer once it is ready, without the page reloading under their typing."""

from __future__ import annotations

import subprocess

import pytest

from app.extensions import db
from app.models import Answer, utcnow
from app.services import pipeline
from app.states import AnswerStatus
from app.storage import current_storage
from tests.browser import live_server, signed_in_page
from tests.conftest import BACKENDS
from tests.factories import PASSWORD, make_candidate, make_interview, make_media_answer, make_user

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def mp4(tmp_path_factory) -> bytes:
    out = tmp_path_factory.mktemp("progress") / "answer.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10",
                    "-f", "lavfi", "-i", "sine=frequency=440", "-t", "3", "-c:v", "libx264",
                    "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
                    "-movflags", "+faststart", str(out)], check=True, timeout=60)
    return out.read_bytes()


def _processing(candidate, question, mp4: bytes) -> Answer:
    """An answer the transcode stage has finished: MP4 stored, poster and transcript to come."""
    answer = make_media_answer(candidate, question, data=mp4)
    answer.status, answer.transcript, answer.captions_key, answer.ready_at = \
        AnswerStatus.PROCESSING, None, None, None
    answer.uploaded_at = answer.uploaded_at or utcnow()  # sent: it has a place among those waiting
    db.session.commit()
    return answer


def test_status_of_an_answer_is_for_its_own_organisation_only(app, login_as, mp4):
    owner = make_user(role="owner")
    interview = make_interview(owner, questions=1)
    cand, _ = make_candidate(interview)
    answer = _processing(cand, interview.questions[0], mp4)
    client = login_as(owner)
    body = client.get(f"/review/answers/{answer.public_id}/status").get_json()
    assert body == {"status": "processing", "failure_reason": None, "steps": [
        {"name": "Checked and converted", "done": True},
        {"name": "Poster and picture checks", "done": False},
        {"name": "Transcript and captions", "done": False}], "place": 1, "minutes": 1}
    assert client.get("/review/answers/nonexistent/status").status_code == 404
    other = login_as(make_user(role="owner"))  # another organisation
    assert other.get(f"/review/answers/{answer.public_id}/status").status_code == 404
    assert app.test_client().get(f"/review/answers/{answer.public_id}/status").status_code in (302, 401)


@pytest.mark.parametrize("backend", [BACKENDS[-1]], indirect=True)
def test_steps_tick_off_and_the_ready_answer_is_offered_without_a_reload(app, backend, mp4):
    from playwright.sync_api import expect

    owner = make_user(role="owner")
    interview = make_interview(owner, questions=2)
    cand, _ = make_candidate(interview)
    first = _processing(cand, interview.questions[0], mp4)
    make_media_answer(cand, interview.questions[1], data=mp4)
    store = current_storage()

    with live_server(app) as base, signed_in_page(base, owner, PASSWORD) as page:
        page.goto(f"{base}/review/candidates/{cand.public_id}")
        box = page.locator(f"#q-{interview.questions[0].public_id} [data-status-url]")
        steps = box.locator("[data-step]")
        expect(steps).to_have_count(3)
        expect(steps.nth(0)).to_have_attribute("data-done", "")
        assert steps.nth(1).get_attribute("data-done") is None
        assert box.locator("video").count() == 0
        # The grader starts a comment on the other question meanwhile.
        comment = page.locator(f"#q-{interview.questions[1].public_id} textarea").first
        comment.fill("Half-written thought")

        put = store.put_bytes(f"answers/{first.public_id}/poster.jpg", b"\xff\xd8jpeg", "image/jpeg")
        first.poster_key, first.poster_size = put.key, put.size
        db.session.commit()
        expect(steps.nth(1)).to_have_attribute("data-done", "", timeout=15000)
        assert steps.nth(2).get_attribute("data-done") is None

        first.transcript = {"language": "en", "text": "hello", "segments": []}
        first.captions_key = store.put_bytes(f"answers/{first.public_id}/captions.vtt",
                                             b"WEBVTT\n", "text/vtt").key
        db.session.commit()
        assert pipeline.maybe_ready(first.id)
        show = box.locator("[data-show-answer]")
        expect(show).to_be_visible(timeout=15000)
        expect(page.locator("[data-live]")).to_contain_text("ready to watch")
        assert comment.input_value() == "Half-written thought"  # no reload under the typing

        show.click()
        page.locator(f"#q-{interview.questions[0].public_id} video").wait_for()
        assert page.errors == []
