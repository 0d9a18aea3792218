"""How an interview is going, for owners and recruiters: the funnel (invited, opened, started,
completed, reviewed, decided), the queue's status counts, median time to complete, where candidates
stopped, the ratings' distribution, each grader's scores, and time from completion to first review.

Seven queries whatever the number of candidates: the counts are aggregated in SQL; the durations and
drop-off read one narrow column set each. The ratings, reviews and decisions are those the queue
shows (CandidateStats), so the numbers match the queue's filters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.models import Answer, Candidate, CandidateStats, Interview, Review, User
from app.services.authoring import require_author
from app.states import AnswerStatus, CandidateStatus

FUNNEL = (("invited", _l("Invited")), ("opened", _l("Opened the link")), ("started", _l("Started")),
          ("completed", _l("Completed")), ("reviewed", _l("Reviewed")), ("decided", _l("Decided")))
# The ratings' bins: 1.0-1.49, 1.5-1.99, ... 4.5-5.0 (a rating is a mean of 1-5 scores).
BINS = [1 + i / 2 for i in range(8)]


@dataclass
class Step:
    key: str
    label: str
    count: int
    of_invited: float | None  # share of everyone invited
    of_previous: float | None  # share of the step before


@dataclass
class Grader:
    name: str
    candidates: int
    mean: float
    lowest: int
    highest: int


@dataclass
class Dashboard:
    funnel: list[Step]
    statuses: dict[str, int]  # as the queue's status filter counts them (expired included)
    disagreements: int
    median_to_complete: timedelta | None
    median_to_first_review: timedelta | None
    awaiting_review: int  # completed, no review yet
    dropoff: list[tuple[str, int]] = field(default_factory=list)
    ratings: list[tuple[str, int]] = field(default_factory=list)
    graders: list[Grader] = field(default_factory=list)


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _counts(interview: Interview) -> sa.Row:
    """Every count in one pass over the candidates and their stats."""
    c, s = Candidate, CandidateStats

    def where(cond) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((cond, 1), else_=0)), 0)

    begun = c.status != CandidateStatus.INVITED
    return db.session.execute(
        sa.select(sa.func.count(c.id).label("invited"),
                  where(sa.or_(c.opened_at.is_not(None), begun)).label("opened"),
                  where(begun).label("started"),
                  where(c.status == CandidateStatus.COMPLETED).label("completed"),
                  where(sa.func.coalesce(s.reviews, 0) > 0).label("reviewed"),
                  where(s.decision.is_not(None)).label("decided"),
                  where(s.disagreement.is_(True)).label("disagreements"),
                  where(sa.and_(c.status == CandidateStatus.COMPLETED, sa.func.coalesce(s.reviews, 0) == 0))
                  .label("awaiting"),
                  *[where(c.effective_status == st.value).label(f"is_{st.value}") for st in CandidateStatus])
        .outerjoin(s, s.candidate_id == c.id).where(c.interview_id == interview.id)).one()


def _funnel(row) -> list[Step]:
    steps, previous = [], None
    for key, label in FUNNEL:
        count = getattr(row, key)
        steps.append(Step(key, str(label), count, _rate(count, row.invited),
                          None if previous is None else _rate(count, previous)))
        previous = count
    return steps


def _seconds(start, end) -> sa.ColumnElement[float]:
    """Seconds from start to end, computed by the database (no datetimes cross to Python)."""
    if db.session.get_bind().dialect.name == "sqlite":
        return (sa.func.julianday(end) - sa.func.julianday(start)) * 86400.0
    return sa.func.extract("epoch", end - start)


def _median(seconds: sa.Select) -> timedelta | None:
    """The median of a one-column select of seconds, found by the database in one pass: it numbers
    them in order and sends only the middle one or two, whatever the number of candidates."""
    value = seconds.selected_columns[0]
    ranked = (seconds.add_columns(sa.func.row_number().over(order_by=value).label("rn"),
                                  sa.func.count().over().label("n")).subquery())
    s, rn, n = ranked.c[0], ranked.c.rn, ranked.c.n
    middle = db.session.execute(sa.select(s).where(rn.in_([(n + 1) // 2, (n + 2) // 2]))).scalars().all()
    # Whole seconds: SQLite counts in fractions of a day, a few microseconds off.
    return timedelta(seconds=round(float(sum(middle)) / len(middle))) if middle else None


def _dropoff(interview: Interview) -> list[tuple[str, int]]:
    """For candidates who started and have not finished: the first question, in the order they were
    given, that they have no answer to (those who answered everything but did not finish, apart)."""
    order = [q.id for q in interview.given(None)]
    plans: dict[int, list[int]] = {}
    if interview.draws:  # their own draw and order: one more query, of the plans alone
        plans = {cid: [q.id for q in interview.given(plan)] for cid, plan in db.session.execute(
            sa.select(Candidate.id, Candidate.question_plan).where(
                Candidate.interview_id == interview.id, Candidate.status == CandidateStatus.STARTED))}
    rows = db.session.execute(
        sa.select(Candidate.id, Answer.question_id)
        .outerjoin(Answer, sa.and_(Answer.candidate_id == Candidate.id,
                                   Answer.status != AnswerStatus.RECORDING))
        .where(Candidate.interview_id == interview.id, Candidate.status == CandidateStatus.STARTED)
        .distinct()).all()
    answered: dict[int, set[int]] = {}
    for cid, qid in rows:
        answered.setdefault(cid, set()).add(qid)
    stopped = [0] * (len(order) + 1)
    for cid, done in answered.items():
        given = plans.get(cid, order)
        stopped[next((i for i, qid in enumerate(given) if qid not in done), len(order))] += 1
    out = [(str(_l("Question %(number)s", number=i + 1)), n) for i, n in enumerate(stopped[:-1])]
    return [*out, (str(_l("Every question answered, not finished")), stopped[-1])]


def _ratings(interview: Interview) -> list[tuple[str, int]]:
    """Candidates per half-point of rating, counted by the database."""
    half = sa.cast((CandidateStats.rating - 1) * 2, sa.Integer)  # ratings are >= 1: truncation floors
    if db.session.get_bind().dialect.name != "sqlite":
        half = sa.cast(sa.func.floor((CandidateStats.rating - 1) * 2), sa.Integer)
    found = db.session.execute(
        sa.select(half, sa.func.count()).join(Candidate, Candidate.id == CandidateStats.candidate_id)
        .where(Candidate.interview_id == interview.id, CandidateStats.rating.is_not(None))
        .group_by(half)).all()
    counts = [0] * len(BINS)
    for i, n in found:
        counts[min(len(BINS) - 1, max(0, i))] += n
    return [(f"{low:g} to {min(5, low + 0.5):g}", n) for low, n in zip(BINS, counts, strict=True)]


def _graders(interview: Interview) -> list[Grader]:
    """Each grader's submitted scores on this interview: how many candidates, mean, lowest, highest
    (from the sums each review keeps, app.services.grading.submit_review)."""
    per_grader = (
        sa.select(Review.user_id.label("uid"), sa.func.count(Review.id).label("n"),
                  (sa.func.sum(Review.score_sum) * 1.0 / sa.func.sum(Review.score_count)).label("mean"),
                  sa.func.min(Review.score_min).label("low"), sa.func.max(Review.score_max).label("high"))
        .join(Candidate, Candidate.id == Review.candidate_id)
        .where(Candidate.interview_id == interview.id, Review.recommendation.is_not(None),
               Review.score_count > 0)
        .group_by(Review.user_id).subquery())
    rows = db.session.execute(
        sa.select(User.name, per_grader.c.n, per_grader.c.mean, per_grader.c.low, per_grader.c.high)
        .join(per_grader, per_grader.c.uid == User.id).order_by(User.name)).all()
    return [Grader(name, n, float(avg), low, high) for name, n, avg, low, high in rows]


def dashboard(user: User, interview: Interview) -> Dashboard:
    """The interview's figures (owners and recruiters: grader names and every score are in it)."""
    require_author(user)
    row = _counts(interview)
    completed = (sa.select(_seconds(Candidate.started_at, Candidate.completed_at))
                 .where(Candidate.interview_id == interview.id, Candidate.status == CandidateStatus.COMPLETED,
                        Candidate.started_at.is_not(None), Candidate.completed_at >= Candidate.started_at))
    first_review = (
        sa.select(_seconds(Candidate.completed_at, CandidateStats.first_reviewed_at)).select_from(Candidate)
        .join(CandidateStats, CandidateStats.candidate_id == Candidate.id)
        .where(Candidate.interview_id == interview.id, Candidate.completed_at.is_not(None),
               CandidateStats.first_reviewed_at.is_not(None)))
    return Dashboard(funnel=_funnel(row), disagreements=row.disagreements, awaiting_review=row.awaiting,
                     statuses={st.value: getattr(row, f"is_{st.value}") for st in CandidateStatus},
                     median_to_complete=_median(completed), median_to_first_review=_median(first_review),
                     dropoff=_dropoff(interview), ratings=_ratings(interview), graders=_graders(interview))
