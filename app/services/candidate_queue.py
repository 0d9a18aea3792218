"""The grading queue: an interview's candidates with progress, reviews, rating and "my score".

Everything is aggregated in SQL, so a page costs the same few queries whatever the number of
candidates: one for the page (with the filtered total as a window count) and none per row.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from app import states
from app.extensions import db
from app.models import (
    CANDIDATE_STATUSES,
    DECISIONS,
    Answer,
    Candidate,
    Decision,
    Interview,
    Review,
    Score,
    User,
    utcnow,
)
from app.services import ServiceError

PER_PAGE = 50
SORTS = {
    "newest": "Newest first",
    "oldest": "Oldest first",
    "name": "Name",
    "rating_high": "Highest rating",
    "rating_low": "Lowest rating",
    "reviews_few": "Fewest reviews",
}
GRADED = {"": "Anyone", "mine": "Graded by me", "not_mine": "Not graded by me"}


@dataclass
class Filters:
    status: str = ""
    decision: str = ""
    graded: str = ""
    sort: str = "newest"
    page: int = 1


@dataclass
class Row:
    candidate: Candidate
    answered: int
    ready: int
    failed: int
    reviews: int
    rating: float | None
    my_score: float | None
    submitted: bool
    decision: str | None


@dataclass
class Page:
    rows: list[Row]
    total: int
    page: int
    pages: int
    questions: int


def parse_filters(args) -> Filters:
    """Query-string text to checked filters; an unknown value is a 400 that names it."""
    f = Filters(status=args.get("status", ""), decision=args.get("decision", ""),
                graded=args.get("graded", ""), sort=args.get("sort", "") or "newest")
    if f.status and f.status not in CANDIDATE_STATUSES:
        raise ServiceError(f"Unknown status filter {f.status!r}.")
    if f.decision and f.decision not in (*DECISIONS, "none"):
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


def status_expr() -> sa.ColumnElement[str]:
    """Candidate.effective_status in SQL."""
    return sa.case((sa.and_(Candidate.status.in_(("invited", "started")), Candidate.expires_at <= utcnow()),
                    "expired"), else_=Candidate.status)


def _aggregates(interview: Interview, user: User):
    in_iv = Candidate.interview_id == interview.id
    submitted = sa.and_(Review.candidate_id == Score.candidate_id, Review.user_id == Score.user_id,
                        Review.recommendation.is_not(None))
    # A candidate's rating: the mean over questions of the mean of submitted graders' scores.
    per_q = (sa.select(Score.candidate_id.label("cid"), sa.func.avg(Score.value).label("v"))
             .join(Candidate, Candidate.id == Score.candidate_id).join(Review, submitted).where(in_iv)
             .group_by(Score.candidate_id, Score.question_id).subquery())
    rating = (sa.select(per_q.c.cid, sa.func.avg(per_q.c.v).label("rating"))
              .group_by(per_q.c.cid).subquery())
    reviews = (sa.select(Review.candidate_id.label("cid"), sa.func.count().label("n"))
               .join(Candidate, Candidate.id == Review.candidate_id)
               .where(in_iv, Review.recommendation.is_not(None)).group_by(Review.candidate_id).subquery())
    mine = (sa.select(Score.candidate_id.label("cid"), sa.func.avg(Score.value).label("v"))
            .join(Candidate, Candidate.id == Score.candidate_id)
            .where(in_iv, Score.user_id == user.id).group_by(Score.candidate_id).subquery())
    my_review = (sa.select(Review.candidate_id.label("cid"))
                 .join(Candidate, Candidate.id == Review.candidate_id)
                 .where(in_iv, Review.user_id == user.id).subquery())
    last = (sa.select(sa.func.max(Decision.id)).join(Candidate, Candidate.id == Decision.candidate_id)
            .where(in_iv).group_by(Decision.candidate_id))
    decision = (sa.select(Decision.candidate_id.label("cid"), Decision.value.label("value"))
                .where(Decision.id.in_(last)).subquery())
    latest = (sa.select(Answer.candidate_id.label("cid"), Answer.question_id.label("qid"),
                        sa.func.max(Answer.take).label("take"))
              .join(Candidate, Candidate.id == Answer.candidate_id)
              .where(in_iv, Answer.status != states.RECORDING)
              .group_by(Answer.candidate_id, Answer.question_id).subquery())
    progress = (sa.select(Answer.candidate_id.label("cid"), sa.func.count().label("answered"),
                          sa.func.sum(sa.case((Answer.status == states.READY, 1), else_=0)).label("ready"),
                          sa.func.sum(sa.case((Answer.status == states.FAILED, 1), else_=0)).label("failed"))
                .join(latest, sa.and_(Answer.candidate_id == latest.c.cid,
                                      Answer.question_id == latest.c.qid, Answer.take == latest.c.take))
                .group_by(Answer.candidate_id).subquery())
    return rating, reviews, mine, my_review, decision, progress


def _filtered(interview: Interview, user: User, f: Filters):
    rating, reviews, mine, my_review, decision, progress = _aggregates(interview, user)
    stmt = (sa.select(Candidate, rating.c.rating, sa.func.coalesce(reviews.c.n, 0), mine.c.v,
                      my_review.c.cid.is_not(None), decision.c.value,
                      sa.func.coalesce(progress.c.answered, 0), sa.func.coalesce(progress.c.ready, 0),
                      sa.func.coalesce(progress.c.failed, 0), sa.func.count().over())
            .outerjoin(rating, rating.c.cid == Candidate.id)
            .outerjoin(reviews, reviews.c.cid == Candidate.id)
            .outerjoin(mine, mine.c.cid == Candidate.id)
            .outerjoin(my_review, my_review.c.cid == Candidate.id)
            .outerjoin(decision, decision.c.cid == Candidate.id)
            .outerjoin(progress, progress.c.cid == Candidate.id)
            .where(Candidate.interview_id == interview.id))
    if f.status:
        stmt = stmt.where(status_expr() == f.status)
    if f.decision == "none":
        stmt = stmt.where(decision.c.value.is_(None))
    elif f.decision:
        stmt = stmt.where(decision.c.value == f.decision)
    if f.graded == "mine":
        stmt = stmt.where(my_review.c.cid.is_not(None))
    elif f.graded == "not_mine":
        stmt = stmt.where(my_review.c.cid.is_(None))
    order = {
        "newest": [Candidate.created_at.desc()],
        "oldest": [Candidate.created_at],
        "name": [Candidate.name],
        "rating_high": [rating.c.rating.is_(None), rating.c.rating.desc()],
        "rating_low": [rating.c.rating.is_(None), rating.c.rating],
        "reviews_few": [sa.func.coalesce(reviews.c.n, 0), Candidate.created_at],
    }[f.sort]
    return stmt.order_by(*order, Candidate.id)


def queue(user: User, interview: Interview, f: Filters) -> Page:
    """One page of the interview's candidates, filtered and sorted, in one query."""
    stmt = _filtered(interview, user, f).limit(PER_PAGE).offset((f.page - 1) * PER_PAGE)
    result = db.session.execute(stmt).all()
    total = result[0][-1] if result else 0
    rows = [Row(candidate=c, rating=float(r) if r is not None else None, reviews=n,
                my_score=float(m) if m is not None else None, submitted=bool(sub), decision=d,
                answered=answered, ready=ready, failed=failed)
            for c, r, n, m, sub, d, answered, ready, failed, _ in result]
    pages = max(1, -(-total // PER_PAGE))
    return Page(rows=rows, total=total, page=f.page, pages=pages, questions=len(interview.questions))


def next_ungraded(user: User, interview: Interview, after: Candidate | None = None) -> Candidate | None:
    """The next candidate with a ready answer whom this grader has not reviewed, oldest first,
    after `after` (wrapping round to the start, never `after` itself)."""
    mine = sa.select(Review.candidate_id).where(Review.user_id == user.id)
    has_ready = sa.exists(sa.select(Answer.id).where(Answer.candidate_id == Candidate.id,
                                                     Answer.status == states.READY))
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
