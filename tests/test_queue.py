"""The grading queue: columns, filters, sorting, pages, "next candidate", a constant query count."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event

from app.extensions import db
from app.services import candidate_queue, grading
from tests.factories import make_candidate, make_interview, make_ready_answer, make_scores, make_user


@pytest.fixture
def setup(app):
    owner = make_user(role="owner")
    alice = make_user(org=owner.organisation, role="reviewer")
    interview = make_interview(owner, questions=2)
    cands = []
    for name in ("Cara", "Abel", "Bea"):
        c, _ = make_candidate(interview)
        c.name = name
        cands.append(c)
    db.session.commit()
    return owner, alice, interview, cands


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr data-candidate="([^"]+)"', html)


def test_queue_shows_progress_reviews_rating_and_my_score(login_as, setup):
    owner, alice, interview, (cara, abel, _bea) = setup
    make_ready_answer(cara, interview.questions[0])
    make_scores(owner, cara, [5, 3])
    make_scores(alice, abel, [2, 2], submit=None)  # a draft
    cc = login_as(alice)
    html = cc.get(f"/interviews/{interview.public_id}/queue").get_data(as_text=True)
    row = html.split(f'data-candidate="{cara.public_id}"')[1].split("</tr>")[0]
    assert "1/2 ready" in row and "<td data-reviews>1</td>" in row
    assert "hidden" in row  # alice has not reviewed cara: the rating stays blind
    row = html.split(f'data-candidate="{abel.public_id}"')[1].split("</tr>")[0]
    assert "2.0" in row and "(draft)" in row
    html = login_as(owner).get(f"/interviews/{interview.public_id}/queue").get_data(as_text=True)
    row = html.split(f'data-candidate="{cara.public_id}"')[1].split("</tr>")[0]
    assert "<td data-rating>4.00</td>" in row
    # A second grader far from the first: the row is flagged for discussion.
    make_scores(alice, cara, [1, 1])
    html = login_as(alice).get(f"/interviews/{interview.public_id}/queue").get_data(as_text=True)
    row = html.split(f'data-candidate="{cara.public_id}"')[1].split("</tr>")[0]
    assert "data-disagreement" in row and "2.50" in row
    flagged = login_as(alice).get(f"/interviews/{interview.public_id}/queue?graded=disagree")
    assert _rows(flagged.get_data(as_text=True)) == [cara.public_id]


def test_queue_filters_and_sorts(login_as, setup):
    owner, alice, interview, (cara, abel, bea) = setup
    make_scores(owner, cara, [5, 5])
    make_scores(owner, abel, [1, 2])
    grading.decide(owner, abel, "reject")
    cc = login_as(owner)
    base = f"/interviews/{interview.public_id}/queue"
    assert _rows(cc.get(f"{base}?sort=name").get_data(as_text=True)) == [
        abel.public_id, bea.public_id, cara.public_id]
    assert _rows(cc.get(f"{base}?sort=rating_high").get_data(as_text=True)) == [
        cara.public_id, abel.public_id, bea.public_id]
    assert _rows(cc.get(f"{base}?graded=not_mine").get_data(as_text=True)) == [bea.public_id]
    # Alice has reviewed no one: sorting by rating must not reveal the others' ratings.
    ac = login_as(alice)
    assert _rows(ac.get(f"{base}?sort=rating_low").get_data(as_text=True)) == _rows(
        ac.get(f"{base}?sort=rating_high").get_data(as_text=True))
    assert _rows(cc.get(f"{base}?decision=reject").get_data(as_text=True)) == [abel.public_id]
    assert set(_rows(cc.get(f"{base}?decision=none").get_data(as_text=True))) == {
        cara.public_id, bea.public_id}
    assert _rows(cc.get(f"{base}?status=completed").get_data(as_text=True)) == []
    assert len(_rows(cc.get(f"{base}?status=started").get_data(as_text=True))) == 3
    bad = cc.get(f"{base}?sort=salary")
    assert bad.status_code == 400 and "Unknown sort order" in bad.get_data(as_text=True)
    assert cc.get(f"{base}?page=x").status_code == 400


def test_queue_pages(login_as, setup, monkeypatch):
    owner, _, interview, cands = setup
    monkeypatch.setattr(candidate_queue, "PER_PAGE", 2)
    cc = login_as(owner)
    base = f"/interviews/{interview.public_id}/queue?sort=oldest"
    first = cc.get(base).get_data(as_text=True)
    second = cc.get(base + "&page=2").get_data(as_text=True)
    assert _rows(first) == [c.public_id for c in cands[:2]] and _rows(second) == [cands[2].public_id]
    assert "Page 1 of 2" in first and 'data-total="3"' in second


def test_next_candidate_is_one_i_have_not_graded(login_as, setup):
    _owner, alice, interview, (cara, abel, bea) = setup
    for c in (cara, abel, bea):
        make_ready_answer(c, interview.questions[0])
    make_scores(alice, cara, [3, 3])
    cc = login_as(alice)
    nxt = f"/interviews/{interview.public_id}/next"
    assert cc.get(nxt).headers["Location"].endswith(f"/review/candidates/{abel.public_id}")
    # Skipping abel goes on to bea, and from bea wraps round to abel.
    assert cc.get(f"{nxt}?after={abel.public_id}").headers["Location"].endswith(bea.public_id)
    assert cc.get(f"{nxt}?after={bea.public_id}").headers["Location"].endswith(abel.public_id)
    make_scores(alice, abel, [3, 3])
    make_scores(alice, bea, [3, 3])
    resp = cc.get(nxt, follow_redirects=True)
    assert "graded every candidate" in resp.get_data(as_text=True)


def _count_queries(client, url) -> int:
    count = 0

    def before(*_a, **_k):
        nonlocal count
        count += 1

    engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return count


def test_queue_query_count_does_not_grow_with_candidates(login_as, app):
    owner = make_user(role="owner")
    reviewers = [make_user(org=owner.organisation, role="reviewer") for _ in range(2)]
    interview = make_interview(owner, questions=2)
    cc = login_as(owner)
    url = f"/interviews/{interview.public_id}/queue"

    def add(n):
        for _ in range(n):
            c, _ = make_candidate(interview)
            make_ready_answer(c, interview.questions[0])
            for r in reviewers:
                make_scores(r, c, [4, 2])
            grading.decide(owner, c, "hold")

    add(2)
    few = _count_queries(cc, url)
    add(8)
    assert _count_queries(cc, url) == few
    # The interview page adds its questions and which of them have answers (the remove buttons), and
    # its backlog of answers waiting for processing (one count while none waits).
    assert _count_queries(cc, f"/interviews/{interview.public_id}") <= few + 3
