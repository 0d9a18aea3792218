"""The lifecycles of answers and candidates: only the listed moves happen, a guarded move has exactly one
winner, and statuses are stored, sent and shown as the same plain words as before they were enums."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import jsonify, render_template_string

from app.extensions import db
from app.models import Answer, Candidate, utcnow
from app.services import lifecycle
from app.states import ANSWER, CANDIDATE, AnswerStatus, CandidateStatus, IllegalTransition
from tests.factories import make_candidate, make_interview, make_ready_answer, mark_completed


def test_each_lifecycle_refuses_a_move_it_does_not_list():
    ANSWER.check_move(AnswerStatus.RECORDING, AnswerStatus.UPLOADED)
    CANDIDATE.check_move(CandidateStatus.INVITED, CandidateStatus.STARTED)
    with pytest.raises(IllegalTransition, match="an answer cannot go from 'ready' to 'processing'"):
        ANSWER.check_move(AnswerStatus.READY, AnswerStatus.PROCESSING)
    with pytest.raises(IllegalTransition, match="a candidate cannot go from 'invited' to 'completed'"):
        CANDIDATE.check_move(CandidateStatus.INVITED, CandidateStatus.COMPLETED)
    # Expired is shown, never stored: no move leads to it or away from it.
    assert not any(CandidateStatus.EXPIRED in to for to in CANDIDATE.moves.values())
    assert CandidateStatus.EXPIRED not in CANDIDATE.moves


def test_of_two_workers_making_the_same_guarded_move_exactly_one_wins(app):
    cand, _ = make_candidate(make_interview(questions=1))
    answer = make_ready_answer(cand, cand.interview.questions[0])
    db.session.execute(sa.update(Answer).where(Answer.id == answer.id).values(
        status=AnswerStatus.PROCESSING, failure_reason="an earlier try", ready_at=None))
    db.session.commit()

    assert lifecycle.move_answer_where(answer.id, AnswerStatus.PROCESSING, AnswerStatus.READY) is True
    assert lifecycle.move_answer_where(answer.id, AnswerStatus.PROCESSING, AnswerStatus.READY) is False
    db.session.commit()
    db.session.expire_all()
    answer = db.session.get(Answer, answer.id)
    assert (answer.status, answer.failure_reason) == ("ready", None) and answer.ready_at is not None
    with pytest.raises(IllegalTransition):  # refused before anything is written
        lifecycle.move_answer_where(answer.id, AnswerStatus.READY, AnswerStatus.PROCESSING)


def test_a_candidate_starts_with_consent_and_completes_once(app):
    cand, _ = make_candidate(make_interview(questions=1), consent=False)
    assert cand.status == "invited" and cand.started_at is None
    with pytest.raises(IllegalTransition):
        lifecycle.move_candidate(cand, CandidateStatus.COMPLETED)

    from app.services.recording import give_consent

    give_consent(cand)
    assert cand.status == "started" and cand.started_at == cand.consent_at
    mark_completed(cand)
    assert cand.status == "completed" and cand.completed_at is not None
    with pytest.raises(IllegalTransition):
        lifecycle.move_candidate(cand, CandidateStatus.STARTED)


def test_an_unfinished_candidate_past_expiry_shows_expired_in_python_and_in_sql_alike(app):
    interview = make_interview(questions=1)
    late, _ = make_candidate(interview)
    done, _ = make_candidate(interview)
    mark_completed(done)
    for cand in (late, done):
        cand.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()

    in_sql = dict(db.session.execute(sa.select(Candidate.id, Candidate.effective_status)
                                     .where(Candidate.interview_id == interview.id)).all())
    assert in_sql == {late.id: "expired", done.id: "completed"}
    assert (late.effective_status, done.effective_status) == ("expired", "completed")
    assert late.status == "started"  # expiry is derived, never stored


def test_statuses_are_stored_sent_and_shown_as_their_plain_values(app):
    cand, _ = make_candidate(make_interview(questions=1))
    answer = make_ready_answer(cand, cand.interview.questions[0])
    stored = db.session.execute(sa.text("SELECT status FROM answers WHERE id = :id"), {"id": answer.id})
    assert stored.scalar_one() == "ready"
    stored = db.session.execute(sa.text("SELECT status FROM candidates WHERE id = :id"), {"id": cand.id})
    assert stored.scalar_one() == "started"

    with app.test_request_context():
        sent = json.loads(jsonify(status=AnswerStatus.READY, of=[CandidateStatus.EXPIRED]).get_data())
        shown = render_template_string("{{ s }} {{ s|replace('_', ' ') }} {{ 'yes' if s == 'ready' }}",
                                       s=AnswerStatus.READY)
    assert sent == {"status": "ready", "of": ["expired"]}
    assert shown == "ready ready yes"
