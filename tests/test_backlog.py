"""A visible backlog: staff read how many of their answers wait for processing and about how long,
and each waiting answer's place (answers are processed in the order they were sent, whoever's they
are); the candidate reads that their answers are safe and will be processed, never that one failed."""

from __future__ import annotations

import os
import re

from app.extensions import db
from app.models import Answer
from app.services import pipeline
from app.states import AnswerStatus
from tests.factories import make_candidate, make_interview, make_ready_answer, make_user
from tests.helpers import upload_answer

KIND = "video/webm;codecs=h264,opus"  # no early video passes: only the join waits in the queue


def _send(csrf_client, interview) -> tuple[Answer, str]:
    """A candidate's answer, sent and finalized (its join queued, not run); with their link's token."""
    _cand, token = make_candidate(interview)
    csrf_client.refresh(f"/i/{token}")
    receipt = upload_answer(csrf_client, token, interview.questions[0].public_id, os.urandom(5000),
                            content_type=KIND)
    answer = db.session.execute(db.select(Answer).filter_by(public_id=receipt["answer_id"])).scalar_one()
    return answer, token


def _recently_ready(interview, seconds: list[float]) -> None:
    """Answers made ready lately, whose stages took `seconds` in all (one each)."""
    for s in seconds:
        cand, _token = make_candidate(interview)
        answer = make_ready_answer(cand, interview.questions[0])
        answer.ready_at = answer.created_at
        pipeline.record_stage(answer, "transcode", s * 0.75)
        pipeline.record_stage(answer, "transcribe", s * 0.25)
        pipeline.record_stage(answer, "transcode_early", 500)  # done while recording: not counted
        db.session.commit()


def test_staff_see_their_answers_waiting_and_each_ones_place(app, csrf_client, login_as):
    other = make_interview(make_user(), questions=1)  # another organisation, sent first
    owner = make_user()
    mine = make_interview(owner, questions=1)
    _recently_ready(mine, [20.0, 30.0, 90.0])  # median 30 s an answer
    ahead = [_send(csrf_client, other)[0] for _ in range(2)]
    waiting = [_send(csrf_client, mine)[0] for _ in range(3)]
    assert all(a.status == AnswerStatus.UPLOADED for a in ahead + waiting)
    staff = login_as(owner)
    page = staff.get(f"/interviews/{mine.public_id}/queue").get_data(as_text=True)
    # Three of this organisation's answers wait; the last is fifth in line: 5 x 30 s, one worker.
    assert "3 answers waiting to be processed, about 3 min" in page
    first = waiting[0]
    page = staff.get(f"/review/candidates/{first.candidate.public_id}").get_data(as_text=True)
    assert "Place 3 among the answers waiting to be processed, ready in about 2 min." in page
    status = staff.get(f"/review/answers/{first.public_id}/status").get_json()
    assert (status["place"], status["minutes"]) == (3, 2)
    # Processed: no longer waiting, no place, and nothing waiting is said on the queue.
    for a in waiting:
        pipeline.fail(a.id, "Join failed unexpectedly (StorageError: away). It can be retried.")
    assert staff.get(f"/review/answers/{first.public_id}/status").get_json()["place"] is None
    assert "waiting to be processed" not in staff.get(f"/interviews/{mine.public_id}/queue").get_data(
        as_text=True)


def test_the_candidate_reads_that_their_answers_are_safe_and_never_that_one_failed(app, csrf_client):
    interview = make_interview(questions=1)
    answer, token = _send(csrf_client, interview)
    token_page = f"/i/{token}"
    assert csrf_client.post(f"{token_page}/finish", json={}).status_code == 200
    done = csrf_client.get(f"{token_page}/done").get_data(as_text=True)
    assert "Your answers are safe with us and will be processed." in done
    pipeline.fail(answer.id, "The recording's 1 chunks join to 5000 bytes with SHA-256 ...")
    for page in ("done", "data"):
        html = csrf_client.get(f"{token_page}/{page}").get_data(as_text=True).lower()
        shown = re.sub(r"<script.*?</script>", "", html, flags=re.S)  # (the scripts' catalogue aside)
        assert "fail" not in shown and "went wrong" not in shown, page
    assert "Received and kept safe." in csrf_client.get(f"{token_page}/data").get_data(as_text=True)
    answer = db.session.get(Answer, answer.id)
    answer.status = AnswerStatus.READY  # processed after all: nothing more to say
    db.session.commit()
    assert "will be processed" not in csrf_client.get(f"{token_page}/done").get_data(as_text=True)

