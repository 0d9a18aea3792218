"""The owners' adverse-impact report through its page and CSV: hand-computed figures per interview
and per organisation, the date range, the flag, unknowns, tiny groups, the chart and who may see it."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from app.models import utcnow
from app.services import fairness
from tests.factories import make_candidate, make_interview, make_scores, make_user, mark_completed
from tests.fairness_data import add_finished


def _csv(resp) -> list[dict]:
    return list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))


def test_the_worked_example_on_the_page_and_in_the_csv(app, login_as):
    owner = make_user(role="owner")
    iv = make_interview(owner)
    # 40 of 100 women advanced, 50 of 100 men: women's impact ratio 0.40 / 0.50 = 0.80, not flagged.
    add_finished(iv, [("female", "white", 100, 40, None), ("male", "white", 100, 50, None)])
    cc = login_as(owner)
    page = cc.get(f"/fairness?interview={iv.public_id}").get_data(as_text=True)
    assert "200 candidates finished; 90 advanced." in page
    found = _csv(cc.get(f"/fairness/report.csv?interview={iv.public_id}"))
    rows = {(r["breakdown"], r["category"]): r for r in found if r["measure"] == "selection rate"}
    female = rows[("Sex", "Female")]
    assert (female["people"], female["selected_or_above_median"], female["rate"]) == ("100", "40", "0.400")
    assert female["impact_ratio"] == "0.800" and female["below_four_fifths"] == ""
    assert rows[("Sex", "Male")]["impact_ratio"] == "1.000"


def test_intersections_unknowns_tiny_groups_and_scoring_by_hand(app, login_as):
    owner = make_user(role="owner")
    iv = make_interview(owner)
    # Women, White: 10, 6 advanced, rated 4,4,4,4,3,3,3,3,3,3. Women, Black: 8, 2 advanced, rated
    # 2,2,2,2,2,2,3,5. Men, Asian: 3 (too few), all advanced, rated 5,5,5. Unknown race: 4 women,
    # 1 advanced, no rating. Every rating: 21 of them; sorted, the 11th is 3: the median is 3, and
    # only scores above 3 count (ties at 3 do not): Women/White 4 of 10, Women/Black 1 of 8.
    add_finished(iv, [
        ("female", "white", 10, 6, [4, 4, 4, 4, 3, 3, 3, 3, 3, 3]),
        ("female", "black", 8, 2, [2, 2, 2, 2, 2, 2, 3, 5]),
        ("male", "asian", 3, 3, [5, 5, 5]),
        ("female", None, 4, 1, None),
    ])
    rep = fairness.report(owner, fairness.parse_filter(owner, {"interview": iv.public_id}))
    assert (rep.completed, rep.selected) == (25, 12)
    sel = {b.key: {g.key: g for g in b.table.groups} for b in rep.selection}
    unknown = {b.key: b.table.unknown for b in rep.selection}
    assert unknown == {"sex": 0, "race": 4, "sex_race": 4}
    # By sex: women 22, 9 advanced (9/22); men 3, too few: women are the top and only reportable group.
    assert sel["sex"][("female",)].ratio == 1 and sel["sex"][("male",)].too_few
    # Intersections: Women/White 6/10 = 0.6 (top), Women/Black 2/8 = 0.25 -> 0.4167, flagged.
    inter = sel["sex_race"]
    assert inter[("female", "white")].ratio == 1
    assert round(float(inter[("female", "black")].ratio), 4) == 0.4167 and inter[("female", "black")].flagged
    assert inter[("male", "asian")].too_few and inter[("male", "asian")].ratio is None
    mid, scored, breakdowns = rep.scoring["human"]
    assert (mid, scored) == (3, 21)
    sc = {g.key: g for g in breakdowns[2].table.groups}
    assert (sc[("female", "white")].hits, sc[("female", "black")].hits) == (4, 1)
    assert sc[("female", "black")].ratio == (sc[("female", "black")].rate / sc[("female", "white")].rate)
    assert round(float(sc[("female", "black")].ratio), 4) == 0.3125  # (1/8) / (4/10)
    page = login_as(owner).get(f"/fairness?interview={iv.public_id}").get_data(as_text=True)
    assert "Too few to report (fewer than 5 people)" in page and "below 0.8" in page
    assert '<svg' in page and 'pattern id="hatch-sel-sex_race"' in page  # flagged bars are hatched


def test_the_organisation_range_and_interview_filters(app, login_as):
    owner = make_user(role="owner")
    a, b = make_interview(owner), make_interview(owner)
    old = utcnow() - timedelta(days=40)
    add_finished(a, [("female", "white", 6, 3, None)])
    add_finished(b, [("male", "white", 5, 5, None)])
    add_finished(b, [("male", "white", 7, 0, None)], completed_at=old)
    all_time = fairness.report(owner, fairness.parse_filter(owner, {}))
    assert (all_time.completed, all_time.selected) == (18, 8)
    since = (utcnow() - timedelta(days=10)).date().isoformat()
    recent = fairness.report(owner, fairness.parse_filter(owner, {"from": since}))
    assert (recent.completed, recent.selected) == (11, 8)
    only_b = fairness.report(owner, fairness.parse_filter(owner, {"interview": b.public_id, "from": since}))
    assert (only_b.completed, only_b.selected) == (5, 5)
    # Another organisation's interview is not found; a bad date is a 400 with words.
    stranger = make_user(role="owner")
    cc = login_as(stranger)
    assert cc.get(f"/fairness?interview={a.public_id}").status_code == 404
    bad = cc.get("/fairness?from=yesterday")
    assert bad.status_code == 400 and "2026-12-31" in bad.get_data(as_text=True)
    assert fairness.report(stranger, fairness.parse_filter(stranger, {})).completed == 0


def test_only_owners_reach_the_report_the_csv_and_the_graders(app, login_as):
    owner = make_user(role="owner")
    for role in ("recruiter", "reviewer"):
        cc = login_as(make_user(org=owner.organisation, role=role))
        for path in ("/fairness", "/fairness/report.csv", "/fairness/graders", "/fairness/settings"):
            assert cc.get(path).status_code == 403, (role, path)
    assert app.test_client().get("/fairness").status_code == 302


def test_the_csv_is_safe_from_formulas_in_an_organisations_own_categories(app, login_as):
    owner = make_user(role="owner")
    iv = make_interview(owner)
    cc = login_as(owner)
    cc.refresh("/fairness/settings")
    form = {"deletion_countdown_days": "7", "sex_options": "=HYPERLINK(\"x\")\n+Other", "race_options": ""}
    resp = cc.post("/fairness/settings", data=form)
    assert resp.status_code == 302
    add_finished(iv, [("hyperlink_x", "white", 5, 1, None), ("other", "white", 5, 2, None)])
    text = cc.get("/fairness/report.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in text and "'+Other" in text
    assert "\n=" not in text and ",=" not in text and ",+" not in text


def test_graders_consistency_from_submitted_reviews_only(app, login_as):
    owner = make_user(role="owner")
    org = owner.organisation
    lenient, severe, drafting = (make_user(org=org, role="reviewer") for _ in range(3))
    iv = make_interview(owner, questions=2)
    first, _ = make_candidate(iv)
    second, _ = make_candidate(iv)
    for cand in (first, second):
        mark_completed(cand)
    make_scores(lenient, first, [5, 5])
    make_scores(severe, first, [3, 3])
    make_scores(lenient, second, [4, 4])
    make_scores(severe, second, [2, 2])
    make_scores(drafting, second, [1, 1], submit=None)  # a draft: nobody's opinion yet
    rows = {r.name: r for r in fairness.graders(owner, fairness.parse_filter(owner, {}))}
    assert set(rows) == {lenient.name, severe.name}
    high = rows[lenient.name].figures
    figures = (high.candidates, high.mean, high.team_mean, high.spread, high.team_spread)
    assert figures == (2, 4.5, 2.5, 0.5, 0.5)
    assert rows[lenient.name].leaning == "more lenient" and rows[severe.name].leaning == "more severe"
    page = login_as(owner).get("/fairness/graders").get_data(as_text=True)
    assert "+2.00" in page and "-2.00" in page and drafting.name not in page
