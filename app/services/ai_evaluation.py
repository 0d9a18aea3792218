"""Advisory AI evaluations of answers: when one is made, who sees it and when, flags, and how well
the AI agrees with the people grading. Never a decision, never a sort order, never a rejection.

An evaluation is recorded as a row in the transaction that makes the answer ready (or that asks for
it), and its job is enqueued after the commit: nothing sent for a change rolled back, nothing lost
when the enqueue fails (reconcile() finds queued rows with no live job)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app

from app.extensions import db
from app.models import (
    AIEvaluation,
    AIStatus,
    AISummary,
    Answer,
    Candidate,
    Interview,
    Question,
    Score,
    User,
    utcnow,
)
from app.queue import AI_QUEUE, enqueue
from app.services import ServiceError, audit
from app.states import AnswerStatus

log = logging.getLogger(__name__)
CRITERION_LABELS = {"match": "Match to the ideal answer", "evidence": "Evidence and examples",
                    "clarity": "Clarity and structure"}


def model_name() -> str:
    """The model evaluations are made with now (recorded on each)."""
    from app.ai.model_files import QWEN

    return current_app.config["LLM_MODEL"] or QWEN


def wanted(answer: Answer) -> bool:
    """Whether this answer gets an evaluation: the interview has AI evaluation on, the candidate did
    not choose human-only review, and the answer is ready with words in it."""
    interview, candidate = answer.question.interview, answer.candidate
    return bool(interview.ai_evaluation and not candidate.human_only
                and answer.status == AnswerStatus.READY and answer.transcript_text.strip())


def current(answer_id: int) -> AIEvaluation | None:
    return db.session.execute(db.select(AIEvaluation).filter_by(answer_id=answer_id, current=True)
                              .order_by(AIEvaluation.id.desc()).limit(1)).scalar_one_or_none()


def _add(answer: Answer) -> AIEvaluation:
    """A new current evaluation row for the answer; older ones stay, as history."""
    db.session.execute(db.update(AIEvaluation).where(AIEvaluation.answer_id == answer.id)
                       .values(current=False))
    row = AIEvaluation(answer_id=answer.id, candidate_id=answer.candidate_id,
                       question_id=answer.question_id, status=AIStatus.QUEUED)
    db.session.add(row)
    return row


def _enqueue(row: AIEvaluation) -> None:
    enqueue("jobs.ai.evaluate", row.id, queue=AI_QUEUE, job_id=f"ai-eval-{row.id}")


def after_ready(answer_id: int) -> AIEvaluation | None:
    """Called once an answer became ready: record an evaluation and queue it, if wanted. Never
    lets a problem here touch the answer itself (Redis away: reconcile() queues it later)."""
    from redis.exceptions import RedisError

    answer = db.session.get(Answer, answer_id)
    if answer is None or not wanted(answer):
        return None
    existing = current(answer.id)
    if existing is not None and existing.status != AIStatus.FAILED:
        return existing
    row = _add(answer)
    db.session.commit()
    try:
        _enqueue(row)
    except RedisError:
        log.warning("could not queue the AI evaluation of answer %s", answer.public_id)
    return row


def evaluate_again(user: User, candidate: Candidate, question: Question) -> AIEvaluation:
    """An owner or recruiter asks for a new evaluation (the old one is kept as history)."""
    if not user.can_author:
        raise ServiceError("Only owners and recruiters may ask for a new AI evaluation.", 403)
    from app.services.takes import current_answers

    answer = current_answers(candidate).get(question.id)
    if answer is None or not wanted(answer):
        raise ServiceError("This answer cannot be evaluated: AI evaluation is off for the interview, "
                           "the candidate chose review by people only, or the answer has no words.", 409)
    row = _add(answer)
    audit.record("ai.reevaluated", candidate, actor=user, question=question.position + 1)
    db.session.commit()
    _enqueue(row)
    return row


def _stale(row: AIEvaluation, answer: Answer, question: Question) -> bool:
    """Whether the evaluation was made from other input than the answer and rubric give now."""
    from app.ai import AIError, evaluation

    if row.status == AIStatus.QUEUED:
        return False  # its job reads the question when it runs
    try:
        # Against the prompt version it was made with: a newer prompt alone does not make it stale.
        version = (row.prompt_version if row.prompt_version in evaluation.PROMPTS
                   else evaluation.PROMPT_VERSION)
        request = evaluation.build(row.model or model_name(), question.prompt, question.ideal_answer or "",
                                   question.criteria, answer.transcript_text, version)
    except AIError:
        return False
    return request.input_hash != row.input_hash


def reevaluate_question(question: Question) -> int:
    """After a question's ideal answer or criteria changed: a new evaluation of each of its answers
    whose evaluation used the old ones (those stay as history). Returns how many were queued."""
    if not question.interview.ai_evaluation:
        return 0
    rows = db.session.execute(db.select(AIEvaluation, Answer)
                              .join(Answer, Answer.id == AIEvaluation.answer_id)
                              .filter(AIEvaluation.question_id == question.id, AIEvaluation.current,
                                      Answer.status == AnswerStatus.READY)).all()
    new = [_add(answer) for row, answer in rows if _stale(row, answer, question) and wanted(answer)]
    db.session.commit()
    for row in new:
        _enqueue(row)
    return len(new)


def reconcile(min_age_s: int = 300) -> int:
    """Queue again evaluations left queued with no live job (a lost enqueue, a dead worker)."""
    from app.queue import job_alive, requeue

    cutoff = utcnow() - timedelta(seconds=min_age_s)
    rows = db.session.execute(db.select(AIEvaluation).filter(
        AIEvaluation.status == AIStatus.QUEUED, AIEvaluation.current,
        AIEvaluation.created_at < cutoff)).scalars().all()
    stale = [r for r in rows if not job_alive(f"ai-eval-{r.id}")]
    for row in stale:
        requeue("jobs.ai.evaluate", row.id, queue=AI_QUEUE, job_id=f"ai-eval-{row.id}")
    return len(stale)


def may_see(user: User, candidate: Candidate, question_id: int, my_score: Score | None,
            submitted: bool) -> bool:
    """The blind rule: a grader sees the AI's view of an answer only after saving their own score for
    it (or submitting, or choosing to see scores without grading), unless the interview's owners
    chose to show it before."""
    return bool(candidate.interview.ai_before_grading or my_score is not None or submitted)


@dataclass
class Shown:
    """One answer's evaluation as a grader's page shows it."""

    row: AIEvaluation
    criteria: list[tuple[str, int, str, float | None]]  # (label, score, reason, expected score or None)
    quotes: list[dict]  # {"text", "start"}

    @property
    def weighted(self) -> bool:
        """Whether the mean is of expected scores (the model's odds), not of the digits shown."""
        return any(c[3] is not None for c in self.criteria)

    @property
    def without_ideal(self) -> bool:
        return "match" not in (self.row.result or {}).get("scores", {})


def shown(row: AIEvaluation | None) -> Shown | None:
    if row is None:
        return None
    result = row.result or {}
    scores, reasons = result.get("scores", {}), result.get("reasons", {})
    expected = result.get("expected", {})
    criteria = [(CRITERION_LABELS[k], scores[k], reasons.get(k, ""), expected.get(k))
                for k in CRITERION_LABELS if k in scores]
    return Shown(row, criteria, result.get("quotes", []))


def for_grader(user: User, candidate: Candidate, items: list, submitted: bool) -> dict[int, Shown | None]:
    """{question id: evaluation, or None if there is none} for the answers this grader may see the
    AI's view of now; a question left out is hidden by the blind rule."""
    if not candidate.interview.ai_evaluation and not _any(candidate):
        return {}
    return {item.question.id: shown(current(item.answer.id)) for item in items
            if item.answer is not None
            and may_see(user, candidate, item.question.id, item.my_score, submitted)}


def _any(candidate: Candidate) -> bool:
    return db.session.execute(db.select(AIEvaluation.id).filter_by(candidate_id=candidate.id)
                              .limit(1)).first() is not None


def summary_due(candidate_id: int) -> AISummary | None:
    """Once every kept answer the candidate gave that is evaluated has a settled evaluation (done or
    failed), and the candidate has finished: record a new summary, to be written from the done ones
    (after the commit, queue it). If every one failed, the new summary is recorded as failed with
    the reason, and None is returned, as it is while nothing is due."""
    from app.services.takes import current_answers
    from app.states import CandidateStatus

    candidate = db.session.get(Candidate, candidate_id)
    if candidate is None or candidate.status != CandidateStatus.COMPLETED:
        return None
    answers = [a for a in current_answers(candidate).values() if wanted(a)]
    rows = [current(a.id) for a in answers]
    if not rows or any(r is None or r.status == AIStatus.QUEUED for r in rows):
        return None
    db.session.execute(db.update(AISummary).where(AISummary.candidate_id == candidate_id)
                       .values(current=False))
    row = AISummary(candidate_id=candidate_id, status=AIStatus.QUEUED)
    if not any(r.status == AIStatus.DONE for r in rows):
        row.status, row.finished_at = AIStatus.FAILED, utcnow()
        row.failure_reason = "the AI could not evaluate any of the candidate's answers, so there is " \
                             "nothing to summarise"
    db.session.add(row)
    db.session.commit()
    return row if row.status == AIStatus.QUEUED else None


def left_out(candidate: Candidate) -> list[tuple[int, str]]:
    """(question number, reason) for each answer whose current evaluation failed: the candidate's
    summary is written without them, and says so."""
    failed = {r.question_id: r.failure_reason or "" for r in db.session.execute(
        db.select(AIEvaluation).filter_by(candidate_id=candidate.id, current=True,
                                          status=AIStatus.FAILED)).scalars()}
    return [(n, failed[q.id]) for n, q in enumerate(candidate.questions, 1) if q.id in failed]


def enqueue_summary(row: AISummary) -> None:
    enqueue("jobs.ai.summarise", row.id, queue=AI_QUEUE, job_id=f"ai-summary-{row.id}")


def current_summary(candidate: Candidate) -> AISummary | None:
    return db.session.execute(db.select(AISummary).filter_by(candidate_id=candidate.id, current=True)
                              .order_by(AISummary.id.desc()).limit(1)).scalar_one_or_none()


def overall(candidate: Candidate) -> tuple[float, int] | None:
    """The candidate's AI overall: the mean of the current per-answer means, and how many answers."""
    means = db.session.execute(db.select(AIEvaluation.mean).filter(
        AIEvaluation.candidate_id == candidate.id, AIEvaluation.current,
        AIEvaluation.status == AIStatus.DONE)).scalars().all()
    return (round(sum(means) / len(means), 2), len(means)) if means else None


def flag(user: User, candidate: Candidate, evaluation_public_id: str, note: str) -> AIEvaluation:
    """A grader marks an evaluation as wrong, saying why; the flag is kept and shown with it."""
    row = db.session.execute(db.select(AIEvaluation).filter_by(
        public_id=evaluation_public_id, candidate_id=candidate.id)).scalar_one_or_none()
    if row is None:
        raise ServiceError("AI evaluation not found.", 404)
    from app.services.grading import my_review

    scored = db.session.execute(db.select(Score).filter_by(
        candidate_id=candidate.id, question_id=row.question_id, user_id=user.id)).scalar_one_or_none()
    if not may_see(user, candidate, row.question_id, scored, my_review(user, candidate) is not None):
        raise ServiceError("Save your own score for this answer first.", 403)
    note = (note or "").strip()
    if not note:
        raise ServiceError("Say what is wrong with the AI evaluation.")
    if len(note) > 2000:
        raise ServiceError("A note may be at most 2000 characters.")
    row.flagged_by_id, row.flag_note, row.flagged_at = user.id, note, utcnow()
    question = db.session.get(Question, row.question_id)
    audit.record("ai.evaluation_flagged", candidate, actor=user, question=question.position + 1)
    db.session.commit()
    return row


def set_options(user: User, interview: Interview, evaluation: bool, before_grading: bool) -> None:
    """Owners turn AI evaluation on or off for an interview, and choose whether graders see it
    before their own score (off by default: graders score first)."""
    from app.models import Role

    if user.role != Role.OWNER:
        raise ServiceError("Only owners may change AI assistance for an interview.", 403)
    interview.ai_evaluation, interview.ai_before_grading = evaluation, evaluation and before_grading
    audit.record("interview.ai_changed", interview, actor=user, evaluation="on" if evaluation else "off",
                 shown="before a grader's own score" if interview.ai_before_grading
                 else "after a grader's own score")
    db.session.commit()


@dataclass
class Agreement:
    """How the AI's per-answer means compare with the graders' mean scores on the same answers."""

    answers: int
    mean_abs_diff: float | None
    spearman: float | None


def _ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(a: list[float], b: list[float]) -> float | None:
    """Rank correlation with ties averaged; None when either side has no spread."""
    if len(a) < 3:
        return None
    ra, rb = _ranks(a), _ranks(b)
    ma, mb = sum(ra) / len(ra), sum(rb) / len(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb, strict=True))
    va, vb = sum((x - ma) ** 2 for x in ra), sum((y - mb) ** 2 for y in rb)
    return round(cov / (va * vb) ** 0.5, 3) if va and vb else None


def agreement(interview: Interview) -> Agreement:
    """Over the answers scored by both the AI and at least one grader."""
    humans = db.session.execute(
        db.select(Score.candidate_id, Score.question_id, db.func.avg(Score.value))
        .join(Candidate, Candidate.id == Score.candidate_id)
        .filter(Candidate.interview_id == interview.id)
        .group_by(Score.candidate_id, Score.question_id)).all()
    ai = {(c, q): m for c, q, m in db.session.execute(
        db.select(AIEvaluation.candidate_id, AIEvaluation.question_id, AIEvaluation.mean)
        .join(Candidate, Candidate.id == AIEvaluation.candidate_id)
        .filter(Candidate.interview_id == interview.id, AIEvaluation.current,
                AIEvaluation.status == AIStatus.DONE)).all()}
    pairs = [(float(h), ai[(c, q)]) for c, q, h in humans if (c, q) in ai]
    if not pairs:
        return Agreement(0, None, None)
    mad = round(sum(abs(h - a) for h, a in pairs) / len(pairs), 2)
    return Agreement(len(pairs), mad, spearman([h for h, _ in pairs], [a for _, a in pairs]))


def choose_human_only(candidate: Candidate, human_only: bool) -> None:
    """The candidate's choice, made before they start (with their consent, which commits it): review
    by people only means nothing of theirs goes to a language model."""
    if candidate.consent_at is None and candidate.interview.ai_evaluation:
        candidate.human_only = human_only


def for_candidate(candidate: Candidate) -> list[tuple[Question, Shown]]:
    """The candidate's own view (their data page): every current evaluation that was made."""
    rows = db.session.execute(db.select(AIEvaluation).filter_by(
        candidate_id=candidate.id, current=True, status=AIStatus.DONE)).scalars().all()
    by_question = {r.question_id: r for r in rows}
    return [(q, shown(by_question[q.id])) for q in candidate.interview.questions if q.id in by_question]
