"""Stage timings: every run inserts its own row, so stages finishing together keep both timings."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from app.extensions import db
from app.models import Answer, AnswerStageRun
from app.services import pipeline
from tests.factories import make_candidate, make_interview, make_ready_answer


def _answer() -> Answer:
    candidate, _ = make_candidate(make_interview(questions=1))
    return make_ready_answer(candidate, candidate.interview.questions[0])


def test_two_stages_finishing_together_on_separate_connections_both_keep_their_timing(app):
    answer_id = _answer().id
    both_recorded = threading.Barrier(2, timeout=30)
    errors = []

    def stage(name: str, seconds: float, by_id: bool) -> None:
        try:
            with app.app_context():
                # Each thread has its own app context, so its own session and connection, as
                # the thumbnail and transcription workers do. The old JSON column was read here,
                # so both threads would have seen no timings and the later commit won.
                answer = answer_id if by_id else db.session.get(Answer, answer_id)
                pipeline.record_stage(answer, name, seconds)
                both_recorded.wait()
                db.session.commit()
                db.session.remove()
        except Exception as exc:  # reported below: an exception in a thread fails nothing
            errors.append(exc)

    threads = [threading.Thread(target=stage, args=("thumbnail", 1.25, False)),
               threading.Thread(target=stage, args=("transcribe", 2.5, True))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    db.session.expire_all()
    assert db.session.get(Answer, answer_id).stage_seconds == {"thumbnail": 1.25, "transcribe": 2.5}


def test_a_retried_stage_reports_its_latest_run_and_keeps_the_earlier_one(app):
    answer = _answer()
    assert answer.stage_seconds == {}
    pipeline.record_stage(answer, "transcode", 9.0)
    db.session.commit()
    pipeline.record_stage(answer.id, "transcode", 2.0)
    pipeline.record_stage(answer.id, "thumbnail", 0.1234567)
    db.session.commit()
    assert answer.stage_seconds == {"transcode": 2.0, "thumbnail": 0.123}
    runs = db.session.execute(db.select(AnswerStageRun.seconds).filter_by(answer_id=answer.id,
                                                                         stage="transcode")).scalars()
    assert sorted(runs) == [2.0, 9.0]


def test_recording_by_answer_id_loads_nothing_and_only_inserts(app):
    answer_id = _answer().id
    db.session.expire_all()
    statements = []

    def log(conn, cursor, statement, *args):
        statements.append(statement.strip().split()[0].upper())

    sa.event.listen(db.engine, "before_cursor_execute", log)
    try:
        pipeline.record_stage(answer_id, "transcribe_early", 3.0)
        db.session.commit()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", log)
    assert statements == ["INSERT"]
    assert db.session.get(Answer, answer_id).stage_seconds == {"transcribe_early": 3.0}


def test_an_answers_timings_go_with_it(app):
    answer = _answer()
    pipeline.record_stage(answer, "transcode", 1.0)
    db.session.commit()
    db.session.execute(db.delete(Answer).where(Answer.id == answer.id))
    db.session.commit()
    assert db.session.execute(db.select(db.func.count()).select_from(AnswerStageRun)).scalar() == 0
