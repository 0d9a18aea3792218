"""Blind grading: submitting a review, what a grader may see, spread, decisions and the CSV export.

The rule that keeps grading fair: nobody sees another grader's scores, comments or
recommendation on a candidate until they have submitted their own review of that candidate. A
submitted review is final (its scores can no longer change). An owner or recruiter who does not
want to grade may choose to see the scores instead, and then may no longer grade that candidate.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from statistics import mean

from flask import current_app
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import (
    Candidate,
    CandidateStats,
    Decision,
    DecisionValue,
    GuestScore,
    Interview,
    Question,
    Recommendation,
    Review,
    Score,
    User,
    utcnow,
)
from app.services import ServiceError, audit, rights

RECOMMENDATION_LABELS = {Recommendation.STRONG_YES: "Strong yes", Recommendation.YES: "Yes",
                         Recommendation.NO: "No", Recommendation.STRONG_NO: "Strong no"}
DECISION_LABELS = {DecisionValue.ADVANCE: "Advance", DecisionValue.HOLD: "Hold",
                   DecisionValue.REJECT: "Reject"}


def my_review(user: User, candidate: Candidate) -> Review | None:
    """This grader's submission on the candidate, if any."""
    return db.session.execute(
        db.select(Review).filter_by(candidate_id=candidate.id, user_id=user.id)
    ).scalar_one_or_none()


def require_not_submitted(user: User, candidate: Candidate) -> None:
    """Refuse to change scores once this grader's review is final."""
    if my_review(user, candidate) is not None:
        raise ServiceError("Your review of this candidate is submitted; its scores can no longer "
                           "change.", 409)


def submit_review(user: User, candidate: Candidate, recommendation: str, comment: str) -> Review:
    """Make this grader's scores final with an overall recommendation; every question needs a score."""
    require_not_submitted(user, candidate)
    if recommendation not in list(Recommendation):
        raise ServiceError("Choose an overall recommendation: strong yes, yes, no or strong no.")
    comment = (comment or "").strip()
    if len(comment) > 5000:
        raise ServiceError("A comment may be at most 5000 characters.")
    scored = dict(db.session.execute(
        db.select(Score.question_id, Score.value).filter_by(candidate_id=candidate.id, user_id=user.id)
    ).all())
    missing = [i + 1 for i, q in enumerate(candidate.questions) if q.id not in scored]
    if missing:
        listed = ", ".join(str(n) for n in missing)
        raise ServiceError(f"Score every question before submitting (missing: question {listed}).")
    values = list(scored.values())
    review = Review(candidate_id=candidate.id, user_id=user.id, recommendation=recommendation,
                    comment=comment, score_sum=sum(values), score_count=len(values),
                    score_min=min(values, default=None), score_max=max(values, default=None))
    _add_once(review)
    refresh_stats(candidate)
    db.session.commit()
    return review


def _add_once(review: Review) -> None:
    """Insert the review; a second submission racing the first gets a clear refusal."""
    db.session.add(review)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise ServiceError("Your review of this candidate is already submitted.", 409) from None


def refresh_stats(candidate: Candidate) -> CandidateStats:
    """Recompute the queue's figures for one candidate (in the caller's transaction)."""
    # Lock the candidate (PostgreSQL) so that two graders submitting at once are counted in turn.
    db.session.execute(db.select(Candidate.id).filter_by(id=candidate.id).with_for_update())
    stats = db.session.get(CandidateStats, candidate.id)
    if stats is None:
        stats = CandidateStats(candidate_id=candidate.id)
        db.session.add(stats)
    s = summary(candidate)
    stats.rating, stats.reviews, stats.disagreement = s.rating, len(s.graders), s.disagreement
    if s.graders and stats.first_reviewed_at is None:
        stats.first_reviewed_at = utcnow()
    latest = db.session.execute(
        db.select(Decision.value).filter_by(candidate_id=candidate.id).order_by(Decision.id.desc()).limit(1)
    ).scalar_one_or_none()
    stats.decision = latest
    return stats


def reveal_without_grading(user: User, candidate: Candidate) -> Review:
    """Owners and recruiters may see the scores without grading, giving up grading this candidate."""
    if not user.can_author:
        raise ServiceError("Submit your own review to see the other graders' scores.", 403)
    require_not_submitted(user, candidate)
    db.session.execute(db.delete(Score).filter_by(candidate_id=candidate.id, user_id=user.id))
    review = Review(candidate_id=candidate.id, user_id=user.id, recommendation=None)
    _add_once(review)
    db.session.commit()
    return review


def decide(user: User, candidate: Candidate, value: str, note: str = "", message: str = "") -> Decision:
    """Record advance, hold or reject, with who and when; owners and recruiters only. A rejection may
    carry a message for the candidate, shown on their data page and e-mailed to them
    (app.services.rights)."""
    if not user.can_author:
        raise ServiceError("Only owners and recruiters may advance, hold or reject candidates.", 403)
    if value not in list(DecisionValue):
        raise ServiceError("Choose advance, hold or reject.")
    message = (message or "").strip()[:4000]
    if message and value != DecisionValue.REJECT:
        raise ServiceError("A message to the candidate goes with a rejection only; clear it to advance "
                           "or hold.")
    decision = Decision(candidate_id=candidate.id, user_id=user.id, value=value,
                        note=(note or "").strip()[:2000], candidate_message=message or None)
    db.session.add(decision)
    db.session.flush()
    refresh_stats(candidate)
    if decision.candidate_message:
        rights.tell_of_rejection(candidate, decision)
    db.session.commit()
    return decision


def decisions(candidate: Candidate) -> list[Decision]:
    """Every decision on the candidate, newest first (the first is the current one)."""
    return list(db.session.execute(
        db.select(Decision).filter_by(candidate_id=candidate.id).order_by(Decision.id.desc())
    ).scalars())


@dataclass
class GraderScores:
    """One grader's (or guest's) scores on one candidate, by question id."""

    name: str
    kind: str  # "staff" or "guest"
    values: dict[int, float] = field(default_factory=dict)
    comments: dict[int, str] = field(default_factory=dict)
    recommendation: str | None = None
    comment: str = ""

    @property
    def rating(self) -> float | None:
        return mean(self.values.values()) if self.values else None


@dataclass
class QuestionSummary:
    """The submitted graders' scores on one question."""

    question: Question
    ratings: list[float]

    @property
    def rating(self) -> float | None:
        return mean(self.ratings) if self.ratings else None

    @property
    def spread(self) -> float:
        return max(self.ratings) - min(self.ratings) if len(self.ratings) > 1 else 0


@dataclass
class Summary:
    """Every submitted grader's scores on a candidate, the rating and the spread."""

    graders: list[GraderScores]
    guests: list[GraderScores]
    questions: list[QuestionSummary]
    threshold: float

    @property
    def rating(self) -> float | None:
        """The mean of the question ratings (each the mean of the graders' scores)."""
        rated = [q.rating for q in self.questions if q.rating is not None]
        return mean(rated) if rated else None

    @property
    def spread(self) -> float:
        rated = [g.rating for g in self.graders if g.rating is not None]
        return max(rated) - min(rated) if len(rated) > 1 else 0.0

    @property
    def disagreement(self) -> bool:
        """Graders' ratings far apart, or two graders far apart on one question: talk it over."""
        return self.spread >= self.threshold or any(q.spread >= 3 for q in self.questions)


def summary(candidate: Candidate) -> Summary:
    """Scores from submitted staff reviews (drafts never count) and guests' scores, apart."""
    return summaries([candidate])[candidate.id]


def summaries(candidates: list[Candidate], chunk: int = 500) -> dict[int, Summary]:
    """summary() for many candidates in three queries per chunk of candidates."""
    threshold = float(current_app.config.get("DISAGREEMENT_SPREAD", 1.5))
    found: dict[int, Summary] = {}
    for i in range(0, len(candidates), chunk):
        part = candidates[i:i + chunk]
        ids = [c.id for c in part]
        reviews = {(r.candidate_id, r.user_id): r for r in db.session.execute(
            db.select(Review).filter(Review.candidate_id.in_(ids), Review.recommendation.is_not(None))
        ).scalars()}
        graders: dict[int, dict[int, GraderScores]] = {cid: {} for cid in ids}
        for s in db.session.execute(
            db.select(Score).filter(Score.candidate_id.in_(ids)).options(db.joinedload(Score.user))
            .order_by(Score.user_id)
        ).scalars():
            r = reviews.get((s.candidate_id, s.user_id))
            if r is None:  # a draft
                continue
            g = graders[s.candidate_id].setdefault(s.user_id, GraderScores(
                s.user.name, "staff", recommendation=r.recommendation, comment=r.comment))
            # With criteria, the grader's exact mean, not the rounded value, feeds the rating.
            g.values[s.question_id] = mean(s.criteria) if s.criteria else s.value
            g.comments[s.question_id] = s.comment
        guests: dict[int, dict[int, GraderScores]] = {cid: {} for cid in ids}
        for s in db.session.execute(
            db.select(GuestScore).filter(GuestScore.candidate_id.in_(ids))
            .options(db.joinedload(GuestScore.guest)).order_by(GuestScore.guest_id)
        ).scalars():
            g = guests[s.candidate_id].setdefault(
                s.guest_id, GraderScores(f"{s.guest.name} (guest)", "guest"))
            g.values[s.question_id], g.comments[s.question_id] = s.value, s.comment
        for c in part:
            staff = list(graders[c.id].values())
            questions = [QuestionSummary(q, [g.values[q.id] for g in staff if q.id in g.values])
                         for q in c.questions]
            found[c.id] = Summary(staff, list(guests[c.id].values()), questions, threshold)
    return found


# A scores CSV's cell for a question this candidate was not given (another draw of its pool).
NOT_ASKED = "not asked"


def spreadsheet_text(value) -> str:
    """Spreadsheet-safe text: a leading = + - @ would be run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def start_scores_export(user: User, interview: Interview) -> int:
    """Refuse anyone but owners and recruiters, and record the download in the audit log, before
    the response starts; the id of the interview whose scores_csv() may then be streamed."""
    if not user.can_author:
        raise ServiceError("Only owners and recruiters may export scores.", 403)
    audit.record("interview.scores_exported", interview, actor=user)
    db.session.commit()
    return interview.id


def scores_csv(interview_id: int) -> Iterator[str]:
    """One row per candidate and grader (staff with a submitted review, or guest), with scores,
    in pieces. Takes the interview's id: the server sends this after the view has returned, when
    the view's database session is gone, so every row is read here, in the stream's own."""
    interview = db.session.get(Interview, interview_id)
    if interview is None:
        return
    questions = interview.questions
    candidates = list(db.session.execute(
        db.select(Candidate).filter_by(interview_id=interview.id).order_by(Candidate.created_at)
    ).scalars())
    latest = {}
    for d in db.session.execute(
        db.select(Decision).join(Candidate).filter(Candidate.interview_id == interview.id)
        .order_by(Decision.id).options(db.joinedload(Decision.user))
    ).scalars():
        latest[d.candidate_id] = d
    buf = io.StringIO()
    writer = csv.writer(buf)

    def flush() -> str:
        text = buf.getvalue()
        buf.seek(0)
        buf.truncate()
        return text

    writer.writerow(["candidate_id", "name", "email", "status", "decision", "decided_by", "decided_at",
                     "candidate_rating", "grader", "grader_kind", "recommendation", "grader_rating",
                     *[f"q{i + 1}" for i in range(len(questions))], "comment"])
    yield flush()
    every = summaries(candidates)
    for c in candidates:
        s = every[c.id]
        d = latest.get(c.id)
        head = [c.public_id, spreadsheet_text(c.name), spreadsheet_text(c.email), c.effective_status,
                d.value if d else "", spreadsheet_text(d.user.name) if d else "",
                d.created_at.isoformat(timespec="seconds") if d else "",
                f"{s.rating:.2f}" if s.rating is not None else ""]
        # A pool's other questions were never put to this candidate: said so, so that a reader
        # can tell them from a score not given (a blank cell).
        asked = {q.id for q in c.questions} if interview.draws else None
        for g in s.graders + s.guests or [None]:
            values = g.values if g is not None else {}
            cells = [f"{values[q.id]:.3g}" if q.id in values else
                     NOT_ASKED if asked is not None and q.id not in asked else "" for q in questions]
            if g is None:
                writer.writerow([*head, "", "", "", "", *cells, ""])
                continue
            writer.writerow([*head, spreadsheet_text(g.name), g.kind, g.recommendation or "",
                             f"{g.rating:.2f}" if g.rating is not None else "", *cells,
                             spreadsheet_text(g.comment)])
        yield flush()


def stamp() -> str:
    """A UTC timestamp for file names."""
    return utcnow().strftime("%Y%m%d-%H%M")
