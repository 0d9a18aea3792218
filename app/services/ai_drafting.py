"""AI drafts of interview questions with ideal answers (from a pasted job description) and of an
ideal answer for a question the hirer wrote. A draft is a suggestion: nothing reaches the interview
until the hirer accepts it, as drafted or edited; the audit log says which content was AI-drafted."""

from __future__ import annotations

from app.extensions import db
from app.models import AIDraft, AIStatus, Interview, Question, User
from app.queue import AI_QUEUE, enqueue
from app.services import ServiceError, audit
from app.services.interviews import MAX_CRITERIA, QuestionInput

DEFAULT_COUNT = 5
MAX_SOURCE = 8000


def _require_author(user: User) -> None:
    if not user.can_author:
        raise ServiceError("Only owners and recruiters may draft questions.", 403)


def _start(row: AIDraft) -> AIDraft:
    db.session.add(row)
    db.session.flush()
    db.session.commit()
    enqueue("jobs.ai.draft", row.id, queue=AI_QUEUE, job_id=f"ai-draft-{row.id}")
    return row


def start_questions(user: User, interview: Interview, job_description: str, count: str | int) -> AIDraft:
    """Queue a draft of `count` questions with ideal answers from a job description."""
    _require_author(user)
    text = (job_description or "").strip()
    if len(text) < 40:
        raise ServiceError("Paste the job description (at least a few sentences) to draft questions from.")
    if len(text) > MAX_SOURCE:
        raise ServiceError(f"A job description may be at most {MAX_SOURCE} characters.")
    try:
        number = int(str(count).strip() or DEFAULT_COUNT)
    except ValueError:
        number = 0
    if not 1 <= number <= 10:
        raise ServiceError("Choose from 1 to 10 questions.")
    row = AIDraft(interview_id=interview.id, user_id=user.id, kind="questions", source=text, count=number)
    audit.record("ai.drafted", interview, actor=user, what=f"{number} question(s) from a job description")
    return _start(row)


def start_ideal(user: User, interview: Interview, question_public_id: str) -> AIDraft:
    """Queue a draft of the ideal answer for one of the interview's questions."""
    _require_author(user)
    question = _question(interview, question_public_id)
    row = AIDraft(interview_id=interview.id, user_id=user.id, kind="ideal", question_id=question.id,
                  count=1, source="")
    audit.record("ai.drafted", interview, actor=user,
                 what=f"an ideal answer for question {question.position + 1}")
    return _start(row)


def _question(interview: Interview, public_id: str) -> Question:
    question = next((q for q in interview.questions if q.public_id == public_id), None)
    if question is None:
        raise ServiceError("Question not found.", 404)
    return question


def get(user: User, interview: Interview, public_id: str) -> AIDraft:
    """A draft of this interview (the interview lookup already checked the organisation)."""
    _require_author(user)
    row = db.session.execute(db.select(AIDraft).filter_by(public_id=public_id, interview_id=interview.id)
                             ).scalar_one_or_none()
    if row is None:
        raise ServiceError("Draft not found.", 404)
    return row


def _item(row: AIDraft, index: str) -> tuple[int, dict]:
    if row.status != AIStatus.DONE:
        raise ServiceError("This draft is not ready.", 409)
    try:
        i = int(index)
        item = (row.items or [])[i]
    except (ValueError, IndexError):
        raise ServiceError("Draft item not found.", 404) from None
    if item.get("state") != "pending":
        raise ServiceError("This suggestion was already accepted or discarded.", 409)
    return i, item


def _set_state(row: AIDraft, i: int, state: str) -> None:
    items = [dict(it) for it in row.items]
    items[i]["state"] = state
    row.items = items  # a new list, so the JSON column is written


def accept(user: User, interview: Interview, row: AIDraft, index: str, prompt: str, ideal_answer: str,
           criteria_text: str) -> Question:
    """Use one suggestion, as drafted or as the hirer edited it."""
    _require_author(user)
    i, item = _item(row, index)
    prompt, ideal = (prompt or "").strip(), (ideal_answer or "").strip()
    criteria = [c.strip() for c in (criteria_text or "").splitlines() if c.strip()][:MAX_CRITERIA]
    if not prompt or len(prompt) > 2000:
        raise ServiceError("A question needs its text (at most 2000 characters).")
    if len(ideal) > 5000 or any(len(c) > 200 for c in criteria):
        raise ServiceError("An ideal answer may be at most 5000 characters, a criterion 200.")
    edited = (prompt, ideal, criteria) != (item["prompt"], item["ideal_answer"], item.get("criteria", []))
    if row.kind == "ideal":
        question = db.session.get(Question, row.question_id)
        if question is None:
            raise ServiceError("The question was removed.", 404)
        question.ideal_answer = ideal
        what = f"ideal answer for question {question.position + 1}"
    else:
        q = QuestionInput(prompt)
        question = Question(prompt=prompt, think_seconds=q.think_seconds, answer_seconds=q.answer_seconds,
                            max_takes=q.max_takes, kind=q.kind, position=len(interview.questions),
                            ideal_answer=ideal, criteria=criteria or None)
        interview.questions.append(question)
        what = f"question (number {question.position + 1}) with its ideal answer"
    _set_state(row, i, "accepted")
    audit.record("ai.draft_accepted", interview, actor=user, what=what,
                 edited=", edited before use" if edited else ", as drafted")
    db.session.commit()
    if row.kind == "ideal":
        from app.services import ai_evaluation

        ai_evaluation.reevaluate_question(question)
    return question


def discard(user: User, interview: Interview, row: AIDraft, index: str) -> None:
    _require_author(user)
    i, _item_found = _item(row, index)
    _set_state(row, i, "discarded")
    db.session.commit()
