"""What graders see and do: candidates of an interview, their answers, scores."""

from __future__ import annotations

from dataclasses import dataclass

from app.extensions import db
from app.models import Answer, Candidate, Interview, Question, Score, User
from app.services import ServiceError, audit, pipeline
from app.services.access import interview_visible
from app.services.grading import require_not_submitted
from app.services.recording import current_answers


def get_candidate(user: User, public_id: str) -> Candidate:
    """A candidate of an interview this user may see; anything else is 404."""
    candidate = db.session.execute(
        db.select(Candidate).join(Interview, Interview.id == Candidate.interview_id)
        .filter(Candidate.public_id == public_id, Candidate.org_id == user.org_id,
                interview_visible(user))
    ).scalar_one_or_none()
    if candidate is None:
        raise ServiceError("Candidate not found.", 404)
    return candidate


@dataclass
class QuestionReview:
    question: Question
    answer: Answer | None
    takes: int
    my_score: Score | None


def review_items(user: User, candidate: Candidate) -> list[QuestionReview]:
    answers = current_answers(candidate)
    scores = {s.question_id: s for s in db.session.execute(
        db.select(Score).filter_by(candidate_id=candidate.id, user_id=user.id)).scalars()}
    return [QuestionReview(q, answers.get(q.id), answers[q.id].take if q.id in answers else 0,
                           scores.get(q.id))
            for q in candidate.interview.questions]


def save_score(user: User, candidate: Candidate, question_public_id: str, value: str,
               comment: str, criteria: dict[int, str] | None = None) -> Score:
    """Create or replace this grader's 1-5 score and comment for one question; where the question
    has criteria, one 1-5 score per criterion, and the question's score is their rounded mean."""
    question = next((q for q in candidate.interview.questions
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


def get_answer(user: User, public_id: str) -> Answer:
    """An answer of the user's organisation; anything else is 404."""
    answer = db.session.execute(
        db.select(Answer).join(Candidate).join(Interview, Interview.id == Candidate.interview_id)
        .filter(Answer.public_id == public_id, Candidate.org_id == user.org_id,
                interview_visible(user))
    ).scalar_one_or_none()
    if answer is None:
        raise ServiceError("Recording not found.", 404)
    return answer


def retry(user: User, answer: Answer) -> None:
    """Send an answer through processing again; owners and recruiters only, since until it is done
    the answer is hidden from every grader. Recorded in the audit log with the change."""
    if not user.can_author:
        raise ServiceError("Only owners and recruiters may process an answer again: until it is done, "
                           "the answer is hidden from every grader.", 403)
    _retry(answer, actor=user)


def operator_retry(answer: Answer) -> None:
    """The operator's `flask retry-answer`: the same, recorded as the command line's doing."""
    _retry(answer, label=audit.OPERATOR, org_id=answer.candidate.org_id)


def _retry(answer: Answer, **who) -> None:
    position = next(i for i, q in enumerate(answer.candidate.interview.questions, 1)
                    if q.id == answer.question_id)
    audit.record("answer.retried", answer.candidate, answer=answer.public_id, question=position, **who)
    pipeline.retry(answer)  # commits the event with the change, or raises before anything is written


def sound_only(answer: Answer) -> tuple[str, str] | None:
    """The stored key and content type of the answer's sound without its picture: the speech WAV,
    or the review file itself where it holds no picture (an audio answer's M4A). None for a video
    with no WAV (no sound at all, or processed before every answer kept one: `flask
    backfill-audio`): its MP4 holds the picture, which audio-only review must never send."""
    if answer.audio_key is not None:
        return answer.audio_key, "audio/wav"
    if answer.mp4_key is not None and answer.width is None:
        return answer.mp4_key, "audio/mp4"
    return None


def previous_candidate(candidate: Candidate) -> Candidate | None:
    """The candidate invited just before this one to the same interview, if any."""
    return db.session.execute(
        db.select(Candidate).filter(
            Candidate.interview_id == candidate.interview_id,
            db.or_(Candidate.created_at < candidate.created_at,
                   db.and_(Candidate.created_at == candidate.created_at, Candidate.id < candidate.id)))
        .order_by(Candidate.created_at.desc(), Candidate.id.desc()).limit(1)
    ).scalar_one_or_none()
