"""Adverse-impact figures against hand-computed fixtures: the rules of 6 RCNY 5-301 (selection and
scoring rates, impact ratios, the four-fifths flag), intersections, unknowns, tiny groups and ties at
the median; and graders' consistency."""

from __future__ import annotations

from fractions import Fraction

import pytest

from app.services import impact


def _people(*groups):
    """(key, n, hits) -> the (key, hit) pairs rates() reads."""
    out = []
    for key, n, hits in groups:
        out += [(key, True)] * hits + [(key, False)] * (n - hits)
    return out


def test_the_worked_example_40_of_100_against_50_of_100_gives_0_80_and_is_not_flagged():
    table = impact.rates(_people((("a",), 100, 40), (("b",), 100, 50)))
    a, b = table.groups
    assert a.rate == Fraction(2, 5) and b.rate == Fraction(1, 2)
    assert a.ratio == Fraction(4, 5) and float(a.ratio) == 0.8 and b.ratio == 1
    assert not a.flagged  # exactly four fifths is not below it
    below = impact.rates(_people((("a",), 100, 39), (("b",), 100, 50))).groups[0]
    assert below.ratio == Fraction(39, 50) and below.flagged


def test_intersections_unknowns_and_tiny_groups_by_hand():
    # sex x race: (f, w) 10 of which 6 selected; (f, b) 8, 2 selected; (m, w) 12, 6 selected;
    # (m, b) 4 (too few), 4 selected; 3 with no race, 2 with no sex (unknown).
    people = _people((("f", "w"), 10, 6), (("f", "b"), 8, 2), (("m", "w"), 12, 6), (("m", "b"), 4, 4),
                     (("f", None), 3, 1), ((None, "w"), 2, 2))
    table = impact.rates(people)
    by = {g.key: g for g in table.groups}
    assert table.unknown == 5
    # The highest reportable rate is (f, w): 6/10 = 0.6; (m, b)'s 4/4 is too few and takes no part.
    assert by[("m", "b")].too_few and by[("m", "b")].rate is None and by[("m", "b")].ratio is None
    assert by[("f", "w")].ratio == 1
    assert by[("f", "b")].ratio == Fraction(2, 8) / Fraction(6, 10) and by[("f", "b")].flagged  # 0.4167
    assert by[("m", "w")].ratio == Fraction(5, 6) and not by[("m", "w")].flagged  # 0.5 / 0.6
    # By sex alone: f = 6+2+1 = 9 of 21 (3/7), m = 6+4 = 10 of 16 (5/8); 2 unknown.
    sex = impact.rates([((k[0],), h) for k, h in people])
    f, m = sex.groups
    assert (f.n, f.hits, m.n, m.hits, sex.unknown) == (21, 9, 16, 10, 2)
    assert f.ratio == Fraction(3, 7) / Fraction(5, 8) and f.flagged  # 0.6857


def test_a_group_of_exactly_five_is_reported_and_four_is_not():
    table = impact.rates(_people((("a",), 5, 1), (("b",), 4, 4), (("c",), 20, 10)))
    a, b, c = table.groups
    assert not a.too_few and a.ratio == Fraction(1, 5) / Fraction(1, 2)
    assert b.too_few and b.ratio is None
    assert c.ratio == 1


def test_no_ratio_when_nobody_was_selected():
    a, _ = impact.rates(_people((("a",), 6, 0), (("b",), 6, 0))).groups
    assert a.rate == 0 and a.ratio is None and not a.flagged


def test_scores_equal_to_the_median_are_not_above_it():
    # Scores 1, 2, 3, 3, 3, 4, 5: the median is 3; only 4 and 5 are above.
    scores = dict(enumerate([1, 2, 3, 3, 3, 4, 5]))
    mid, above = impact.above_median(scores)
    assert mid == 3 and above == {5, 6}
    # An even sample: 2, 3, 3, 4 -> median 3.0; only the 4 is above.
    mid, above = impact.above_median({1: 2.0, 2: 3.0, 3: 3.0, 4: 4.0})
    assert mid == 3.0 and above == {4}
    assert impact.above_median({}) == (None, set())


def test_scoring_rates_and_ratios_by_hand():
    # Group a: 3.0, 3.5, 4.0, 4.5, 5.0; group b: 2.0, 2.5, 3.0, 3.5, 4.5. Full sample median: 3.5.
    # Above: a 4.0, 4.5, 5.0 (3 of 5); b 4.5 (1 of 5). Ratio b = 0.2 / 0.6 = 1/3.
    a, b = [3.0, 3.5, 4.0, 4.5, 5.0], [2.0, 2.5, 3.0, 3.5, 4.5]
    scores = {i: v for i, v in enumerate(a + b)}
    mid, above = impact.above_median(scores)
    assert mid == 3.5
    groups = impact.rates([(("a" if i < 5 else "b",), i in above) for i in scores]).groups
    assert groups[0].rate == Fraction(3, 5) and groups[1].rate == Fraction(1, 5)
    assert groups[1].ratio == Fraction(1, 3) and groups[1].flagged


def test_graders_consistency_by_hand():
    # Candidates 1-3: grader 10 gives 5, 5, 4; grader 11 gives 3, 3, 2; grader 12 gives 4 on candidate 1
    # only; candidate 4 is graded by 10 alone (no one to compare with: left out).
    scores = {(10, 1): 5, (10, 2): 5, (10, 3): 4, (11, 1): 3, (11, 2): 3, (11, 3): 2, (12, 1): 4, (10, 4): 1}
    by = {f.grader: f for f in impact.consistency(scores)}
    g10 = by[10]
    assert g10.candidates == 3 and g10.mean == pytest.approx(14 / 3)
    # The team on the same candidates: candidate 1 mean(3, 4) = 3.5; candidates 2 and 3: 3 and 2.
    assert g10.team_mean == pytest.approx((3.5 + 3 + 2) / 3)
    assert g10.difference == pytest.approx(14 / 3 - 8.5 / 3)
    assert g10.spread == pytest.approx(0.4714, abs=1e-4)
    g12 = by[12]
    assert g12.candidates == 1 and g12.team_mean == pytest.approx(4.0)  # mean(5, 3)
