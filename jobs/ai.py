"""Jobs on the `ai` queue: an advisory evaluation of one answer, and a drafting request. Each takes
a row id, does nothing if the row is gone or settled, and records a failure's reason on the row
(review goes on without it). The model is loaded once per worker process (app/ai/backends.py)."""

from __future__ import annotations

import logging

from jobs import app_context, lease

log = logging.getLogger(__name__)


def _backend(app):
    from app.ai import backends

    backend = app.extensions.get("oneway_llm")
    if backend is None:
        backend = app.extensions["oneway_llm"] = backends.from_config(app.config)
    return backend


def evaluate(evaluation_id: int) -> None:
    """Evaluate one answer: only the question, ideal answer, criteria and transcript go in."""
    from app.extensions import db
    from app.models import AIEvaluation, AIStatus

    with app_context() as app, lease(app.config["JOB_LEASE_SECONDS"]):
        row = db.session.get(AIEvaluation, evaluation_id)
        if row is None or row.status != AIStatus.QUEUED or not row.current:
            log.info("ai evaluation %s gone, settled or replaced: nothing to do", evaluation_id)
            return
        candidate_id = row.candidate_id
        try:
            _evaluate(app, row)
        except Exception as exc:  # recorded on the row and shown; review goes on without it
            try:
                _failed(AIEvaluation, evaluation_id, exc)
            finally:  # a failed last evaluation settles the candidate's summary too
                _summary_if_due(candidate_id)
            return
        _summary_if_due(candidate_id)


def _summary_if_due(candidate_id: int) -> None:
    """Once every evaluation of the candidate settled (done or failed), their summary is made from
    those that succeeded; if none did, the summary is recorded as failed, saying why."""
    from app.services import ai_evaluation

    due = ai_evaluation.summary_due(candidate_id)
    if due is not None:
        ai_evaluation.enqueue_summary(due)


def _now():
    from app.models import utcnow

    return utcnow()


def _evaluate(app, row) -> None:
    from app.ai import AIError, evaluation
    from app.ai.backends import ask
    from app.extensions import db
    from app.models import AIStatus, Answer
    from app.services.ai_evaluation import wanted

    answer = db.session.get(Answer, row.answer_id)
    if not wanted(answer):  # turned off, or the candidate's choice, since it was queued
        raise AIError("AI evaluation was no longer wanted for this answer when its turn came")
    question, text = answer.question, answer.transcript_text
    backend = _backend(app)
    request = evaluation.for_answer(backend.model, answer,
                                    app.config.get("AI_PROMPT_VERSION") or evaluation.PROMPT_VERSION)
    with_ideal = bool((question.ideal_answer or "").strip())
    outcome = ask(backend, request.messages, request.schema,
                  lambda raw: evaluation.validate(raw, text, with_ideal, request.prompt_version),
                  odds=evaluation.PROMPTS[request.prompt_version].weighted)
    result = outcome.value
    quotes = [{"text": q, "start": evaluation.locate(answer.transcript or {}, q)
               if answer.written_text is None else None} for q in result.quotes]
    row.result = {**result.to_dict(), "quotes": quotes, "attempts": outcome.attempts}
    row.mean = round(result.mean, 3)
    row.model, row.prompt_version = backend.model, request.prompt_version
    row.temperature, row.input_hash = request.temperature, request.input_hash
    row.seconds, row.status, row.finished_at = round(outcome.seconds, 2), AIStatus.DONE, _now()
    db.session.commit()
    log.info("ai evaluation %s of answer %s: mean %.2f in %.1fs", row.id, answer.public_id, row.mean,
             outcome.seconds)


def summarise(summary_id: int) -> None:
    """The candidate's short summary, from the current evaluations of their answers."""
    from app.extensions import db
    from app.models import AIStatus, AISummary

    with app_context() as app, lease(app.config["JOB_LEASE_SECONDS"]):
        row = db.session.get(AISummary, summary_id)
        if row is None or row.status != AIStatus.QUEUED or not row.current:
            return
        try:
            _summarise(app, row)
        except Exception as exc:  # recorded on the row and shown; the evaluations stand without it
            _failed(AISummary, summary_id, exc)


def _failed(model, row_id: int, exc: Exception) -> None:
    """Record why a job's model work failed on its row; re-raise what is not the model's fault."""
    from app.ai import AIError
    from app.extensions import db
    from app.models import AIStatus

    db.session.rollback()
    row = db.session.get(model, row_id)
    if row is not None:
        row.status, row.finished_at = AIStatus.FAILED, _now()
        row.failure_reason = (str(exc) if isinstance(exc, AIError) else f"{type(exc).__name__}: {exc}")[:2000]
        db.session.commit()
        log.warning("%s %s failed: %s", model.__tablename__, row_id, row.failure_reason)
    if not isinstance(exc, AIError):
        raise exc


def _summarise(app, row) -> None:
    from app.ai import AIError, summary
    from app.ai.backends import ask
    from app.extensions import db
    from app.models import AIEvaluation, AIStatus, Candidate

    candidate = db.session.get(Candidate, row.candidate_id)
    done = {e.question_id: e for e in db.session.execute(db.select(AIEvaluation).filter_by(
        candidate_id=candidate.id, current=True, status=AIStatus.DONE)).scalars()}
    # Only the evaluations that succeeded; those that failed are named beside the summary
    # (ai_evaluation.left_out), never guessed at.
    items = [(q.prompt, done[q.id].result["summary"], done[q.id].result["scores"])
             for q in candidate.questions if q.id in done]
    if not items:
        raise AIError("no answer of this candidate has an AI evaluation to summarise")
    backend = _backend(app)
    request = summary.build(backend.model, items)
    outcome = ask(backend, request.messages, request.schema, summary.validate, max_tokens=300)
    row.text, row.model, row.prompt_version = outcome.value, backend.model, request.prompt_version
    row.input_hash, row.seconds = request.input_hash, round(outcome.seconds, 2)
    row.status, row.finished_at = AIStatus.DONE, _now()
    db.session.commit()


def draft(draft_id: int) -> None:
    """Draft questions from a job description, or an ideal answer for one question."""
    from app.extensions import db
    from app.models import AIDraft, AIStatus

    with app_context() as app, lease(app.config["JOB_LEASE_SECONDS"]):
        row = db.session.get(AIDraft, draft_id)
        if row is None or row.status != AIStatus.QUEUED:
            return
        try:
            _draft(app, row)
        except Exception as exc:  # recorded on the row and shown on the drafting page
            _failed(AIDraft, draft_id, exc)


def _draft(app, row) -> None:
    from app.ai import drafting
    from app.ai.backends import ask
    from app.extensions import db
    from app.models import AIStatus, Question

    backend = _backend(app)
    if row.kind == "ideal":
        question = db.session.get(Question, row.question_id)
        outcome = ask(backend, drafting.ideal_messages(question.prompt, row.source),
                      drafting.ideal_schema(), lambda raw: drafting.validate_ideal(raw, question.prompt),
                      max_tokens=500)
        items = [{"prompt": question.prompt, "ideal_answer": outcome.value, "criteria": []}]
    else:
        outcome = ask(backend, drafting.questions_messages(row.source, row.count),
                      drafting.questions_schema(row.count),
                      lambda raw: drafting.validate_questions(raw, row.source), max_tokens=350 * row.count)
        items = outcome.value
    row.items = [{**item, "state": "pending"} for item in items]
    row.model, row.prompt_version = backend.model, drafting.PROMPT_VERSION
    row.seconds, row.status, row.finished_at = round(outcome.seconds, 2), AIStatus.DONE, _now()
    db.session.commit()
