"""Writing interviews and inviting candidates; every lookup is scoped to the user's organisation."""

from __future__ import annotations

from dataclasses import dataclass

from app.extensions import db
from app.i18n import LOCALES, interface_for_spoken
from app.models import AccommodationPolicy, Candidate, Interview, Question, QuestionKind, User
from app.services import ServiceError, audit
from app.services.access import interview_visible

LIMITS = {
    "think_seconds": (0, 600),
    "answer_seconds": (5, 1800),
    "max_takes": (1, 10),
}




@dataclass
class QuestionInput:
    prompt: str
    think_seconds: int = 30
    answer_seconds: int = 120
    max_takes: int = 2
    kind: str = QuestionKind.VIDEO


def _require_author(user: User) -> None:
    if not user.can_author:
        raise ServiceError("Only owners and recruiters may change interviews and invite people.", 403)


def parse_question(form: dict) -> QuestionInput:
    """Turn form text into a checked question, or refuse with a message naming the field."""
    prompt = (form.get("prompt") or "").strip()
    if not prompt:
        raise ServiceError("A question needs its prompt text.")
    if len(prompt) > 2000:
        raise ServiceError("A question's prompt may be at most 2000 characters.")
    values = {}
    for field, (low, high) in LIMITS.items():
        raw = str(form.get(field, "")).strip()
        try:
            value = int(raw)
        except ValueError:
            raise ServiceError(f"{field.replace('_', ' ').capitalize()} must be a whole number.")
        if not low <= value <= high:
            name = field.replace("_", " ")
            raise ServiceError(f"{name.capitalize()} must be between {low} and {high}.")
        values[field] = value
    kind = (form.get("kind") or QuestionKind.VIDEO).strip()
    if kind not in list(QuestionKind):
        raise ServiceError("Choose a video, audio-only or written answer.")
    return QuestionInput(prompt=prompt, kind=kind, **values)


def parse_settings(form: dict) -> dict:
    """The candidate-facing settings of an interview, checked: contact, retention, extra time."""
    contact = (form.get("contact_email") or "").strip().lower()
    if contact and ("@" not in contact or len(contact) > 254):
        raise ServiceError("Enter a valid contact email address, or leave it empty.")
    try:
        days = int(str(form.get("retention_days") or "180").strip())
    except ValueError:
        raise ServiceError("Keep recordings for a whole number of days.")
    if not 1 <= days <= 3650:
        raise ServiceError("Keep recordings for between 1 and 3650 days.")
    policy = (form.get("accommodations") or AccommodationPolicy.REVIEW).strip()
    if policy not in list(AccommodationPolicy):
        raise ServiceError("Choose whether extra time is granted at once or reviewed.")
    settings = {"contact_email": contact or None, "retention_days": days, "accommodations": policy}
    if form.get("interface_language"):
        settings["interface_language"] = parse_interface_language(form.get("interface_language"))
    return settings


def parse_interface_language(code: str | None) -> str:
    """One of the interface languages (app.i18n.LOCALES), or a refusal."""
    if code not in LOCALES:
        raise ServiceError("Choose a language for the candidate's pages from the list.")
    return code


def set_interface_language(user: User, interview: Interview, code: str | None) -> None:
    """The language of this interview's candidate pages from now on (a candidate's own choice wins)."""
    _require_author(user)
    interview.interface_language = parse_interface_language(code)
    db.session.commit()


def list_interviews(user: User) -> list[Interview]:
    return list(db.session.execute(
        db.select(Interview).filter(interview_visible(user)).order_by(Interview.created_at.desc())
    ).scalars())


def get_interview(user: User, public_id: str) -> Interview:
    """The interview if this user may see it (organisation, assignments); otherwise a 404."""
    interview = db.session.execute(
        db.select(Interview).filter(Interview.public_id == public_id, interview_visible(user))
    ).scalar_one_or_none()
    if interview is None:
        raise ServiceError("Interview not found.", 404)
    return interview


def create_interview(user: User, title: str, intro: str = "", language: str | None = None,
                     questions: list[QuestionInput] = (), settings: dict | None = None) -> Interview:
    _require_author(user)
    title = title.strip()
    if not title:
        raise ServiceError("An interview needs a title.")
    settings = {"interface_language": interface_for_spoken(language), **(settings or {})}
    interview = Interview(org_id=user.org_id, title=title[:200], intro=intro.strip(),
                          language=(language or None), created_by_id=user.id, **settings)
    db.session.add(interview)
    for q in questions:
        interview.questions.append(_question(q, len(interview.questions)))
    db.session.flush()  # the column defaults (retention_days), for the record
    audit.record("interview.created", interview, actor=user, retention_days=interview.retention_days)
    db.session.commit()
    return interview


def _question(q: QuestionInput, position: int) -> Question:
    return Question(prompt=q.prompt, think_seconds=q.think_seconds, answer_seconds=q.answer_seconds,
                    max_takes=q.max_takes, kind=q.kind, position=position)


def add_question(user: User, interview: Interview, q: QuestionInput) -> Question:
    _require_author(user)
    question = _question(q, len(interview.questions))
    interview.questions.append(question)
    db.session.commit()
    return question


def delete_question(user: User, interview: Interview, question_public_id: str) -> None:
    _require_author(user)
    question = next((q for q in interview.questions if q.public_id == question_public_id), None)
    if question is None:
        raise ServiceError("Question not found.", 404)
    if has_candidates(interview):
        raise ServiceError("Candidates have been invited to this interview; "
                           "its questions can no longer be removed.", 409)
    interview.questions.remove(question)
    for i, q in enumerate(interview.questions):
        q.position = i
    db.session.commit()


def has_candidates(interview: Interview) -> bool:
    return db.session.execute(
        db.select(Candidate.id).filter_by(interview_id=interview.id).limit(1)
    ).first() is not None


def invite_candidate(user: User, interview: Interview, name: str, email: str,
                     send_email: bool = False) -> tuple[Candidate, str]:
    """Create the candidate and return it with its invite token, which is never stored; with
    `send_email`, the invitation e-mail is queued in the same transaction."""
    from app.services import outreach

    _require_author(user)
    name = name.strip()
    if not name:
        raise ServiceError("Enter the candidate's name.")
    try:
        email, _display = outreach.check_address(email)
    except ServiceError:
        raise ServiceError("Enter a valid email address for the candidate.") from None
    if not interview.questions:
        raise ServiceError("Add at least one question before inviting candidates.", 409)
    candidate, token = outreach.new_candidate(interview, name, email)
    if send_email:
        db.session.flush()
        outreach.queue_invitation(candidate)
    db.session.commit()
    return candidate, token


def list_candidates(interview: Interview) -> list[Candidate]:
    return list(db.session.execute(
        db.select(Candidate).filter_by(interview_id=interview.id).order_by(Candidate.created_at)
    ).scalars())


MAX_CRITERIA = 8


def set_rubric(user: User, interview: Interview, question_public_id: str, ideal_answer: str,
               criteria_text: str) -> Question:
    """Set a question's ideal answer and criteria (one per line); criteria are fixed once scored."""
    _require_author(user)
    question = next((q for q in interview.questions if q.public_id == question_public_id), None)
    if question is None:
        raise ServiceError("Question not found.", 404)
    ideal_answer = (ideal_answer or "").strip()
    if len(ideal_answer) > 5000:
        raise ServiceError("An ideal answer may be at most 5000 characters.")
    criteria = [line.strip() for line in (criteria_text or "").splitlines() if line.strip()]
    if len(criteria) > MAX_CRITERIA:
        raise ServiceError(f"A question may have at most {MAX_CRITERIA} criteria.")
    if any(len(c) > 200 for c in criteria):
        raise ServiceError("A criterion may be at most 200 characters.")
    if criteria != (question.criteria or []) and _has_scores(question):
        raise ServiceError("This question has been scored; its criteria can no longer change "
                           "(the ideal answer still can).", 409)
    question.ideal_answer, question.criteria = ideal_answer, criteria or None
    db.session.commit()
    return question


def _has_scores(question: Question) -> bool:
    from app.models import Score

    return db.session.execute(
        db.select(Score.id).filter_by(question_id=question.id).limit(1)).first() is not None
