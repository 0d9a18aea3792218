"""Checking a form field by field: every refusal names its field, so a form shows each beside it."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask_babel import lazy_gettext as _l

from app.i18n import LOCALES
from app.models import AccommodationPolicy, QuestionKind
from app.services import ServiceError

# The limits of a question, by field: (lowest, highest).
LIMITS = {
    "think_seconds": (0, 600),
    "answer_seconds": (5, 1800),
    "max_takes": (1, 10),
}
# A spoken language code: "en", "pt-BR", "zh_Hans".
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8}){0,2}$")


class FormErrors(ServiceError):
    """A refusal of a form with one message per field; its message says them all, in order."""

    def __init__(self, errors: dict[str, str], status: int = 400):
        super().__init__(" ".join(str(m) for m in errors.values()), status, field=next(iter(errors)))
        self.errors = {name: str(message) for name, message in errors.items()}


def errors_of(refusal) -> dict[str, str]:
    """The per-field messages of what form_refusal caught ({} when none, or not about fields)."""
    error = getattr(refusal, "error", None)
    if isinstance(error, FormErrors):
        return error.errors
    if error is not None and error.field:
        return {error.field: error.message}
    return {}


def check_all(form, checks: dict[str, Callable]) -> dict:
    """Run each field's check on the form's text; the values, or FormErrors naming every bad field."""
    values, errors = {}, {}
    for name, check in checks.items():
        try:
            values[name] = check(form.get(name))
        except ServiceError as e:
            errors[name] = e.message
    if errors:
        raise FormErrors(errors)
    return values


def whole_number(name: str, raw, low: int, high: int, label: str):
    """The text as a whole number within [low, high], or a refusal naming the field."""
    try:
        value = int(str(raw if raw is not None else "").strip())
    except ValueError:
        raise ServiceError(_l("%(label)s must be a whole number.", label=label), field=name)
    if not low <= value <= high:
        raise ServiceError(_l("%(label)s must be between %(low)s and %(high)s.", label=label, low=low,
                              high=high), field=name)
    return value


def limit(name: str) -> Callable:
    """The check of one of a question's limits (LIMITS)."""
    low, high = LIMITS[name]
    label = name.replace("_", " ").capitalize()
    return lambda raw: whole_number(name, raw, low, high, label)


def _text(raw, name: str, most: int, too_long, missing=None) -> str:
    """Trimmed text of at most `most` characters; required where a `missing` message is given."""
    text = (raw or "").strip()
    if missing is not None and not text:
        raise ServiceError(missing, field=name)
    if len(text) > most:
        raise ServiceError(too_long, field=name)
    return text


def prompt(raw) -> str:
    return _text(raw, "prompt", 2000, _l("A question's prompt may be at most 2000 characters."),
                 _l("A question needs its prompt text."))


def kind(raw) -> str:
    value = (raw or QuestionKind.VIDEO).strip()
    if value not in list(QuestionKind):
        raise ServiceError(_l("Choose a video, audio-only or written answer."), field="kind")
    return value


def title(raw) -> str:
    return _text(raw, "title", 200, _l("A title may be at most 200 characters."),
                 _l("An interview needs a title."))


def intro(raw) -> str:
    return _text(raw, "intro", 10000, _l("An introduction may be at most 10000 characters."))


def spoken_language(raw) -> str | None:
    code = (raw or "").strip()
    if code and not _LANGUAGE.match(code):
        raise ServiceError(_l("Enter a language code such as en or pt-BR, or leave it empty to detect it."),
                           field="language")
    return code or None


def interface_language(raw) -> str:
    if raw not in LOCALES:
        raise ServiceError(_l("Choose a language for the candidate's pages from the list."),
                           field="interface_language")
    return raw


def contact_email(raw) -> str | None:
    contact = (raw or "").strip().lower()
    if contact and ("@" not in contact or len(contact) > 254):
        raise ServiceError(_l("Enter a valid contact email address, or leave it empty."),
                           field="contact_email")
    return contact or None


def retention_days(raw) -> int:
    try:
        days = int(str(raw or "180").strip())
    except ValueError:
        raise ServiceError(_l("Keep recordings for a whole number of days."), field="retention_days")
    if not 1 <= days <= 3650:
        raise ServiceError(_l("Keep recordings for between 1 and 3650 days."), field="retention_days")
    return days


def accommodations(raw) -> str:
    policy = (raw or AccommodationPolicy.REVIEW).strip()
    if policy not in list(AccommodationPolicy):
        raise ServiceError(_l("Choose whether extra time is granted at once or reviewed."),
                           field="accommodations")
    return policy


def deadline_days(raw) -> int:
    """Days a new candidate has to answer, from their invitation (Interview.deadline_days)."""
    return whole_number("deadline_days", raw, 1, 365, _l("Days to answer after the invitation"))


def pool(raw) -> str | None:
    """A pool's name (questions sharing it are alternatives); empty: the question stands alone."""
    return _text(raw, "pool", 40, _l("A pool's name may be at most 40 characters.")) or None


def checked(raw) -> bool:
    """A checkbox: ticked or not."""
    return str(raw or "").strip().lower() in ("on", "yes", "1", "true")


QUESTION = {"prompt": prompt, **{name: limit(name) for name in LIMITS}, "kind": kind, "pool": pool}
SETTINGS = {"title": title, "intro": intro, "language": spoken_language,
            "interface_language": interface_language, "contact_email": contact_email,
            "retention_days": retention_days, "accommodations": accommodations,
            "deadline_days": deadline_days, "shuffle_questions": checked}
