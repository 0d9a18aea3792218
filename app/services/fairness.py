"""The owners' fairness figures: adverse impact (app.services.impact) per interview or for the whole
organisation over a date range, graders' consistency, the CSV, the chart's bars and the settings.

Owners only: the report is the one place that reads candidates' self-identification
(app.services.selfid) beside outcomes, and it shows categories, never a person's. Scores come from
SCORE_SOURCES, one entry per kind of rating: human graders' today; an AI evaluation (issue 18) adds
its own loader with register_score_source() and gets its own table, never mixed with people's."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import (
    Candidate,
    CandidateStats,
    DecisionValue,
    Interview,
    Review,
    Role,
    Score,
    SelfIdentification,
    User,
)
from app.services import ServiceError, audit, impact, selfid
from app.services.grading import spreadsheet_text
from app.states import CandidateStatus

MAX_COUNTDOWN_DAYS = 30


@dataclass(frozen=True)
class ScoreSource:
    """A kind of score: its name on the page, and a loader of {candidate id: score} for the
    candidates of a filter (a select of candidate ids)."""

    label: str
    load: Callable[[sa.Select], dict[int, float]]


def _human_scores(ids: sa.Select) -> dict[int, float]:
    rows = db.session.execute(sa.select(CandidateStats.candidate_id, CandidateStats.rating).where(
        CandidateStats.candidate_id.in_(ids), CandidateStats.rating.is_not(None)))
    return {cid: rating for cid, rating in rows}


SCORE_SOURCES: dict[str, ScoreSource] = {
    "human": ScoreSource("Human ratings (each candidate's mean score from the graders)", _human_scores),
}


def register_score_source(key: str, label: str, load: Callable[[sa.Select], dict[int, float]]) -> None:
    """Add a kind of score to the report (an AI evaluation's, say): its own table and CSV rows."""
    SCORE_SOURCES[key] = ScoreSource(label, load)


@dataclass(frozen=True)
class Filter:
    """Whose figures: one organisation, optionally one interview, completed within [start, end]."""

    org_id: int
    interview: Interview | None
    start: date | None
    end: date | None

    def candidate_ids(self) -> sa.Select:
        where = [Candidate.org_id == self.org_id, Candidate.status == CandidateStatus.COMPLETED]
        if self.interview is not None:
            where.append(Candidate.interview_id == self.interview.id)
        if self.start:
            where.append(Candidate.completed_at >= datetime.combine(self.start, time(), UTC))
        if self.end:
            where.append(Candidate.completed_at < datetime.combine(self.end + timedelta(days=1), time(), UTC))
        return sa.select(Candidate.id).where(*where)


@dataclass
class Breakdown:
    """One way of grouping (by sex, by race/ethnicity, by both), its labels and its table."""

    key: str
    title: str
    table: impact.Table
    labels: dict[tuple[str, ...], str]


@dataclass
class Report:
    filter: Filter
    completed: int
    selected: int
    selection: list[Breakdown]
    scoring: dict[str, tuple[float | None, int, list[Breakdown]]] = field(default_factory=dict)


def require_owner(user: User) -> None:
    if user.role != Role.OWNER:
        raise ServiceError("Only owners may see the fairness figures.", 403)


def _day(text: str | None, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ServiceError(f"The {name} date must look like 2026-12-31.") from None


def parse_filter(user: User, args: dict) -> Filter:
    """An owner's filter from the page's query: ?interview=<public id>&from=&to= (all optional)."""
    require_owner(user)
    interview = None
    if args.get("interview"):
        interview = db.session.execute(sa.select(Interview).filter_by(
            public_id=args["interview"], org_id=user.org_id)).scalar_one_or_none()
        if interview is None:
            raise ServiceError("Interview not found.", 404)
    start, end = _day(args.get("from"), "start"), _day(args.get("to"), "end")
    if start and end and start > end:
        raise ServiceError("The start date is after the end date.")
    return Filter(user.org_id, interview, start, end)


def _breakdowns(org, people: list[tuple[str | None, str | None, bool]]) -> list[Breakdown]:
    sex_q, race_q = selfid.scheme(org)
    # A code no longer offered by the scheme counts as unknown.
    sexes, races = {c for c, _ in sex_q.options}, {c for c, _ in race_q.options}
    rows = [(s if s in sexes else None, r if r in races else None, hit) for s, r, hit in people]
    return [
        Breakdown("sex", sex_q.label, impact.rates(((s,), h) for s, _, h in rows),
                  {(c,): text for c, text in sex_q.options}),
        Breakdown("race", race_q.label, impact.rates(((r,), h) for _, r, h in rows),
                  {(c,): text for c, text in race_q.options}),
        Breakdown("sex_race", f"{sex_q.label} × {race_q.label}",
                  impact.rates(((s, r), h) for s, r, h in rows),
                  {(a, b): f"{x} × {y}" for a, x in sex_q.options for b, y in race_q.options}),
    ]


def report(user: User, flt: Filter) -> Report:
    """Selection rates and, per score source, scoring rates, with their impact ratios."""
    require_owner(user)
    ids = flt.candidate_ids()
    rows = db.session.execute(
        sa.select(Candidate.id, SelfIdentification.sex, SelfIdentification.race, CandidateStats.decision)
        .select_from(Candidate)
        .outerjoin(SelfIdentification, SelfIdentification.candidate_id == Candidate.id)
        .outerjoin(CandidateStats, CandidateStats.candidate_id == Candidate.id)
        .where(Candidate.id.in_(ids))).all()
    org = user.organisation
    advance = DecisionValue.ADVANCE.value  # a plain str: comparing with the StrEnum costs 10x here
    advanced = [(s, r, d == advance) for _, s, r, d in rows]
    out = Report(flt, len(rows), sum(h for *_, h in advanced), _breakdowns(org, advanced))
    categories = {cid: (s, r) for cid, s, r, _ in rows}
    for key, source in SCORE_SOURCES.items():
        scores = {cid: v for cid, v in source.load(ids).items() if cid in categories}
        mid, above = impact.above_median(scores)
        people = [(*categories[cid], cid in above) for cid in scores]
        out.scoring[key] = (mid, len(scores), _breakdowns(org, people))
    return out


@dataclass(frozen=True)
class GraderRow:
    name: str
    figures: impact.GraderFigures

    @property
    def leaning(self) -> str:
        d = self.figures.difference
        return "more lenient" if d >= LEANING else "more severe" if d <= -LEANING else "in line"


# A grader whose mean is this far (on the 1-5 scale) from the team's on the same candidates is shown as
# more lenient or more severe.
LEANING = 0.5


def graders(user: User, flt: Filter) -> list[GraderRow]:
    """Each grader's submitted scores (their mean per candidate) against the team's on the same
    candidates. Drafts are nobody's opinion yet and guests are not on the team: both are left out."""
    require_owner(user)
    rows = db.session.execute(
        sa.select(Score.user_id, Score.candidate_id, sa.func.avg(Score.value))
        .join(Review, sa.and_(Review.user_id == Score.user_id, Review.candidate_id == Score.candidate_id))
        .where(Score.candidate_id.in_(flt.candidate_ids()), Review.recommendation.is_not(None))
        .group_by(Score.user_id, Score.candidate_id)).all()
    figures = impact.consistency({(u, c): float(v) for u, c, v in rows})
    names = dict(db.session.execute(sa.select(User.id, User.name).where(
        User.id.in_([f.grader for f in figures]))).all())
    return [GraderRow(names.get(f.grader, "?"), f) for f in figures]


def _fmt(value) -> str:
    return "" if value is None else f"{float(value):.3f}"


def _csv_rows(rep: Report) -> Iterator[list[str]]:
    yield ["measure", "breakdown", "category", "people", "selected_or_above_median", "rate", "impact_ratio",
           "below_four_fifths", "note"]
    sections = [("selection rate", rep.selection)] + [
        (f"scoring rate: {SCORE_SOURCES[k].label}", b) for k, (_, _, b) in rep.scoring.items()]
    for measure, breakdowns in sections:
        for b in breakdowns:
            for g in b.table.groups:
                note = "too few to report" if g.too_few else ""
                hits = "" if g.too_few else str(g.hits)
                yield [measure, b.title, b.labels.get(g.key, "/".join(g.key)), str(g.n), hits, _fmt(g.rate),
                       _fmt(g.ratio), "yes" if g.flagged else "", note]
            yield [measure, b.title, "unknown category", str(b.table.unknown), "", "", "", "",
                   "not placed in any category"]


def report_csv(user: User, rep: Report) -> str:
    """The report as CSV, every cell spreadsheet-safe (categories are an organisation's own text)."""
    audit.record("fairness.report_exported", ("organisation", user.organisation.public_id), actor=user)
    db.session.commit()
    out = io.StringIO()
    writer = csv.writer(out)
    for row in _csv_rows(rep):
        writer.writerow([spreadsheet_text(cell) for cell in row])
    return out.getvalue()


@dataclass(frozen=True)
class Bar:
    label: str
    ratio: float | None
    flagged: bool
    too_few: bool


def chart_bars(b: Breakdown) -> list[Bar]:
    """One bar per category of a breakdown, for the page's server-drawn chart."""
    return [Bar(b.labels.get(g.key, "/".join(g.key)), None if g.ratio is None else float(g.ratio),
                g.flagged, g.too_few) for g in b.table.groups]


def save_settings(user: User, form: dict) -> None:
    """An owner sets the deletion countdown, whether candidates' downloads hold their outcome, and the
    self-identification categories."""
    require_owner(user)
    try:
        days = int(form.get("deletion_countdown_days", ""))
    except ValueError:
        raise ServiceError("The countdown must be a whole number of days.") from None
    if not 1 <= days <= MAX_COUNTDOWN_DAYS:
        raise ServiceError(f"The countdown must be between 1 and {MAX_COUNTDOWN_DAYS} days.")
    org = user.organisation
    selfid.set_scheme(org, form)
    org.deletion_countdown_days = days
    org.share_outcome = form.get("share_outcome") == "on"
    audit.record("fairness.settings_changed", ("organisation", org.public_id), actor=user, days=days)
    db.session.commit()
