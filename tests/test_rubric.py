"""The rubric: an ideal answer and criteria per question, per-criterion scores, fixed once scored."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Score
from app.services import grading, interviews
from tests.factories import make_candidate, make_interview, make_user


@pytest.fixture
def setup(app):
    owner = make_user(role="owner")
    reviewer = make_user(org=owner.organisation, role="reviewer")
    interview = make_interview(owner, questions=2)
    cand, _ = make_candidate(interview)
    return owner, reviewer, interview, cand


def test_owner_writes_a_rubric_that_graders_see(login_as, setup):
    owner, reviewer, interview, cand = setup
    q = interview.questions[0]
    url = f"/interviews/{interview.public_id}/questions/{q.public_id}/rubric"
    form = {"ideal_answer": "Names a trade-off and measures it.", "criteria": "Clarity\n\n  Depth  \n"}
    assert login_as(reviewer).post(url, data=form).status_code == 403
    oc = login_as(owner)
    assert oc.post(url, data=form).status_code == 302
    db.session.refresh(q)
    assert q.criteria == ["Clarity", "Depth"] and q.ideal_answer.startswith("Names a trade-off")
    too_many = oc.post(url, data={"criteria": "\n".join(f"c{i}" for i in range(9))}, follow_redirects=True)
    assert "at most 8 criteria" in too_many.get_data(as_text=True)
    html = login_as(reviewer).get(f"/review/candidates/{cand.public_id}").get_data(as_text=True)
    assert "Names a trade-off" in html and 'name="criterion-1"' in html and "<legend>Depth</legend>" in html


def test_per_criterion_scores_make_the_question_score(login_as, setup):
    owner, reviewer, interview, cand = setup
    q1, q2 = interview.questions
    interviews.set_rubric(owner, interview, q1.public_id, "", "Clarity\nDepth")
    rc = login_as(reviewer)
    url = f"/review/candidates/{cand.public_id}/questions/{q1.public_id}/score"
    missing = rc.post(url, data={"criterion-0": "4"}, follow_redirects=True)
    assert "for “Depth”" in missing.get_data(as_text=True)
    rc.post(url, data={"criterion-0": "4", "criterion-1": "5", "comment": "good"})
    score = db.session.execute(db.select(Score).filter_by(question_id=q1.id)).scalar_one()
    assert (score.criteria, score.value) == ([4, 5], 5)  # 4.5 rounds half up
    rc.post(f"/review/candidates/{cand.public_id}/questions/{q2.public_id}/score", data={"value": "3"})
    grading.submit_review(reviewer, cand, "yes", "")
    s = grading.summary(cand)
    assert s.questions[0].rating == pytest.approx(4.5) and s.rating == pytest.approx(3.75)
    # Scored criteria are fixed; the ideal answer may still change.
    with pytest.raises(Exception, match="can no longer change"):
        interviews.set_rubric(owner, interview, q1.public_id, "", "Clarity")
    assert interviews.set_rubric(owner, interview, q1.public_id, "Better words", "Clarity\nDepth")
