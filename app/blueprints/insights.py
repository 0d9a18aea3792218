"""Following an interview up: its dashboard (owners and recruiters) and candidates side by side."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, render_template, request
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app import charts
from app.services import anonymity, interviews
from app.services import compare as side_by_side
from app.services.dashboard import dashboard as figures

bp = Blueprint("insights", __name__)
STATUS_LABELS = {"invited": _l("Invited, not started"), "started": _l("Started"),
                 "completed": _l("Completed"), "expired": _l("Expired")}


@bp.before_request
@login_required
def _staff_only():
    return None


def _charts(d) -> dict[str, charts.Chart]:
    """The dashboard's figures as bar charts, each bar's value written out beside it."""
    def counted(rows):
        return [(label, n, str(n)) for label, n in rows]

    def step(s) -> str:
        return f"{s.count} ({s.of_invited:.0%})" if s.of_invited is not None else str(s.count)

    return {"funnel": charts.bars([(s.label, s.count, step(s)) for s in d.funnel]),
            "dropoff": charts.bars(counted(d.dropoff)), "ratings": charts.bars(counted(d.ratings)),
            "graders": charts.bars([(g.name, g.mean, _("%(mean).2f over %(count)s candidates", mean=g.mean,
                                                      count=g.candidates)) for g in d.graders], most=5)}


@bp.get("/interviews/<public_id>/dashboard")
def dashboard(public_id: str):
    interview = interviews.get_interview(current_user, public_id)
    d = figures(current_user, interview)
    return render_template("insights/dashboard.html", interview=interview, d=d, shown=_charts(d),
                           status_labels=STATUS_LABELS)


@bp.app_template_filter("span")
def span(value: timedelta) -> str:
    """A length of time, roughly: "3 hours", "2 days"."""
    return format_timedelta(value, threshold=1.0)


@bp.get("/interviews/<public_id>/compare")
def compare(public_id: str):
    interview = interviews.get_interview(current_user, public_id)
    columns = side_by_side.compare(current_user, interview, request.args.getlist("c"))
    return render_template("insights/compare.html", interview=interview, columns=columns,
                           mode=anonymity.media_mode(current_user, interview),
                           hide_identity=anonymity.hides_identity(current_user, interview),
                           sound_only=anonymity.sound_only)
