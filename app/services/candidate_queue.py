"""The grading queue: an interview's candidates with progress, reviews, rating and "my score".

Everything is aggregated in SQL, so a page costs the same two queries whatever the number of
candidates: one picks the page's ids (with the filtered total as a window count) from candidates
and their stats (rating, reviews, decision: kept current by app.services.grading), the other
gathers progress and "my score" for those ids only. Nothing is queried per row.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from app.extensions import db
from app.models import (
    Answer,
    Candidate,
    CandidateStats,
    DecisionValue,
    Interview,
    Review,
    Score,
    User,
)
from app.services import ServiceError, anonymity
from app.states import AnswerStatus, CandidateStatus

PER_PAGE = 50
# Filters beyond the candidate's own status: invited and e-mailed, e-mail refused, link opened.
OUTREACH = ("emailed", "bounced", "opened")
SORTS = {
    "newest": "Newest first",
    "oldest": "Oldest first",
    "name": "Name",
    "rating_high": "Highest rating",
    "rating_low": "Lowest rating",
    "reviews_few": "Fewest reviews",
}
GRADED = {"": "Anyone", "mine": "Graded by me", "not_mine": "Not graded by me",
          "disagree": "Graders disagree (graded by me)"}


@dataclass
class Filters:
    """What the queue shows and in which order."""

    status: str = ""
    decision: str = ""
    graded: str = ""
    sort: str = "newest"
    page: int = 1


@dataclass
class Row:
    """One candidate in the queue."""

    candidate: Candidate
    label: str
    answered: int
    ready: int
    failed: int
    reviews: int
    rating: float | None
    my_score: float | None
    submitted: bool
    decision: str | None
    disagreement: bool = False


@dataclass
class Page:
    """One page of the queue."""

    rows: list[Row]
    total: int
    page: int
    pages: int
    questions: int
    hide_identity: bool = False


def sorts(user: User, interview: Interview) -> dict[str, str]:
    """The sort orders this user is offered: where names are hidden, "name" means "Candidate N"."""
    if anonymity.hides_identity(user, interview):
        return {**SORTS, "name": "Candidate number"}
    return SORTS


def parse_filters(args) -> Filters:
    """Query-string text to checked filters; an unknown value is a 400 that names it."""
    f = Filters(status=args.get("status", ""), decision=args.get("decision", ""),
                graded=args.get("graded", ""), sort=args.get("sort", "") or "newest")
    if f.status and f.status not in [*CandidateStatus, *OUTREACH]:
        raise ServiceError(f"Unknown status filter {f.status!r}.")
    if f.decision and f.decision not in [*DecisionValue, "none"]:
        raise ServiceError(f"Unknown decision filter {f.decision!r}.")
    if f.graded not in GRADED:
        raise ServiceError(f"Unknown filter graded={f.graded!r}.")
    if f.sort not in SORTS:
        raise ServiceError(f"Unknown sort order {f.sort!r}.")
    try:
        f.page = max(1, int(args.get("page", "1") or "1"))
    except ValueError:
        raise ServiceError("The page number must be a whole number.")
    return f


def _page_query(interview: Interview, user: User, f: Filters):
    """Candidate ids of the page, with the filtered total: candidates joined to their stats only."""
    stats = CandidateStats
    stmt = (sa.select(Candidate.id, sa.func.count().over())
            .outerjoin(stats, stats.candidate_id == Candidate.id)
            .where(Candidate.interview_id == interview.id))
    if f.status in OUTREACH:  # how reaching them stands (invited ones only)
        stmt = stmt.where(Candidate.outreach_status == f.status)
    elif f.status:
        stmt = stmt.where(Candidate.effective_status == f.status)
    if f.decision == "none":
        stmt = stmt.where(stats.decision.is_(None))
    elif f.decision:
        stmt = stmt.where(stats.decision == f.decision)
    mine = sa.select(Review.candidate_id).where(Review.user_id == user.id)
    if f.graded == "mine":
        stmt = stmt.where(Candidate.id.in_(mine))
    elif f.graded == "not_mine":
        stmt = stmt.where(Candidate.id.not_in(mine))
    elif f.graded == "disagree":  # only where this grader may already see the scores
        stmt = stmt.where(Candidate.id.in_(mine), stats.disagreement.is_(True))
    # Blind: a rating this user may not see yet must not leak through the order either.
    visible = sa.case((Candidate.id.in_(mine), stats.rating), else_=sa.null())
    # Hidden names must not leak through the order either: "Candidate N" is invitation order.
    by_name = [Candidate.created_at] if anonymity.hides_identity(user, interview) else [Candidate.name]
    order = {
        "newest": [Candidate.created_at.desc()],
        "oldest": [Candidate.created_at],
        "name": by_name,
        "rating_high": [visible.is_(None), visible.desc()],
        "rating_low": [visible.is_(None), visible],
        "reviews_few": [sa.func.coalesce(stats.reviews, 0), Candidate.created_at],
    }[f.sort]
    return stmt.order_by(*order, Candidate.id)


def _details(user: User, ids: list[int]):
    """The page's candidates with progress, stats, my score and whether I submitted: one query."""
    in_page = Answer.candidate_id.in_(ids)
    latest = (sa.select(Answer.candidate_id.label("cid"), Answer.question_id.label("qid"),
                        sa.func.max(Answer.take).label("take"))
              .where(in_page, Answer.status != AnswerStatus.RECORDING)
              .group_by(Answer.candidate_id, Answer.question_id).subquery())
    def count(status: AnswerStatus) -> sa.ColumnElement[int]:
        return sa.func.sum(sa.case((Answer.status == status, 1), else_=0))

    progress = (sa.select(Answer.candidate_id.label("cid"), sa.func.count().label("answered"),
                          count(AnswerStatus.READY).label("ready"),
                          count(AnswerStatus.FAILED).label("failed"))
                .join(latest, sa.and_(Answer.candidate_id == latest.c.cid,
                                      Answer.question_id == latest.c.qid, Answer.take == latest.c.take))
                .group_by(Answer.candidate_id).subquery())
    mine = (sa.select(Score.candidate_id.label("cid"), sa.func.avg(Score.value).label("v"))
            .where(Score.candidate_id.in_(ids), Score.user_id == user.id)
            .group_by(Score.candidate_id).subquery())
    my_review = (sa.select(Review.candidate_id.label("cid"))
                 .where(Review.candidate_id.in_(ids), Review.user_id == user.id).subquery())
    stmt = (sa.select(Candidate, CandidateStats.rating, sa.func.coalesce(CandidateStats.reviews, 0),
                      mine.c.v, my_review.c.cid.is_not(None), CandidateStats.decision,
                      sa.func.coalesce(progress.c.answered, 0), sa.func.coalesce(progress.c.ready, 0),
                      sa.func.coalesce(progress.c.failed, 0), CandidateStats.disagreement)
            .outerjoin(CandidateStats, CandidateStats.candidate_id == Candidate.id)
            .outerjoin(mine, mine.c.cid == Candidate.id)
            .outerjoin(my_review, my_review.c.cid == Candidate.id)
            .outerjoin(progress, progress.c.cid == Candidate.id)
            .where(Candidate.id.in_(ids)))
    return db.session.execute(stmt).all()


def queue(user: User, interview: Interview, f: Filters) -> Page:
    """One page of the interview's candidates, filtered and sorted, in two queries."""
    found = db.session.execute(
        _page_query(interview, user, f).limit(PER_PAGE).offset((f.page - 1) * PER_PAGE)).all()
    total = found[0][1] if found else 0
    ids = [cid for cid, _ in found]
    by_id = {r[0].id: r for r in _details(user, ids)} if ids else {}
    label = anonymity.labeller(user, interview)
    rows = []
    for cid in ids:
        c, r, n, m, sub, d, answered, ready, failed, flag = by_id[cid]
        rows.append(Row(candidate=c, label=label(c), rating=r, reviews=n,
                        my_score=float(m) if m is not None else None, submitted=bool(sub), decision=d,
                        answered=answered, ready=ready, failed=failed, disagreement=bool(flag)))
    pages = max(1, -(-total // PER_PAGE))
    return Page(rows=rows, total=total, page=f.page, pages=pages, questions=len(interview.slots()),
                hide_identity=anonymity.hides_identity(user, interview))


def next_ungraded(user: User, interview: Interview, after: Candidate | None = None) -> Candidate | None:
    """The next candidate with a ready answer whom this grader has not reviewed, oldest first,
    after `after` (wrapping round to the start, never `after` itself)."""
    mine = sa.select(Review.candidate_id).where(Review.user_id == user.id)
    has_ready = sa.exists(sa.select(Answer.id).where(Answer.candidate_id == Candidate.id,
                                                     Answer.status == AnswerStatus.READY))
    stmt = (sa.select(Candidate).where(Candidate.interview_id == interview.id, has_ready,
                                       Candidate.id.not_in(mine))
            .order_by(Candidate.created_at, Candidate.id).limit(1))
    if after is not None:
        later = sa.or_(Candidate.created_at > after.created_at,
                       sa.and_(Candidate.created_at == after.created_at, Candidate.id > after.id))
        found = db.session.execute(stmt.where(later)).scalar_one_or_none()
        if found is not None:
            return found
        stmt = stmt.where(Candidate.id != after.id)
    return db.session.execute(stmt).scalar_one_or_none()
