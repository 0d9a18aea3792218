"""The AI's evaluations in the staff ZIP export, under the same blind rule as the candidate's page;
the candidate summary when some or all evaluations failed."""

from __future__ import annotations

import io
import json
import zipfile

from app.extensions import db
from app.models import AIEvaluation, AISummary
from app.services import ai_evaluation
from tests.factories import make_ready_answer, make_scores, make_user, mark_completed
from tests.test_ai import TRANSCRIPT, _evaluated


def _ai_json(client, cand) -> dict:
    zf = zipfile.ZipFile(io.BytesIO(client.get(f"/review/candidates/{cand.public_id}/export.zip").get_data()))
    return json.loads(zf.read("ai-evaluations.json"))


def _failed_second(iv, cand, reason="the model's reply was not JSON") -> AIEvaluation:
    second = make_ready_answer(cand, iv.questions[1], transcript={"text": TRANSCRIPT, "segments": []})
    row = AIEvaluation(answer_id=second.id, candidate_id=cand.id, question_id=iv.questions[1].id,
                       status="failed", failure_reason=reason)
    db.session.add(row)
    db.session.commit()
    return row


def test_the_export_holds_an_answers_ai_evaluation_only_once_the_exporter_scored_it(app, login_as):
    owner, iv, cand, row = _evaluated(app)
    old = AIEvaluation(answer_id=row.answer_id, candidate_id=cand.id, question_id=row.question_id,
                       current=False, status="done", mean=2.0, model="older-model", prompt_version="eval-0",
                       result={"summary": "An older view.", "quotes": [], "scores": {}})
    db.session.add(old)
    row.flagged_by_id, row.flag_note = owner.id, "Missed the numbers."
    row.flagged_at = row.created_at
    db.session.commit()
    recruiter = make_user(org=owner.organisation, role="recruiter")
    client = login_as(recruiter)

    blind = _ai_json(client, cand)
    assert [q.get("hidden") is not None for q in blind["questions"]] == [True, True]
    assert "Led a migration" not in json.dumps(blind) and "Hidden" in blind["overall"]

    client.post(f"/review/candidates/{cand.public_id}/questions/{iv.questions[0].public_id}/score",
                data={"value": "3", "comment": ""})
    scored = _ai_json(client, cand)
    first = scored["questions"][0]["evaluations"]
    assert [(e["current"], e["model"], e["prompt_version"]) for e in first] == [
        (True, "test-model", "eval-1"), (False, "older-model", "eval-0")]  # history kept, in order
    current = first[0]
    assert current["scores"] == {"match": 4, "evidence": 5, "clarity": 3}
    assert current["quotes"][0] == {"text": "We had six weeks and four engineers.", "start": 4.0}
    assert current["temperature"] == 0.0 and current["flag"]["note"] == "Missed the numbers."
    assert scored["questions"][1].get("hidden")  # not scored by this exporter yet
    assert "Hidden" in scored["overall"]  # the overall waits for the submitted review

    make_scores(recruiter, cand, [3, 3])
    submitted = _ai_json(client, cand)
    assert submitted["overall"] == {"mean": 4.0, "answers": 1}
    assert "advisory" in submitted["advisory"].lower()


def test_the_export_shows_what_owners_chose_to_show_before_grading(app, login_as):
    owner, _iv, cand, _row = _evaluated(app, before=True)
    data = _ai_json(login_as(owner), cand)
    assert data["questions"][0]["evaluations"][0]["summary"] == "Led a migration on time."


def test_an_interview_without_ai_exports_no_ai_file(app, login_as):
    owner, _iv, cand, _row = _evaluated(app, ai_on=False)
    db.session.execute(db.delete(AIEvaluation))
    db.session.commit()
    body = login_as(owner).get(f"/review/candidates/{cand.public_id}/export.zip").get_data()
    assert "ai-evaluations.json" not in zipfile.ZipFile(io.BytesIO(body)).namelist()


def test_a_failed_last_evaluation_still_makes_a_summary_that_names_the_failed_question(app, login_as):
    owner, iv, cand, _row = _evaluated(app)
    _failed_second(iv, cand)
    mark_completed(cand)
    summary = ai_evaluation.summary_due(cand.id)
    assert summary is not None and summary.status == "queued"
    assert ai_evaluation.left_out(cand) == [(2, "the model's reply was not JSON")]
    summary.status, summary.text, summary.model = "done", "Strong on delivery.", "m"
    db.session.commit()
    grader = make_user(org=owner.organisation, role="reviewer")
    make_scores(grader, cand, [3, 3])
    page = login_as(grader).get(f"/review/candidates/{cand.public_id}").get_data(as_text=True)
    assert "Strong on delivery." in page and "data-ai-left-out" in page
    assert "Question 2 is not in the overall or the summary" in page
    data = _ai_json(login_as(owner), cand)  # the owner chose to see nothing early: hidden for them
    assert "Hidden" in data["summary"]
    make_scores(owner, cand, [4, 4])
    data = _ai_json(login_as(owner), cand)
    assert data["summary"]["text"] == "Strong on delivery."
    assert data["not_in_summary"] == [{"question": 2, "reason": "its AI evaluation failed: "
                                                                "the model's reply was not JSON"}]


def test_when_every_evaluation_failed_the_summary_says_so(app, login_as):
    owner, iv, cand, row = _evaluated(app)
    row.status, row.failure_reason, row.result, row.mean = "failed", "the server did not answer", None, None
    _failed_second(iv, cand)
    mark_completed(cand)
    assert ai_evaluation.summary_due(cand.id) is None  # nothing to queue
    summary = db.session.execute(db.select(AISummary)).scalar_one()
    assert summary.status == "failed" and "could not evaluate any" in summary.failure_reason
    grader = make_user(org=owner.organisation, role="reviewer")
    make_scores(grader, cand, [3, 3])
    page = login_as(grader).get(f"/review/candidates/{cand.public_id}").get_data(as_text=True)
    assert "data-ai-summary-failed" in page and "could not evaluate any" in page
    assert "Question 1 is not in the overall" in page and "Question 2 is not in the overall" in page
