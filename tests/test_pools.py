"""Question pools and shuffled order: each candidate's draw is made once when they start, through the
candidate's own pages; graders see the question each got, and scores stay per question."""

from __future__ import annotations

import csv
import io

from app.extensions import db
from app.models import Candidate, Interview
from app.services import ServiceError, authoring, grading, recording, scoring
from tests.factories import make_candidate, make_interview, make_ready_answer, make_user

LIMITS = {"think_seconds": "1", "answer_seconds": "30", "max_takes": "1", "kind": "video"}


def _pooled(owner, shuffle: bool = False) -> Interview:
    """Question 1 alone, then a pool "B" of two alternatives, then question 4 alone."""
    iv = make_interview(owner, questions=4)
    for q in iv.questions[1:3]:
        authoring.edit_question(owner, iv, q.public_id, {**LIMITS, "prompt": q.prompt, "pool": "B"})
    iv.shuffle_questions = shuffle
    db.session.commit()
    return db.session.get(Interview, iv.id)


def _state(app, token) -> list[str]:
    return [q["prompt"] for q in app.test_client().get(f"/i/{token}/state").get_json()["questions"]]


def test_a_pool_gives_candidates_different_questions_drawn_once(app, login_as):
    owner = make_user()
    iv = _pooled(owner)
    first, b1, b2, last = (q.prompt for q in iv.questions)
    seen = set()
    for _ in range(24):  # both alternatives come up (a miss is 2 in 2^24)
        _, token = make_candidate(iv, owner)
        prompts = _state(app, token)
        assert len(prompts) == 3 and prompts[0] == first and prompts[2] == last and prompts[1] in (b1, b2)
        assert _state(app, token) == prompts  # drawn once, when they started
        seen.add(prompts[1])
    assert seen == {b1, b2}
    page = login_as(owner).get(f"/interviews/{iv.public_id}/queue").get_data(as_text=True)
    assert "0/3 ready" in page  # three places to answer, not four questions


def test_a_candidate_cannot_answer_the_other_draw_and_finishes_with_theirs(app):
    owner = make_user()
    iv = _pooled(owner)
    candidate, _ = make_candidate(iv, owner)
    given = candidate.questions
    other = next(q for q in iv.questions if q not in given)
    try:
        recording.start_take(candidate, other.public_id, "video/webm")
        raise AssertionError("the other draw was accepted")
    except ServiceError as refused:
        assert refused.status == 404
    for q in given:
        make_ready_answer(candidate, q)
    recording.finish(db.session.get(Candidate, candidate.id))
    assert db.session.get(Candidate, candidate.id).status == "completed"


def test_graders_see_the_question_drawn_and_score_only_those(app, login_as):
    owner = make_user()
    iv = _pooled(owner)
    candidate, _ = make_candidate(iv, owner)
    given = candidate.questions
    for q in given:
        make_ready_answer(candidate, q)
    html = login_as(owner).get(f"/review/candidates/{candidate.public_id}").get_data(as_text=True)
    drawn = given[1]
    other = next(q for q in iv.questions if q not in given)
    assert drawn.prompt in html and other.prompt not in html and 'data-pool="B"' in html
    for q in given:
        scoring.save_score(owner, candidate, q.public_id, "4", "")
    grading.submit_review(owner, candidate, "yes", "")  # every question it was given is scored
    summary = grading.summary(candidate)
    assert [s.question.id for s in summary.questions] == [q.id for q in given]


def test_the_scores_csv_says_not_asked_for_the_pool_question_a_candidate_did_not_get(app, login_as):
    owner = make_user()
    iv = _pooled(owner)
    scored, _ = make_candidate(iv, owner)
    waiting, _ = make_candidate(iv, owner)  # no grader yet: one row, blank scores but for the pool
    given = scored.questions
    for q in given:
        scoring.save_score(owner, scored, q.public_id, "4", "")
    grading.submit_review(owner, scored, "yes", "")
    rows = list(csv.DictReader(io.StringIO(
        login_as(owner).get(f"/interviews/{iv.public_id}/scores.csv").get_data(as_text=True))))
    columns = {q.id: f"q{i + 1}" for i, q in enumerate(iv.questions)}
    for cand, grader in ((scored, owner.name), (waiting, "")):
        row = next(r for r in rows if r["candidate_id"] == cand.public_id)
        assert row["grader"] == grader
        asked = {q.id for q in db.session.get(Candidate, cand.id).questions}
        for qid, column in columns.items():
            if qid not in asked:
                assert row[column] == grading.NOT_ASKED
            else:
                assert row[column] == ("4" if cand is scored else "")
    assert sum(list(r.values()).count(grading.NOT_ASKED) for r in rows) == 2


def test_shuffled_order_is_each_candidates_own(app):
    owner = make_user()
    iv = make_interview(owner, questions=4)
    iv.shuffle_questions = True
    db.session.commit()
    orders = set()
    for _ in range(12):
        candidate, _ = make_candidate(iv, owner)
        order = tuple(q.id for q in db.session.get(Candidate, candidate.id).questions)
        assert sorted(order) == sorted(q.id for q in iv.questions)
        orders.add(order)
    assert len(orders) > 1


def test_candidates_who_started_keep_their_draw_when_the_pool_changes(app):
    owner = make_user()
    iv = _pooled(owner)
    candidate, _ = make_candidate(iv, owner)
    before = [q.id for q in candidate.questions]
    b = next(q for q in iv.questions if q.pool == "B" and q.id not in before)
    authoring.edit_question(owner, iv, b.public_id, {**LIMITS, "prompt": b.prompt, "pool": ""})
    db.session.expire_all()
    after = [q.id for q in db.session.get(Candidate, candidate.id).questions]
    # The question that left the pool is a place of its own now, added after what they drew.
    assert after[:3] == before and after[3] == b.id
