"""The interview's dashboard (numbers that match the queue, charts readable without colour, a query
count that does not grow with candidates) and candidates compared side by side under the blind rule."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import DecisionValue, utcnow
from app.services import candidate_queue, grading, outreach
from app.services.dashboard import dashboard
from tests.factories import (
    make_candidate,
    make_interview,
    make_ready_answer,
    make_scores,
    make_user,
    mark_completed,
)


@contextmanager
def counted():
    """Count the SQL statements run inside the block."""
    found = []

    def count(*_args, **_kw):
        found.append(1)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield found
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)


def _fill(owner, iv, app, extra: int = 0):
    """Candidates at every step; `extra` more who only opened the link."""
    make_candidate(iv, owner, consent=False)  # invited
    _, opened_token = make_candidate(iv, owner, consent=False)
    app.test_client().get(f"/i/{opened_token}")  # opened
    partway, _ = make_candidate(iv, owner)  # started, answered question 1
    make_ready_answer(partway, iv.questions[0])
    make_candidate(iv, owner)  # started, no answer
    done, _ = make_candidate(iv, owner)
    for q in iv.questions:
        make_ready_answer(done, q)
    mark_completed(done)
    make_scores(owner, done, [4, 5])
    grading.decide(owner, done, DecisionValue.ADVANCE)
    waiting, _ = make_candidate(iv, owner)
    mark_completed(waiting)
    expired, _ = make_candidate(iv, owner, consent=False)
    expired.expires_at = utcnow() - timedelta(days=1)
    db.session.commit()
    for _ in range(extra):
        c, _ = make_candidate(iv, owner, consent=False)
        outreach.mark_opened(c)
    return done, waiting


def test_funnel_and_figures_match_the_queue(app, login_as):
    owner = make_user()
    iv = make_interview(owner, questions=2)
    done, waiting = _fill(owner, iv, app)
    start = utcnow() - timedelta(hours=5)
    done.started_at, done.completed_at = start, start + timedelta(minutes=10)
    waiting.started_at, waiting.completed_at = start, start + timedelta(minutes=31)
    db.session.commit()
    d = dashboard(owner, iv)
    assert [(s.key, s.count) for s in d.funnel] == [("invited", 7), ("opened", 5), ("started", 4),
                                                   ("completed", 2), ("reviewed", 1), ("decided", 1)]
    assert d.funnel[3].of_invited == 2 / 7 and d.funnel[3].of_previous == 2 / 4
    for status, n in d.statuses.items():  # the queue's status filter counts the same
        assert candidate_queue.queue(owner, iv, candidate_queue.Filters(status=status)).total == n, status
    decided = sum(candidate_queue.queue(owner, iv, candidate_queue.Filters(decision=v)).total
                  for v in DecisionValue)
    assert decided == d.funnel[5].count
    assert d.statuses == {"invited": 2, "started": 2, "completed": 2, "expired": 1}
    assert d.dropoff == [("Question 1", 1), ("Question 2", 1), ("Every question answered, not finished", 0)]
    assert dict(d.ratings)["4.5 to 5"] == 1 and sum(n for _, n in d.ratings) == 1
    assert [(g.name, g.candidates, g.mean, g.lowest, g.highest) for g in d.graders] == [
        (owner.name, 1, 4.5, 4, 5)]
    assert d.awaiting_review == 1 and d.median_to_complete == timedelta(minutes=20, seconds=30)
    assert d.median_to_first_review is not None and d.median_to_first_review >= timedelta(0)


def test_dashboard_page_draws_labelled_charts_with_a_constant_query_count(app, login_as):
    owner = make_user()
    small, big = make_interview(owner, questions=2), make_interview(owner, questions=2)
    _fill(owner, small, app)
    _fill(owner, big, app, extra=15)
    cc = login_as(owner)
    with counted() as few:
        resp = cc.get(f"/interviews/{small.public_id}/dashboard")
    assert resp.status_code == 200
    with counted() as many:
        html = cc.get(f"/interviews/{big.public_id}/dashboard").get_data(as_text=True)
    assert len(few) == len(many)
    assert html.count('<svg role="img"') == 4
    # Every bar says its value in words beside it, and a table repeats the figures.
    assert ">Invited</text>" in html and "22 (100%)</text>" in html and '<caption>' in html
    assert 'data-status-count="expired">Expired: 1' in html


def test_reviewers_get_no_dashboard(app, login_as):
    owner = make_user()
    iv = make_interview(owner)
    reviewer = make_user(org=owner.organisation, role="reviewer")
    assert login_as(reviewer).get(f"/interviews/{iv.public_id}/dashboard").status_code == 403


def test_compare_shows_answers_side_by_side_and_scores_only_once_reviewed(app, login_as):
    owner = make_user()
    iv = make_interview(owner, questions=2)
    done, waiting = _fill(owner, iv, app)
    for q in iv.questions:
        make_ready_answer(waiting, q, written_text=f"written by waiting {q.position}")
    cc = login_as(owner)
    html = cc.get(f"/interviews/{iv.public_id}/compare?c={done.public_id}&c={waiting.public_id}").get_data(
        as_text=True)
    assert html.count("data-compare-question") == 2 and html.count("data-column=") == 4
    assert "written by waiting 1" in html
    assert "Rating 4.0 from 1 grader" in html and "Rating 5.0 from 1 grader" in html
    assert html.count("data-scores-hidden") == 2  # the candidate the owner has not reviewed


def test_compare_keeps_names_and_scores_from_a_blind_reviewer(app, login_as):
    owner = make_user()
    iv = make_interview(owner, questions=2)
    iv.anonymous = True
    db.session.commit()
    done, waiting = _fill(owner, iv, app)
    reviewer = make_user(org=owner.organisation, role="reviewer")
    html = login_as(reviewer).get(
        f"/interviews/{iv.public_id}/compare?c={done.public_id}&c={waiting.public_id}").get_data(as_text=True)
    assert "Ada Lovelace" not in html and "Candidate " in html
    assert "Rating" not in html and html.count("data-scores-hidden") == 4


def test_compare_takes_two_to_four_candidates_of_this_interview(app, login_as):
    owner = make_user()
    iv, other = make_interview(owner), make_interview(owner)
    ids = [make_candidate(iv, owner)[0].public_id for _ in range(5)]
    outsider, _ = make_candidate(other, owner)
    cc = login_as(owner)
    url = f"/interviews/{iv.public_id}/compare?"
    assert cc.get(url + f"c={ids[0]}").status_code == 400
    assert cc.get(url + f"c={ids[0]}&c={ids[0]}").status_code == 400  # one candidate, twice
    assert cc.get(url + "&".join(f"c={i}" for i in ids)).status_code == 400
    assert cc.get(url + "&".join(f"c={i}" for i in ids[:4])).status_code == 200
    assert cc.get(url + f"c={ids[0]}&c={outsider.public_id}").status_code == 404
