"""/api/v1/webhooks: an integration subscribes its own endpoint, as an owner does on the Team page
(app.services.webhook_endpoints): the same URL check (https, no private addresses), the signing
secret shown on creation and on rotation only, disable and enable. Needs the `webhooks` scope."""

from __future__ import annotations

import marshmallow as ma
from flask import g
from flask_smorest import Blueprint
from marshmallow import fields as f
from marshmallow import validate as v

from app.blueprints.api.core import needs, protected
from app.blueprints.api.schemas import Strict, text_field
from app.services import webhook_endpoints
from app.services.webhooks import EVENT_TYPES

webhooks_bp = protected(Blueprint("api_webhooks", __name__, url_prefix="/api/v1/webhooks",
                                  description="Webhook endpoints: subscribe, rotate the secret, disable"))

_EVENTS = f.List(f.String(validate=v.OneOf(list(EVENT_TYPES))), required=True, validate=v.Length(min=1),
                 metadata={"description": "Event types to receive: " + ", ".join(EVENT_TYPES)})


class EndpointIn(Strict):
    url = f.String(required=True, validate=v.Length(min=1, max=2000),
                   metadata={"description": "https:// address that receives the events"})
    events = _EVENTS
    description = text_field(200, load_default="")


class EndpointPatch(Strict):
    active = f.Boolean(required=True, metadata={"description": "false disables it; true enables it again"})


class EndpointOut(ma.Schema):
    id = f.String(attribute="public_id", required=True)
    url = f.String(required=True)
    events = f.Method("_events", required=True)
    description = f.String(required=True)
    active = f.Boolean(required=True)
    disabled_reason = f.String(allow_none=True, required=True)
    created_at = f.DateTime(required=True)

    def _events(self, endpoint) -> list[str]:
        return endpoint.event_types.split(",")


class EndpointWithSecret(EndpointOut):
    secret = f.String(required=True, metadata={"description": "Standard Webhooks signing secret (whsec_...); "
                                                             "shown only in this answer"})


class EndpointList(ma.Schema):
    data = f.List(f.Nested(EndpointOut), required=True)


@webhooks_bp.route("", methods=["GET"])
@needs(webhooks_bp, "webhooks")
@webhooks_bp.response(200, EndpointList)
def list_endpoints():
    """Every webhook endpoint of the key's organisation, newest first"""
    return {"data": webhook_endpoints.endpoints_of(g.api_key)}


@webhooks_bp.route("", methods=["POST"])
@needs(webhooks_bp, "webhooks")
@webhooks_bp.arguments(EndpointIn)
@webhooks_bp.response(201, EndpointWithSecret)
def create_endpoint(data):
    """Subscribe an endpoint; its signing secret is in this answer only"""
    return webhook_endpoints.create_endpoint(g.api_key, data["url"], data["events"], data["description"])


@webhooks_bp.route("/<endpoint_id>", methods=["GET"])
@needs(webhooks_bp, "webhooks")
@webhooks_bp.response(200, EndpointOut)
def get_endpoint(endpoint_id: str):
    """One webhook endpoint (without its secret)"""
    return webhook_endpoints.get_endpoint(g.api_key, endpoint_id)


@webhooks_bp.route("/<endpoint_id>", methods=["PATCH"])
@needs(webhooks_bp, "webhooks")
@webhooks_bp.arguments(EndpointPatch)
@webhooks_bp.response(200, EndpointOut)
def update_endpoint(data, endpoint_id: str):
    """Disable an endpoint, or enable it again (its failures forgotten)"""
    return webhook_endpoints.set_active(g.api_key, endpoint_id, data["active"])


@webhooks_bp.route("/<endpoint_id>/rotate-secret", methods=["POST"])
@needs(webhooks_bp, "webhooks")
@webhooks_bp.response(200, EndpointWithSecret)
def rotate_secret(endpoint_id: str):
    """A new signing secret, in this answer only; the previous one also signs for 24 hours"""
    return webhook_endpoints.rotate_secret(g.api_key, endpoint_id)
