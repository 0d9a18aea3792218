"""Blind scoring, the overall recommendation, the rating and spread, decisions and the CSV export."""

from __future__ import annotations

import csv
import io

import pytest

from app.extensions import db
from app.models import Decision, Score
from app.services import ServiceError, grading
from tests.factories import make_candidate, make_interview, make_scores, make_user


@pytest.fixture
def team(app):
    owner = make_user(role="owner")
    org = owner.organisation
    return {
        "owner": owner,
        "recruiter": make_user(org=org, role="recruiter"),
        "alice": make_user(org=org, role="reviewer"),
        "bob": make_user(org=org, role="reviewer"),
    }


def _page(cc, cand) -> str:
    return cc.get(f"/review/candidates/{cand.public_id}").get_data(as_text=True)


def test_other_graders_scores_stay_hidden_until_you_submit_yours(csrf_client, team):
    interview = make_interview(team["owner"], questions=2)
    cand, _ = make_candidate(interview)
    make_scores(team["alice"], cand, [5, 4])
    csrf_client.login(team["bob"].email)
    html = _page(csrf_client, cand)
    assert "comment 5 by" not in html and "overall by" not in html and "data-summary" not in html
    assert "data-blind" in html
    # Bob's own draft does not lift the blind either.
    q1, q2 = interview.questions
    url = f"/review/candidates/{cand.public_id}"
    csrf_client.post(f"{url}/questions/{q1.public_id}/score", data={"value": "2", "comment": "meh"})
    assert "comment 5 by" not in _page(csrf_client, cand)
    # Submitting with a question unscored is refused, and still shows nothing.
    resp = csrf_client.post(f"{url}/submit", data={"recommendation": "no"}, follow_redirects=True)
    assert "missing: question 2" in resp.get_data(as_text=True)
    assert "comment 5 by" not in resp.get_data(as_text=True)
    csrf_client.post(f"{url}/questions/{q2.public_id}/score", data={"value": "3", "comment": ""})
    resp = csrf_client.post(f"{url}/submit", data={"recommendation": "no", "comment": "not yet"},
                            follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "data-summary" in html and f"comment 5 by {team['alice'].name}" in html
    assert "overall by" in html and "Strong yes" not in html  # alice said "yes"
    # Final: a submitted review's scores no longer change.
    csrf_client.post(f"{url}/questions/{q1.public_id}/score", data={"value": "5"})
    assert db.session.execute(db.select(Score.value).filter_by(
        user_id=team["bob"].id, question_id=q1.id)).scalar_one() == 2


def test_rating_is_mean_of_question_ratings_and_disagreement_is_flagged(app, team):
    interview = make_interview(team["owner"], questions=2)
    agreed, _ = make_candidate(interview)
    split, _ = make_candidate(interview)
    make_scores(team["alice"], agreed, [4, 3])
    make_scores(team["bob"], agreed, [4, 4])
    make_scores(team["alice"], split, [5, 5])
    make_scores(team["bob"], split, [1, 2])
    s = grading.summary(agreed)
    assert [q.rating for q in s.questions] == [4, 3.5] and s.rating == pytest.approx(3.75)
    assert s.disagreement is False and s.spread == pytest.approx(0.5)
    s = grading.summary(split)
    assert s.rating == pytest.approx(3.25) and s.spread == pytest.approx(3.5) and s.disagreement
    # Drafts (scores without a submitted review) never count.
    make_scores(team["recruiter"], agreed, [1, 1], submit=None)
    assert grading.summary(agreed).rating == pytest.approx(3.75)


def test_disagreement_shows_on_the_page(csrf_client, team):
    cand, _ = make_candidate(make_interview(team["owner"], questions=1))
    make_scores(team["alice"], cand, [5])
    make_scores(team["bob"], cand, [1])
    csrf_client.login(team["alice"].email)
    html = _page(csrf_client, cand)
    assert "data-disagreement" in html and 'data-rating>3.00<' in html


def test_owner_may_see_scores_without_grading_but_a_reviewer_may_not(login_as, team):
    cand, _ = make_candidate(make_interview(team["owner"], questions=1))
    make_scores(team["alice"], cand, [4])
    bob = login_as(team["bob"])
    assert bob.post(f"/review/candidates/{cand.public_id}/reveal", data={}).status_code == 403
    csrf_client = login_as(team["owner"])
    resp = csrf_client.post(f"/review/candidates/{cand.public_id}/reveal", data={}, follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "comment 4 by" in html and "without grading" in html
    with pytest.raises(ServiceError):
        make_scores(team["owner"], cand, [5], submit=None)


def test_decisions_are_for_owners_and_recruiters_and_record_who_and_when(login_as, team):
    cand, _ = make_candidate(make_interview(team["owner"], questions=1))
    url = f"/review/candidates/{cand.public_id}/decision"
    assert login_as(team["alice"]).post(url, data={"value": "advance"}).status_code == 403
    csrf_client = login_as(team["recruiter"])
    resp = csrf_client.post(url, data={"value": "maybe"}, follow_redirects=True)
    assert resp.status_code == 200 and "Choose advance, hold or reject" in resp.get_data(as_text=True)
    csrf_client.post(url, data={"value": "hold", "note": "waiting on references"})
    resp = csrf_client.post(url, data={"value": "advance"}, follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert 'data-decision="advance"' in html and team["recruiter"].name in html
    assert "waiting on references" in html  # the earlier one is kept
    rows = db.session.execute(db.select(Decision).order_by(Decision.id)).scalars().all()
    assert [(d.value, d.user_id) for d in rows] == [("hold", team["recruiter"].id),
                                                    ("advance", team["recruiter"].id)]
    assert rows[-1].created_at is not None


def test_scores_export_as_csv_for_owners_only(login_as, team):
    interview = make_interview(team["owner"], questions=2)
    cand, _ = make_candidate(interview)
    cand.name = "=HYPERLINK(evil)"
    db.session.commit()
    make_candidate(interview)  # no scores: still one row
    make_scores(team["alice"], cand, [5, 3])
    grading.decide(team["owner"], cand, "advance")
    url = f"/interviews/{interview.public_id}/scores.csv"
    assert login_as(team["alice"]).get(url).status_code == 403
    resp = login_as(team["owner"]).get(url)
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert len(rows) == 2
    scored = next(r for r in rows if r["grader"])
    assert scored["name"] == "'=HYPERLINK(evil)"  # never a live formula in a spreadsheet
    assert (scored["q1"], scored["q2"], scored["candidate_rating"]) == ("5", "3", "4.00")
    assert scored["decision"] == "advance" and scored["recommendation"] == "yes"
    assert scored["decided_by"] == team["owner"].name


def _export_queries(client, url) -> tuple[int, int]:
    """Statements run while the whole (streamed) CSV is read, and its number of lines."""
    from sqlalchemy import event

    count = 0

    def before(*_a, **_k):
        nonlocal count
        count += 1

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        body = client.get(url).get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
    return count, len(body.splitlines())


def test_csv_export_queries_do_not_grow_with_candidates(login_as, team):
    interview = make_interview(team["owner"], questions=2)
    cc = login_as(team["owner"])
    url = f"/interviews/{interview.public_id}/scores.csv"

    def add(n):
        for _ in range(n):
            cand, _ = make_candidate(interview)
            make_scores(team["alice"], cand, [3, 4])
            grading.decide(team["owner"], cand, "hold")

    add(2)
    few, lines = _export_queries(cc, url)
    add(5)
    assert _export_queries(cc, url) == (few, lines + 5)


def test_scores_save_in_place_for_the_keyboard(login_as, team):
    cand, _ = make_candidate(make_interview(team["owner"], questions=1))
    q = cand.interview.questions[0]
    cc = login_as(team["alice"])
    url = f"/review/candidates/{cand.public_id}/questions/{q.public_id}/score"
    resp = cc.post(url, data={"value": "4"}, headers={"Accept": "application/json"})
    assert resp.status_code == 200 and resp.get_json() == {"value": 4, "comment": ""}
    bad = cc.post(url, data={"value": "7"}, headers={"Accept": "application/json"})
    assert bad.status_code == 400 and "from 1 to 5" in bad.get_json()["error"]
