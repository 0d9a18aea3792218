"""Writing interviews and inviting candidates; every lookup is scoped to the user's organisation."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.i18n import interface_for_spoken
from app.models import Answer, Candidate, Interview, PromptMedia, Question, QuestionKind, User
from app.services import ServiceError, audit, forms
from app.services.access import interview_visible
from app.storage import StorageError, current_storage, prompt_prefix

log = logging.getLogger(__name__)


@dataclass
class QuestionInput:
    prompt: str
    think_seconds: int = 30
    answer_seconds: int = 120
    max_takes: int = 2
    kind: str = QuestionKind.VIDEO
    pool: str | None = None  # questions sharing a pool are alternatives (app.services.pools)


def _require_author(user: User) -> None:
    if not user.can_author:
        raise ServiceError("Only owners and recruiters may change interviews and invite people.", 403)


def parse_question(form: dict) -> QuestionInput:
    """Turn form text into a checked question, or refuse with a message per field (FormErrors)."""
    return QuestionInput(**forms.check_all(form, forms.QUESTION))


def parse_interface_language(code: str | None) -> str:
    """One of the interface languages (app.i18n.LOCALES), or a refusal."""
    return forms.interface_language(code)


def set_interface_language(user: User, interview: Interview, code: str | None) -> None:
    """The language of this interview's candidate pages from now on (a candidate's own choice wins)."""
    _require_author(user)
    interview.interface_language = parse_interface_language(code)
    db.session.commit()


def list_interviews(user: User, archived: bool = False) -> list[Interview]:
    """The interviews this user may see, newest first: the current ones, or the archived ones
    (templates are listed apart, app.services.authoring.list_templates)."""
    shown = Interview.archived_at.is_not(None) if archived else Interview.archived_at.is_(None)
    return list(db.session.execute(
        db.select(Interview).filter(interview_visible(user), shown, Interview.is_template.is_(False))
        .order_by(Interview.created_at.desc())
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


def create_from_form(user: User, form) -> Interview:
    """The new-interview form: every field checked at once (FormErrors names each bad one), the
    first question included where one was written; nothing is created unless all pass."""
    _require_author(user)
    names = ["title", "intro", "language", "contact_email", "retention_days", "accommodations"]
    if form.get("interface_language"):
        names.append("interface_language")
    checks = {name: forms.SETTINGS[name] for name in names}
    if (form.get("prompt") or "").strip():
        checks.update(forms.QUESTION)
    values = forms.check_all(form, checks)
    questions = [QuestionInput(**{k: values.pop(k) for k in forms.QUESTION})] if "prompt" in values else []
    title, intro, language = values.pop("title"), values.pop("intro"), values.pop("language")
    return create_interview(user, title, intro, language, questions, values)


def _question(q: QuestionInput, position: int) -> Question:
    return Question(prompt=q.prompt, think_seconds=q.think_seconds, answer_seconds=q.answer_seconds,
                    max_takes=q.max_takes, kind=q.kind, pool=q.pool, position=position)


def add_question(user: User, interview: Interview, q: QuestionInput) -> Question:
    _require_author(user)
    question = _question(q, len(interview.questions))
    interview.questions.append(question)
    db.session.commit()
    return question


def delete_question(user: User, interview: Interview, question_public_id: str) -> None:
    """Remove a question nobody has answered (a take begun counts); the others close up."""
    _require_author(user)
    question = next((q for q in interview.questions if q.public_id == question_public_id), None)
    if question is None:
        raise ServiceError("Question not found.", 404)
    lock_question(question)
    if is_answered(question):
        db.session.rollback()
        raise ServiceError(_l("Candidates have answered this question, so it can no longer be removed: "
                              "their answers and scores belong to it."), 409)
    discard_prompt_media(list(db.session.execute(  # its video, if it has one
        db.select(PromptMedia).filter_by(question_id=question.id)).scalars()))
    interview.questions.remove(question)
    for i, q in enumerate(interview.questions):
        q.position = i
    audit.record("interview.edited", interview, actor=user, change=f"removed question {question.public_id}")
    db.session.commit()


def discard_prompt_media(rows: list[PromptMedia]) -> None:
    """Delete prompt videos' objects, then their rows (the caller commits): objects first, so that
    a failure leaves a row that can be removed again rather than objects nobody knows of."""
    store = current_storage()
    for media in rows:
        try:
            store.delete_prefix(prompt_prefix(media.public_id))
        except StorageError:
            log.exception("could not delete the objects of prompt %s", media.public_id)
            raise ServiceError(_l("The video could not be removed just now; try again."), 503)
        db.session.delete(media)


def lock_question(question: Question) -> None:
    """Hold the question's row until the transaction ends: a take starting meanwhile (which reads it
    FOR SHARE, app.services.recording) waits, then finds the question as changed, or the change
    finds its answer."""
    db.session.execute(sa.select(Question.id).where(Question.id == question.id).with_for_update())


def answered_question_ids(interview: Interview) -> set[int]:
    """The ids of the interview's questions that have a take, in one query."""
    return set(db.session.execute(
        sa.select(Answer.question_id).join(Question, Question.id == Answer.question_id)
        .where(Question.interview_id == interview.id).distinct()).scalars())


def is_answered(question: Question) -> bool:
    """Whether any take of this question was begun, kept or not."""
    return db.session.execute(
        sa.select(Answer.id).where(Answer.question_id == question.id).limit(1)).first() is not None


def has_candidates(interview: Interview) -> bool:
    return db.session.execute(
        db.select(Candidate.id).filter_by(interview_id=interview.id).limit(1)
    ).first() is not None


def invite_candidate(user: User, interview: Interview, name: str, email: str,
                     send_email: bool = False) -> tuple[Candidate, str]:
    """Create the candidate and return it with its invite token, which is never stored; with
    `send_email`, the invitation e-mail is queued in the same transaction."""
    _require_author(user)
    return enrol(interview, name, email, send_email)


def enrol(interview: Interview, name: str, email: str, send_email: bool = False) -> tuple[Candidate, str]:
    """A new candidate of an open interview with their own invite token (invite or apply link); with
    `send_email`, the invitation e-mail is queued in the same transaction."""
    from app.services import outreach

    name = name.strip()
    if not name:
        raise ServiceError("Enter the candidate's name.")
    try:
        email, _display = outreach.check_address(email)
    except ServiceError:
        raise ServiceError("Enter a valid email address for the candidate.") from None
    if not interview.questions:
        raise ServiceError("Add at least one question before inviting candidates.", 409)
    require_open(interview)
    candidate, token = outreach.new_candidate(interview, name, email)
    if send_email:
        db.session.flush()
        outreach.queue_invitation(candidate)
    db.session.commit()
    return candidate, token


def require_open(interview: Interview) -> None:
    """Refuse (409) new candidates for a template, or an interview closed or archived."""
    if interview.is_template:
        raise ServiceError(_l("This is a template: create an interview from it to invite candidates."), 409)
    if interview.closed_at is not None:
        raise ServiceError(_l("This interview is closed to new candidates; reopen it to invite more."), 409)


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
