"""The owners' API keys page: make a key (shown once), see each key's scopes and last use, revoke."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.errors import form_refusal
from app.services import api_keys

bp = Blueprint("integrations", __name__, url_prefix="/team/api-keys")


def _page(status: int = 200, error: str | None = None):
    return render_template("api/keys.html", keys=api_keys.keys_of(current_user), scopes=api_keys.SCOPES,
                           error=error), status


@bp.get("")
@login_required
def index():
    return _page()


@bp.post("")
@login_required
def create():
    with form_refusal() as refused:
        key, token = api_keys.create(current_user, request.form.get("name", ""),
                                     request.form.getlist("scopes"))
    if refused:
        return _page(refused.status, refused.message)
    return render_template("api/key_created.html", key=key, token=token)


@bp.post("/<public_id>/revoke")
@login_required
def revoke(public_id: str):
    with form_refusal() as refused:
        key = api_keys.revoke(current_user, public_id)
    if refused:
        return _page(refused.status, refused.message)
    flash(f"The API key “{key.name}” is revoked: its next call is refused.", "info")
    return redirect(url_for(".index"))
