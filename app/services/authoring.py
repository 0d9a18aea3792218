"""Changing an interview after it exists: its settings (saying first what invited candidates will
notice), its questions (edit, order; frozen once answered, but for a visible typo fix), copies and
templates, and closing, reopening and archiving it. Every lookup is scoped by the caller's
get_interview; every change is by an owner or recruiter."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.i18n import language_name
from app.models import AccommodationPolicy, Candidate, Interview, Question, User, utcnow
from app.services import ServiceError, audit, forms
from app.services.forms import FormErrors
from app.services.interviews import is_answered, lock_question

# What a candidate already invited notices of each setting (deadline_days only touches new invitations).
CANDIDATE_FACING = ("title", "intro", "language", "interface_language", "contact_email", "retention_days",
                    "accommodations", "shuffle_questions")
LIMIT_FIELDS = ("think_seconds", "answer_seconds", "max_takes", "kind")
# A correction of answered wording: at most this share of its characters, and never more than
# TYPO_MOST characters (TYPO_LEAST always allowed, so a short prompt can lose its typo too).
TYPO_SHARE, TYPO_LEAST, TYPO_MOST = 0.1, 3, 20


def require_author(user: User) -> None:
    if not user.can_author:
        raise ServiceError(_l("Only owners and recruiters may change interviews."), 403)


@dataclass
class Impact:
    """What saving new settings means for the candidates already invited."""

    changes: list[str] = field(default_factory=list)  # one sentence per changed setting
    candidates: int = 0  # invited so far (and not deleted)
    due_now: int = 0  # past a shortened retention: deleted at the next retention pass
    facing: bool = False  # some change is one that invited candidates notice

    @property
    def needs_confirmation(self) -> bool:
        return self.facing and self.candidates > 0


def read_settings(form) -> dict:
    """Every setting of the edit form, checked; FormErrors naming each bad field."""
    return forms.check_all(form, forms.SETTINGS)


def _sentences(interview: Interview, new: dict) -> dict[str, str]:
    """A sentence for each setting that changes, saying what it changes for candidates."""
    old = {name: getattr(interview, name) for name in new}
    said = {
        "title": _l("Candidates see the title “%(new)s” instead of “%(old)s”.", new=new["title"],
                    old=old["title"]),
        "intro": _l("The introduction on candidates' first page changes."),
        "language": _l("Answers processed from now on are transcribed as %(lang)s.",
                       lang=new["language"] or _l("detected from each answer")),
        "interface_language": _l("Candidates' pages are shown in %(lang)s (where a candidate has not "
                                 "chosen their own language).",
                                 lang=language_name(new["interface_language"])),
        "contact_email": _l("Candidates are told to write to %(email)s for another way to apply.",
                            email=new["contact_email"] or _l("nobody (no contact)")),
        "accommodations": _l("Requests for extra time are granted at once from now on.")
        if new["accommodations"] == AccommodationPolicy.AUTO else
        _l("Requests for extra time wait for your decision from now on."),
        "shuffle_questions": _l("Candidates who start from now on get the questions in their own random "
                                "order.") if new["shuffle_questions"] else
        _l("Candidates who start from now on get the questions in the order set here."),
        "deadline_days": _l("Candidates invited from now on have %(days)s days to answer; deadlines already "
                            "set stay as they are.", days=new["deadline_days"]),
    }
    days, before = new["retention_days"], old["retention_days"]
    said["retention_days"] = _l(
        "Recordings are kept for %(days)s days instead of %(before)s: every candidate's deletion date "
        "moves %(diff)s days earlier.", days=days, before=before, diff=before - days
    ) if days < before else _l(
        "Recordings are kept for %(days)s days instead of %(before)s. Candidates already invited were "
        "told %(before)s days; keep to what they were told, or ask for their agreement.",
        days=days, before=before)
    return {name: str(said[name]) for name in new if new[name] != old[name]}


def settings_impact(interview: Interview, new: dict) -> Impact:
    """What the new settings change, and for how many invited candidates (two counting queries)."""
    sentences = _sentences(interview, new)
    impact = Impact(changes=list(sentences.values()),
                    facing=any(name in CANDIDATE_FACING for name in sentences))
    if not sentences:
        return impact
    impact.candidates = db.session.execute(
        sa.select(sa.func.count(Candidate.id)).where(Candidate.interview_id == interview.id)).scalar_one()
    if new["retention_days"] < interview.retention_days and impact.candidates:
        cutoff = utcnow() - timedelta(days=new["retention_days"])
        impact.due_now = db.session.execute(
            sa.select(sa.func.count(Candidate.id)).where(Candidate.interview_id == interview.id,
                                                         Candidate.created_at <= cutoff)).scalar_one()
    return impact


def update_settings(user: User, interview: Interview, form, confirmed: bool) -> Impact:
    """Save the edit form's settings, unless they change something invited candidates notice and
    the change was not confirmed: then nothing is saved and the Impact says what would change."""
    require_author(user)
    new = read_settings(form)
    impact = settings_impact(interview, new)
    if impact.needs_confirmation and not confirmed:
        return impact
    changed = sorted(name for name in new if new[name] != getattr(interview, name))
    for name in changed:
        setattr(interview, name, new[name])
    if changed:
        audit.record("interview.edited", interview, actor=user, change="settings " + ", ".join(changed))
    db.session.commit()
    return impact


def find_question(interview: Interview, public_id: str) -> Question:
    question = next((q for q in interview.questions if q.public_id == public_id), None)
    if question is None:
        raise ServiceError(_l("Question not found."), 404)
    return question


def is_small_fix(old: str, new: str) -> bool:
    """Whether `new` corrects a few characters of `old` (a typo), rather than asking something else."""
    ops = difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
    changed = sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in ops if tag != "equal")
    return changed <= min(TYPO_MOST, max(TYPO_LEAST, int(len(old) * TYPO_SHARE)))


def _frozen_errors(question: Question, new: dict) -> dict[str, str]:
    """Per field, why an answered question may not change this way ({}: it may)."""
    errors = {name: str(_l("Candidates have answered this question, so its limits and answer type stay "
                           "as they were given."))
              for name in LIMIT_FIELDS if new[name] != getattr(question, name)}
    if new["prompt"] != question.prompt and not is_small_fix(question.prompt, new["prompt"]):
        errors["prompt"] = str(_l("Candidates have answered this question, so its wording is fixed: only a "
                                  "small correction such as a typo is allowed (graders see it marked as "
                                  "edited). To ask something else, add a new question."))
    return errors


def edit_question(user: User, interview: Interview, question_public_id: str, form) -> Question:
    """Change a question's wording and limits; once answered, only a typo fix, marked as edited.
    Each answer keeps the words and limits it was given (Answer.prompt_text, given_limits)."""
    require_author(user)
    question = find_question(interview, question_public_id)
    new = forms.check_all(form, forms.QUESTION)
    lock_question(question)
    if is_answered(question):
        errors = _frozen_errors(question, new)
        if errors:
            db.session.rollback()
            raise FormErrors(errors, 409)
        if new["prompt"] != question.prompt:
            question.edited_at = utcnow()
    changed = sorted(name for name in new if new[name] != getattr(question, name))
    for name in changed:
        setattr(question, name, new[name])
    if changed:
        audit.record("interview.edited", interview, actor=user,
                     change=f"question {question.public_id}: " + ", ".join(changed))
    db.session.commit()
    return question


def reorder(user: User, interview: Interview, public_ids: list[str]) -> None:
    """Put the interview's questions in this order; it must name each of them exactly once."""
    require_author(user)
    current = {q.public_id: q for q in interview.questions}
    if sorted(public_ids) != sorted(current):
        raise ServiceError(_l("The new order must list each question of this interview exactly once."), 400)
    for position, public_id in enumerate(public_ids):
        current[public_id].position = position
    audit.record("interview.edited", interview, actor=user, change="question order")
    db.session.commit()


def move_question(user: User, interview: Interview, question_public_id: str, direction: str) -> None:
    """Move one question up or down by one place (the keyboard's way to reorder)."""
    ids = [q.public_id for q in interview.questions]
    question = find_question(interview, question_public_id)
    if direction not in ("up", "down"):
        raise ServiceError(_l("Move a question up or down."), 400)
    i = ids.index(question.public_id)
    j = i - 1 if direction == "up" else i + 1
    if not 0 <= j < len(ids):
        raise ServiceError(_l("This question is already at that end of the list."), 409)
    ids[i], ids[j] = ids[j], ids[i]
    reorder(user, interview, ids)


def copy_question(source, position: int) -> Question:
    """A new question with the source's wording, limits and rubric (a Question or a BankQuestion)."""
    return Question(prompt=source.prompt, think_seconds=source.think_seconds,
                    answer_seconds=source.answer_seconds, max_takes=source.max_takes, kind=source.kind,
                    ideal_answer=source.ideal_answer or "", position=position,
                    pool=getattr(source, "pool", None),
                    criteria=list(source.criteria) if source.criteria else None)


_COPIED = ("intro", "language", "interface_language", "anonymous", "review_media", "contact_email",
           "retention_days", "accommodations", "deadline_days", "shuffle_questions")


def duplicate(user: User, interview: Interview, template: bool = False,
              title: str | None = None, commit: bool = True) -> Interview:
    """A copy of the interview with its settings, questions and rubrics: no candidates, reviewers or
    scores. template=True makes it a template (listed apart, takes no candidates). Views call
    app.services.prompt_media.duplicate, which copies the prompt videos too (commit=False)."""
    require_author(user)
    copy = Interview(org_id=user.org_id, created_by_id=user.id, is_template=template,
                     title=(title or interview.title)[:200],
                     **{name: getattr(interview, name) for name in _COPIED})
    copy.questions = [copy_question(q, i) for i, q in enumerate(interview.questions)]
    db.session.add(copy)
    audit.record("interview.copied", copy, actor=user, source=interview.public_id)
    if commit:
        db.session.commit()
    return copy


def list_templates(user: User) -> list[Interview]:
    """The organisation's interview templates, by title (owners and recruiters only)."""
    if not user.can_author:
        return []
    return list(db.session.execute(
        sa.select(Interview).where(Interview.org_id == user.org_id, Interview.is_template.is_(True))
        .order_by(Interview.title)).scalars())


def set_status(user: User, interview: Interview, action: str) -> str:
    """close, reopen, archive or unarchive; returns the status it now has."""
    require_author(user)
    if interview.is_template:
        raise ServiceError(_l("A template takes no candidates, so it cannot be closed or archived."), 409)
    now = utcnow()
    if action == "close":
        interview.closed_at = interview.closed_at or now
    elif action == "reopen":
        interview.closed_at = interview.archived_at = None
    elif action == "archive":
        interview.closed_at, interview.archived_at = interview.closed_at or now, interview.archived_at or now
    elif action == "unarchive":
        interview.archived_at = None
    else:
        raise ServiceError(_l("Unknown change of status."), 400)
    status = status_of(interview)
    audit.record("interview.status_changed", interview, actor=user, status=status)
    db.session.commit()
    return status


STATUS_LABELS = {"template": _l("Template"), "archived": _l("Archived"), "closed": _l("Closed"),
                 "open": _l("Open")}


def status_of(interview: Interview) -> str:
    """template, archived, closed or open."""
    if interview.is_template:
        return "template"
    if interview.archived_at is not None:
        return "archived"
    return "closed" if interview.closed_at is not None else "open"
