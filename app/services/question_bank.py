"""The organisation's question bank: questions saved with their limits and rubric, searched, and
inserted into any of its interviews (owners and recruiters)."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.models import BankQuestion, Interview, User
from app.services import ServiceError, audit, forms
from app.services.authoring import copy_question, find_question, require_author

PER_PAGE = 50


def search(user: User, text: str = "") -> list[BankQuestion]:
    """The bank's questions whose wording contains every word of `text` (any case), newest first."""
    require_author(user)
    stmt = sa.select(BankQuestion).where(BankQuestion.org_id == user.org_id)
    for word in (text or "").lower().split()[:8]:
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(sa.func.lower(BankQuestion.prompt).like(f"%{escaped}%", escape="\\"))
    return list(db.session.execute(
        stmt.order_by(BankQuestion.created_at.desc(), BankQuestion.id.desc()).limit(PER_PAGE)).scalars())


def _refuse_twice(user: User, prompt: str) -> None:
    exists = db.session.execute(sa.select(BankQuestion.id).where(
        BankQuestion.org_id == user.org_id, BankQuestion.prompt == prompt).limit(1)).first()
    if exists:
        raise ServiceError(_l("This question is in the bank already."), 409, field="prompt")


def save_from_interview(user: User, interview: Interview, question_public_id: str) -> BankQuestion:
    """Keep a copy of an interview's question, with its limits and rubric, in the bank."""
    require_author(user)
    question = find_question(interview, question_public_id)
    _refuse_twice(user, question.prompt)
    saved = BankQuestion(org_id=user.org_id, created_by_id=user.id, prompt=question.prompt,
                         think_seconds=question.think_seconds, answer_seconds=question.answer_seconds,
                         max_takes=question.max_takes, kind=question.kind, ideal_answer=question.ideal_answer,
                         criteria=list(question.criteria) if question.criteria else None)
    db.session.add(saved)
    db.session.commit()
    return saved


def add(user: User, form) -> BankQuestion:
    """A new question written straight into the bank (FormErrors per field)."""
    require_author(user)
    values = forms.check_all(form, forms.QUESTION)
    values.pop("pool", None)  # a pool is a part of one interview, not of the bank's question
    _refuse_twice(user, values["prompt"])
    saved = BankQuestion(org_id=user.org_id, created_by_id=user.id, **values)
    db.session.add(saved)
    db.session.commit()
    return saved


def get(user: User, public_id: str) -> BankQuestion:
    """A question of this user's organisation's bank; anything else is 404."""
    require_author(user)
    found = db.session.execute(sa.select(BankQuestion).where(
        BankQuestion.public_id == public_id, BankQuestion.org_id == user.org_id)).scalar_one_or_none()
    if found is None:
        raise ServiceError(_l("Question not found in the bank."), 404)
    return found


def insert(user: User, interview: Interview, bank_public_id: str):
    """Add a copy of a bank question at the end of an interview (later changes stay apart)."""
    saved = get(user, bank_public_id)
    if interview.org_id != user.org_id:  # get_interview scoped it already; fail closed regardless
        raise ServiceError(_l("Interview not found."), 404)
    question = copy_question(saved, len(interview.questions))
    interview.questions.append(question)
    audit.record("interview.edited", interview, actor=user, change="question added from the bank")
    db.session.commit()
    return question


def remove(user: User, bank_public_id: str) -> None:
    """Delete a question from the bank (interviews keep their copies)."""
    db.session.delete(get(user, bank_public_id))
    db.session.commit()
