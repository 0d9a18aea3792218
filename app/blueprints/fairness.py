"""Fairness, for owners: the adverse-impact report (page, CSV), graders' consistency and the settings
(self-identification categories, deletion countdown, what candidates' downloads hold)."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.errors import flash_refusal
from app.services import fairness, impact, selfid
from app.services.interviews import list_interviews

bp = Blueprint("fairness", __name__, url_prefix="/fairness")


@bp.before_request
@login_required
def _owners_only():
    fairness.require_owner(current_user)


@bp.get("")
def report():
    flt = fairness.parse_filter(current_user, request.args)
    rep = fairness.report(current_user, flt)
    return render_template("fairness/report.html", rep=rep, flt=flt, interviews=list_interviews(current_user),
                           sources=fairness.SCORE_SOURCES, bars=fairness.chart_bars,
                           min_group=impact.MIN_GROUP, args=request.args)


@bp.get("/report.csv")
def report_csv():
    flt = fairness.parse_filter(current_user, request.args)
    body = fairness.report_csv(current_user, fairness.report(current_user, flt))
    resp = Response(body, mimetype="text/csv")
    resp.headers["Content-Disposition"] = 'attachment; filename="adverse-impact.csv"'
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


@bp.get("/graders")
def graders():
    flt = fairness.parse_filter(current_user, request.args)
    return render_template("fairness/graders.html", rows=fairness.graders(current_user, flt), flt=flt,
                           interviews=list_interviews(current_user), args=request.args,
                           leaning=fairness.LEANING)


@bp.get("/settings")
def settings():
    org = current_user.organisation
    return render_template("fairness/settings.html", org=org, scheme=selfid.scheme(org),
                           own=org.self_id_scheme or {}, max_days=fairness.MAX_COUNTDOWN_DAYS)


@bp.post("/settings")
def save_settings():
    with flash_refusal():
        fairness.save_settings(current_user, request.form)
        flash("Fairness settings saved.", "info")
    return redirect(url_for(".settings"))
