"""Adverse-impact figures as NYC's rules for Local Law 144 define them (6 RCNY 5-301), pure: no
database, exact fractions, so a ratio of exactly 0.8 is never flagged by a rounding error.

- selection rate = selected in a category / everyone in that category;
- impact ratio = a category's selection rate / the highest category's selection rate;
- scoring rate = the share of a category scoring above the full sample's median score (a score equal
  to the median is not above it), and its impact ratio against the highest scoring rate.

A category with fewer than MIN_GROUP people is "too few to report": its rate and ratio are withheld,
and it takes no part in finding the highest rate, so no one can be singled out. People of unknown
category are counted, never placed in a category."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from math import fsum, sqrt
from statistics import median

MIN_GROUP = 5
FOUR_FIFTHS = Fraction(4, 5)


@dataclass(frozen=True)
class Group:
    """One category's figures: `hits` of `n` (selected, or scoring above the median)."""

    key: tuple[str, ...]
    n: int
    hits: int
    rate: Fraction | None  # None: too few to report
    ratio: Fraction | None  # None: too few, or no category has a rate above zero

    @property
    def too_few(self) -> bool:
        return self.n < MIN_GROUP

    @property
    def flagged(self) -> bool:
        """Below the four-fifths rule."""
        return self.ratio is not None and self.ratio < FOUR_FIFTHS


@dataclass(frozen=True)
class Table:
    """The groups of one breakdown (sex, race, sex x race), and how many were of unknown category."""

    groups: list[Group]
    unknown: int


def rates(people: Iterable[tuple[tuple[str | None, ...], bool]]) -> Table:
    """Rates and impact ratios from (category key, hit) pairs; a key holding None is unknown."""
    counts: dict[tuple[str, ...], list[int]] = {}
    unknown = 0
    # Counter tallies in C; what is left in Python is one step per distinct (category, hit).
    for (key, hit), times in Counter(people).items():
        if any(part is None for part in key):
            unknown += times
            continue
        n_hits = counts.setdefault(key, [0, 0])
        n_hits[0] += times
        n_hits[1] += times if hit else 0
    shown = {k: Fraction(h, n) for k, (n, h) in counts.items() if n >= MIN_GROUP}
    top = max(shown.values(), default=Fraction(0))
    groups = [Group(k, n, h, shown.get(k), shown[k] / top if k in shown and top else None)
              for k, (n, h) in sorted(counts.items())]
    return Table(groups, unknown)


def above_median(scores: dict[int, float]) -> tuple[float | None, set[int]]:
    """The full sample's median score, and who scored above it (ties at the median are not)."""
    if not scores:
        return None, set()
    mid = median(scores.values())
    return mid, {who for who, s in scores.items() if s > mid}


@dataclass(frozen=True)
class GraderFigures:
    """One grader against the team on the same candidates: their mean and spread, the others'."""

    grader: int
    candidates: int
    mean: float
    spread: float
    team_mean: float
    team_spread: float

    @property
    def difference(self) -> float:
        return self.mean - self.team_mean


def _mean(values: list[float]) -> float:
    return fsum(values) / len(values)


def _spread(values: list[float]) -> float:
    """The population standard deviation (floats: statistics' exact fractions cost 10x here)."""
    m = _mean(values)
    return sqrt(fsum((v - m) ** 2 for v in values) / len(values))


def consistency(scores: dict[tuple[int, int], float]) -> list[GraderFigures]:
    """Each grader's (grader, candidate) -> score figures on the candidates someone else graded too:
    their mean score and its spread (population standard deviation), and the same for the mean of
    the other graders' scores on those candidates. Graders with no shared candidate are left out."""
    by_candidate: dict[int, dict[int, float]] = {}
    for (grader, cand), value in scores.items():
        by_candidate.setdefault(cand, {})[grader] = value
    own: dict[int, list[float]] = {}
    team: dict[int, list[float]] = {}
    for graders in by_candidate.values():
        if len(graders) < 2:
            continue
        for grader, value in graders.items():
            others = [v for g, v in graders.items() if g != grader]
            own.setdefault(grader, []).append(value)
            team.setdefault(grader, []).append(_mean(others))
    return [GraderFigures(g, len(own[g]), _mean(own[g]), _spread(own[g]), _mean(team[g]), _spread(team[g]))
            for g in sorted(own)]
