"""How long processing will take: the answers waiting for it, each answer's place among them, and
an estimate in minutes from how long recent answers took.

Answers are processed in the order they were sent (app.services.pipeline), so an answer's place is
one more than the answers sent before it that are still waiting. The counts come from the
answers' statuses, the state machine's truth, rather than from the queues' lengths: a queue holds
several jobs per answer (its stages, early passes), and is shared by every organisation."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

import sqlalchemy as sa

from app.extensions import db
from app.models import Answer, AnswerStageRun, Candidate
from app.states import AnswerStatus

WAITING = (AnswerStatus.UPLOADED, AnswerStatus.PROCESSING)
# How many recently finished answers the estimate reads, and what it assumes before there are any
# (a 60 s answer's stages on one core: bench/README.md).
RECENT = 20
ASSUMED_SECONDS = 60.0
# Work done while the answer was recorded, not while it waited.
_EARLY_STAGES = ("transcode_early",)


@dataclass(frozen=True)
class Backlog:
    """`waiting` answers, the last of which should be ready in about `minutes`."""

    waiting: int
    minutes: int


@dataclass(frozen=True)
class Place:
    """An answer's place among those waiting (1: next, or being processed), and about how many
    minutes until it is ready."""

    place: int
    minutes: int


def seconds_per_answer() -> float:
    """The median processing time of the latest answers made ready: their stages' seconds added up."""
    recent = (sa.select(Answer.id).where(Answer.status == AnswerStatus.READY, Answer.ready_at.is_not(None),
                                         Answer.written_text.is_(None))
              .order_by(Answer.ready_at.desc()).limit(RECENT).subquery())
    totals = db.session.execute(
        sa.select(sa.func.sum(AnswerStageRun.seconds))
        .where(AnswerStageRun.answer_id.in_(sa.select(recent.c.id)),
               AnswerStageRun.stage.not_in(_EARLY_STAGES))
        .group_by(AnswerStageRun.answer_id)).scalars().all()
    return statistics.median(totals) if totals else ASSUMED_SECONDS


def workers() -> int:
    """How many workers take media jobs now (at least one: the estimate assumes one will)."""
    from redis.exceptions import RedisError
    from rq import Queue, Worker

    from app.queue import MEDIA_QUEUE, redis_conn

    try:
        return max(1, Worker.count(queue=Queue(MEDIA_QUEUE, connection=redis_conn())))
    except RedisError:
        return 1


def _minutes(places: int, per_answer: float, parallel: int) -> int:
    return max(1, math.ceil(places * per_answer / parallel / 60))


def _ahead_of(answer_id: int, uploaded_at) -> int:
    """The waiting answers sent before this one (any organisation's: they share the workers)."""
    return db.session.execute(
        sa.select(sa.func.count()).select_from(Answer)
        .where(Answer.status.in_(WAITING),
               sa.or_(Answer.uploaded_at < uploaded_at,
                      sa.and_(Answer.uploaded_at == uploaded_at, Answer.id < answer_id)))).scalar_one()


def place(answer: Answer) -> Place | None:
    """Where a waiting answer is; None for one that is not waiting."""
    if answer.status not in WAITING or answer.uploaded_at is None:
        return None
    n = _ahead_of(answer.id, answer.uploaded_at) + 1
    return Place(n, _minutes(n, seconds_per_answer(), workers()))


def for_interview(interview_id: int) -> Backlog:
    """The interview's answers waiting for processing, and about when the last will be ready."""
    mine = (sa.select(Answer.id, Answer.uploaded_at).join(Candidate, Candidate.id == Answer.candidate_id)
            .where(Candidate.interview_id == interview_id, Answer.status.in_(WAITING)))
    rows = db.session.execute(mine.order_by(Answer.uploaded_at.desc(), Answer.id.desc())).all()
    if not rows:
        return Backlog(0, 0)
    last = rows[0]
    places = _ahead_of(last.id, last.uploaded_at) + 1
    return Backlog(len(rows), _minutes(places, seconds_per_answer(), workers()))
