"""Two to four candidates of one interview side by side, question by question: their kept answers
(as this user may load them) and the submitted scores, under the blind rule: a grader sees the
scores on a candidate only once they submitted their own review of them (or chose to see them)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.models import Answer, Candidate, Interview, Review, User
from app.services import ServiceError, anonymity, grading
from app.services.takes import current_answers

MOST = 4


@dataclass
class Column:
    candidate: Candidate
    label: str
    answers: dict[int, Answer]  # question id -> the kept take
    given: set[int]  # the ids of the questions they were given (question pools)
    summary: grading.Summary | None  # None: hidden until this user has reviewed the candidate


def parse_ids(values: list[str]) -> list[str]:
    """Distinct candidate ids, in the order chosen: two to four, or a refusal."""
    ids = list(dict.fromkeys(v for v in values if v))
    if not 2 <= len(ids) <= MOST:
        raise ServiceError(_l("Choose two to four candidates to compare."), 400)
    return ids


def compare(user: User, interview: Interview, public_ids: list[str]) -> list[Column]:
    """The chosen candidates of this interview (any other is 404), each with answers and scores."""
    ids = parse_ids(public_ids)
    found = {c.public_id: c for c in db.session.execute(
        sa.select(Candidate).where(Candidate.interview_id == interview.id, Candidate.public_id.in_(ids))
    ).scalars()}
    if len(found) != len(ids):
        raise ServiceError(_l("Candidate not found."), 404)
    chosen = [c.id for c in found.values()]
    reviewed = set(db.session.execute(sa.select(Review.candidate_id).where(
        Review.user_id == user.id, Review.candidate_id.in_(chosen))).scalars())
    summaries = grading.summaries([c for c in found.values() if c.id in reviewed]) if reviewed else {}
    label = anonymity.labeller(user, interview)
    return [Column(found[pid], label(found[pid]), current_answers(found[pid]),
                   {q.id for q in found[pid].questions}, summaries.get(found[pid].id)) for pid in ids]
