"""Voluntary self-identification: the categories an organisation asks about (EEO-1's sex and
race/ethnicity unless it set its own), the candidate's answers after finishing, and nothing more.

Kept apart on purpose: only this module and the owners' report (app.services.fairness) read the
table. No grader's, reviewer's or guest's page, export, package or job imports it
(tests/test_fairness_privacy.py plants a value and looks for it everywhere they can reach)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.models import Candidate, Organisation, SelfIdentification
from app.services import ServiceError
from app.states import CandidateStatus

DIMENSIONS = ("sex", "race")
MAX_OPTIONS = 20
# The EEO-1 component 1 categories (U.S. EEOC), the default scheme.
EEO1 = {
    "sex": (_l("Sex"), [("female", _l("Female")), ("male", _l("Male"))]),
    "race": (_l("Race or ethnicity"), [
        ("hispanic_latino", _l("Hispanic or Latino")),
        ("white", _l("White (not Hispanic or Latino)")),
        ("black", _l("Black or African American (not Hispanic or Latino)")),
        ("pacific_islander", _l("Native Hawaiian or Other Pacific Islander (not Hispanic or Latino)")),
        ("asian", _l("Asian (not Hispanic or Latino)")),
        ("american_indian", _l("American Indian or Alaska Native (not Hispanic or Latino)")),
        ("two_or_more", _l("Two or more races (not Hispanic or Latino)")),
    ]),
}


@dataclass(frozen=True)
class Question:
    """One dimension of the form: its key, its question and its options (code, label)."""

    key: str
    label: str
    options: list[tuple[str, str]]

    def label_of(self, code: str | None) -> str | None:
        return dict(self.options).get(code) if code else None


def scheme(org: Organisation) -> list[Question]:
    """The organisation's form: its own categories where it set them, else EEO-1's."""
    own = org.self_id_scheme or {}
    out = []
    for key in DIMENSIONS:
        label, options = EEO1[key]
        if own.get(key):
            label, options = own[key]["label"], [tuple(o) for o in own[key]["options"]]
        out.append(Question(key, str(label), [(c, str(text)) for c, text in options]))
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:40] or "option"


def parse_options(text: str) -> list[tuple[str, str]]:
    """An owner's list (one option a line) as (code, label) pairs; refuses duplicates and excess."""
    labels = [line.strip()[:120] for line in (text or "").splitlines() if line.strip()]
    if len(labels) > MAX_OPTIONS:
        raise ServiceError(f"At most {MAX_OPTIONS} options per question.")
    pairs, seen = [], set()
    for label in labels:
        code = _slug(label)
        if code in seen:
            raise ServiceError(f"Two options read the same: {label!r}.")
        seen.add(code)
        pairs.append((code, label))
    if len(pairs) == 1:
        raise ServiceError("A question needs at least two options, or none for the default.")
    return pairs


def set_scheme(org: Organisation, form: dict[str, str]) -> None:
    """Set the organisation's own categories from an owner's form (empty lists: EEO-1's). Answers
    already given keep their codes; those no longer offered count as unknown in the report."""
    own = {}
    for key in DIMENSIONS:
        options = parse_options(form.get(f"{key}_options", ""))
        if options:
            label = (form.get(f"{key}_label") or "").strip()[:120] or str(EEO1[key][0])
            own[key] = {"label": label, "options": [list(o) for o in options]}
    org.self_id_scheme = own or None


def may_answer(candidate: Candidate) -> bool:
    """Only after finishing the interview (never before: it must not seem part of the assessment)."""
    return candidate.status == CandidateStatus.COMPLETED


def answers_of(candidate: Candidate) -> SelfIdentification | None:
    """This candidate's own answers, for their own pages and download only."""
    return db.session.execute(sa.select(SelfIdentification).filter_by(candidate_id=candidate.id)
                              ).scalar_one_or_none()


def save(candidate: Candidate, form: dict[str, str]) -> SelfIdentification:
    """Store the candidate's voluntary answers; an empty choice is "prefer not to say" (NULL)."""
    if not may_answer(candidate):
        raise ServiceError(_l("This short form opens once you have finished your interview."), 409)
    values = {}
    for q in scheme(candidate.interview.organisation):
        code = (form.get(q.key) or "").strip()
        if code and q.label_of(code) is None:
            raise ServiceError(_l("Choose one of the options shown, or “Prefer not to say”."), 400)
        values[q.key] = code or None
    row = answers_of(candidate) or SelfIdentification(candidate_id=candidate.id)
    row.sex, row.race = values["sex"], values["race"]
    db.session.add(row)
    db.session.commit()
    return row


def own_labels(candidate: Candidate) -> list[tuple[str, str | None]]:
    """(question, the candidate's answer or None) for their own data page and download."""
    row = answers_of(candidate)
    if row is None:
        return []
    return [(q.label, q.label_of(getattr(row, q.key))) for q in scheme(candidate.interview.organisation)]
