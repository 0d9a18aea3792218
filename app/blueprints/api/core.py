"""What every /api/v1 call goes through: the key in `Authorization: Bearer`, its scope, the limit
per key, the audit row, and refusals as RFC 9457 problem details.

Only the header authenticates: a session cookie never does (Flask-Login is not consulted), and so
the CSRF check, which protects cookie-authenticated forms, does not apply to these blueprints.
"""

from __future__ import annotations

import http
import time
from collections.abc import Callable
from functools import wraps

import marshmallow as ma
from flask import current_app, g, jsonify, request
from flask_limiter import Limiter, RequestLimit
from flask_smorest import Api, Blueprint
from werkzeug.exceptions import HTTPException

from app.extensions import db
from app.security import hash_token
from app.services import ServiceError, api_keys, audit

PREFIX = "/api/v1"
PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str | None = None, errors: dict | None = None,
            headers: dict | None = None):
    """An RFC 9457 problem details response."""
    body = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    resp = jsonify(body)
    resp.status_code = status
    resp.mimetype = PROBLEM
    resp.headers.update(headers or {})
    return resp


def is_api_request() -> bool:
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


def http_problem(e: HTTPException):
    """A werkzeug error (404, 405, webargs' 422...) as a problem."""
    if e.response is not None:  # made already: the limiter's 429 (_breached), with its Retry-After
        return e.response
    data = getattr(e, "data", None) or {}
    errors = data.get("errors") or data.get("messages")
    if isinstance(errors, dict) and set(errors) <= {"json", "query", "headers", "path"}:
        errors = {k: v for part in errors.values() if isinstance(part, dict) for k, v in part.items()}
    headers = dict(e.get_headers()) if e.code == 405 else {}
    headers.pop("Content-Type", None)
    return problem(e.code or 500, e.name, data.get("message") or e.description, errors, headers)


def service_problem(e: ServiceError):
    headers = {"Retry-After": str(e.retry_after)} if getattr(e, "retry_after", None) else None
    return problem(e.status, _TITLES.get(e.status, "Refused"), e.message, headers=headers)


_TITLES = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 409: "Conflict", 410: "Gone",
           422: "Unprocessable Content", 429: "Too Many Requests", 503: "Service Unavailable"}


def _bearer() -> str | None:
    auth = request.headers.get("Authorization", "")
    scheme, _, token = auth.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _authenticate():
    """Before every call of a protected blueprint: the key, then its scope for this operation."""
    key = api_keys.authenticate(_bearer())
    if key is None:
        return problem(401, "Unauthorized", "Send a live API key as `Authorization: Bearer <key>`.",
                       headers={"WWW-Authenticate": 'Bearer realm="oneway"'})
    g.api_key = key
    view = current_app.view_functions.get(request.endpoint)
    scope = getattr(view, "api_scope", None)
    if scope is None or scope not in key.scope_list:  # an operation with no scope is refused to all
        return problem(403, "Forbidden", f"This API key lacks the “{scope}” scope this call needs.")
    return None


def _audit(resp):
    """After every authenticated call: one audit row with the key's name, and its last use."""
    key = g.get("api_key")
    if key is None:
        return resp
    if resp.status_code >= 400:
        db.session.rollback()  # whatever a refused call left unsaved goes
    audit.record("api.called", ("api_key", key.public_id), label=key.label, org_id=key.org_id,
                 method=request.method, path=request.path[:200], status=resp.status_code)
    api_keys.touch(key)
    db.session.commit()
    return resp


def needs(blp: Blueprint, scope: str) -> Callable:
    """The scope an operation needs, checked before its input is read and shown in the document."""
    def decorate(fn):
        documented = blp.doc(security=[{"bearerAuth": [scope]}])(fn)

        @wraps(documented)
        def view(*args, **kwargs):
            return documented(*args, **kwargs)

        view.api_scope = scope
        return view
    return decorate


def protected(blp: Blueprint) -> Blueprint:
    """Key authentication, scopes, the limit and the audit row on every operation of `blp`."""
    blp.before_request(_authenticate)
    blp.after_request(_audit)
    limiter.shared_limit(lambda: current_app.config["API_RATE_LIMIT"], scope="api-key")(blp)
    return blp


def _limit_key() -> str:
    token = _bearer()
    return "key:" + hash_token(token) if token else "addr:" + (request.remote_addr or "")


def _breached(limit: RequestLimit):
    wait = max(1, int(limit.reset_at - time.time()))
    return problem(429, "Too Many Requests", f"This key's limit is {limit.limit}; try again in {wait} s.",
                   headers={"Retry-After": str(wait)})


# A moving window: a key's calls in any minute count, whatever clock minute they fall in.
limiter = Limiter(_limit_key, on_breach=_breached, headers_enabled=False, key_prefix="oneway-api",
                  strategy="moving-window")


class OnewayApi(Api):
    """flask-smorest's Api, with refusals as problem details on /api/v1 only (the app's own pages
    keep their error pages), documented once as every operation's default response."""

    def _register_error_handlers(self):
        return None

    def _register_responses(self):
        """The error responses flask-smorest documents on its own (422 for bad input) as problems."""
        content = {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for status in http.HTTPStatus:
            if status >= 400:
                self.spec.components.response(status.name, {"description": status.phrase, "content": content},
                                              lazy=True)


class Problem(ma.Schema):
    """An RFC 9457 problem: what went wrong, for people (title, detail) and programs (status)."""

    type = ma.fields.String(metadata={"example": "about:blank"})
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String()
    errors = ma.fields.Dict(metadata={"description": "Per field: what was wrong with it"})
