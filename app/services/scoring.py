"""A grader's scores on one candidate: the questions as the grader's page lists them, and saving a score."""

from __future__ import annotations

from dataclasses import dataclass

from app.extensions import db
from app.models import Answer, Candidate, Question, Score, User
from app.services import ServiceError
from app.services.grading import require_not_submitted
from app.services.takes import current_answers


@dataclass
class QuestionItem:
    """One question on the grader's page: its kept answer, how many takes it took, and my score."""

    question: Question
    answer: Answer | None
    takes: int
    my_score: Score | None


def question_items(user: User, candidate: Candidate) -> list[QuestionItem]:
    """The interview's questions in order, each with the candidate's kept answer and this grader's score."""
    answers = current_answers(candidate)
    scores = {s.question_id: s for s in db.session.execute(
        db.select(Score).filter_by(candidate_id=candidate.id, user_id=user.id)).scalars()}
    return [QuestionItem(q, answers.get(q.id), answers[q.id].take if q.id in answers else 0,
                         scores.get(q.id))
            for q in candidate.questions]


def save_score(user: User, candidate: Candidate, question_public_id: str, value: str,
               comment: str, criteria: dict[int, str] | None = None) -> Score:
    """Create or replace this grader's 1-5 score and comment for one question; where the question
    has criteria, one 1-5 score per criterion, and the question's score is their rounded mean."""
    question = next((q for q in candidate.questions
                     if q.public_id == question_public_id), None)
    if question is None:
        raise ServiceError("That question is not part of this interview.", 404)
    require_not_submitted(user, candidate)
    per_criterion = None
    if question.criteria:
        per_criterion = [_one_to_five((criteria or {}).get(i, ""), f"“{name}”")
                         for i, name in enumerate(question.criteria)]
        number = int(sum(per_criterion) / len(per_criterion) + 0.5)
    else:
        number = _one_to_five(value)
    comment = (comment or "").strip()
    if len(comment) > 5000:
        raise ServiceError("A comment may be at most 5000 characters.")
    score = db.session.execute(
        db.select(Score).filter_by(candidate_id=candidate.id, question_id=question.id,
                                   user_id=user.id)
    ).scalar_one_or_none()
    if score is None:
        score = Score(candidate_id=candidate.id, question_id=question.id, user_id=user.id)
        db.session.add(score)
    score.value, score.comment, score.criteria = number, comment, per_criterion
    db.session.commit()
    return score


def _one_to_five(value, what: str = "") -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        number = 0
    if not 1 <= number <= 5:
        raise ServiceError(f"Choose a score from 1 to 5{' for ' + what if what else ''}.")
    return number


def criteria_from_form(form) -> dict[int, str]:
    """criterion-0, criterion-1, ... form fields as {0: "4", 1: "3"}."""
    found = {}
    for key, value in form.items():
        if key.startswith("criterion-") and key[10:].isdigit():
            found[int(key[10:])] = value
    return found
