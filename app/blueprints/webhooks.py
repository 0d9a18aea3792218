"""The owners' webhooks pages: endpoints with their event types, the signing secret and its
rotation, disabling, and each endpoint's delivery log with redelivery."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.errors import flash_refusal, form_refusal
from app.services import webhook_endpoints, webhooks

bp = Blueprint("webhooks", __name__, url_prefix="/team/webhooks")


def _list(status: int = 200, error: str | None = None):
    return render_template(
        "webhooks/index.html",
        endpoints=webhook_endpoints.endpoints_of(current_user),
        event_types=webhooks.EVENT_TYPES,
        error=error,
    ), status


@bp.get("")
@login_required
def index():
    return _list()


@bp.post("")
@login_required
def create():
    with form_refusal() as refused:
        endpoint = webhook_endpoints.create_endpoint(
            current_user,
            request.form.get("url", ""),
            request.form.getlist("events"),
            request.form.get("description", ""),
        )
    if refused:
        return _list(refused.status, refused.message)
    return redirect(url_for(".show", public_id=endpoint.public_id))


@bp.get("/<public_id>")
@login_required
def show(public_id: str):
    endpoint = webhook_endpoints.get_endpoint(current_user, public_id)
    messages = webhook_endpoints.messages_of(endpoint)
    return render_template(
        "webhooks/show.html",
        endpoint=endpoint,
        messages=messages,
        attempts=webhook_endpoints.last_attempts(messages),
    )


@bp.post("/<public_id>/rotate")
@login_required
def rotate(public_id: str):
    with flash_refusal():
        webhook_endpoints.rotate_secret(current_user, public_id)
        flash("A new secret signs from now on; the previous one also signs for 24 hours.", "info")
    return redirect(url_for(".show", public_id=public_id))


@bp.post("/<public_id>/active")
@login_required
def active(public_id: str):
    with flash_refusal():
        webhook_endpoints.set_active(current_user, public_id, request.form.get("active") == "1")
    return redirect(url_for(".show", public_id=public_id))


@bp.post("/<public_id>/messages/<message_id>/redeliver")
@login_required
def redeliver(public_id: str, message_id: str):
    with flash_refusal():
        webhook_endpoints.redeliver(current_user, public_id, message_id)
        flash("Sent again, with the same webhook-id.", "info")
    return redirect(url_for(".show", public_id=public_id))
