"""The public API, /api/v1: an OpenAPI 3.1 document generated from the code by flask-smorest
(/api/v1/openapi.json), a docs page made from it (/api/v1/docs), and the operations in
resources, answers and ats. core.py holds what every call goes through."""

from __future__ import annotations

import click
from apispec import BasePlugin
from flask import Flask, current_app, render_template
from werkzeug.exceptions import HTTPException, InternalServerError

from app.blueprints.api.core import (
    OnewayApi,
    Problem,
    http_problem,
    is_api_request,
    limiter,
    problem,
    service_problem,
)
from app.services import ServiceError

DESCRIPTION = """Oneway's API for applicant tracking systems and scripts.

Authenticate every call with an API key of your organisation: `Authorization: Bearer ow_...`.
Owners make keys on the API keys page (or `flask api-key create`), each with scopes: `read`,
`invite`, `decide`, `erase`. Calls are limited per key (429 with Retry-After) and recorded in the
organisation's audit log under the key's name. Refusals are RFC 9457 problem details
(`application/problem#json`). Candidates of an anonymised interview are "Candidate N", with no email
or picture, exactly as reviewers see them.""".replace("#", "+")


class _Defaults(BasePlugin):
    """Every operation: a problem for any refusal (401, 403, 404, 409, 422, 429...)."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for operation in (operations or {}).values():
            operation.setdefault("responses", {})["default"] = {
                "description": "A refusal, as RFC 9457 problem details",
                "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
            }


def init_app(app: Flask) -> None:
    """Register the API's blueprints, its document and docs page, its limiter and its command."""
    from app.blueprints.api.answers import answers_bp, media_bp
    from app.blueprints.api.ats import ats_bp
    from app.blueprints.api.resources import candidates_bp, interviews_bp
    from app.blueprints.api.webhook_endpoints import webhooks_bp
    from app.extensions import csrf
    from app.services import webhooks  # noqa: F401  (its session listeners write the events)

    for name, value in {"API_TITLE": "Oneway API", "API_VERSION": "1.0", "OPENAPI_VERSION": "3.1.0",
                        "OPENAPI_URL_PREFIX": "/api/v1", "OPENAPI_JSON_PATH": "openapi.json",
                        "RATELIMIT_STORAGE_URI": app.config["REDIS_URL"],
                        # Redis away: each process limits keys in its own memory until it is back,
                        # rather than failing every call with a 500.
                        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
                        "API_SPEC_OPTIONS": {"info": {"description": DESCRIPTION},
                                             "security": [{"bearerAuth": []}]}}.items():
        app.config.setdefault(name, value)
    limiter.init_app(app)
    api = OnewayApi()
    api.init_app(app, spec_kwargs={"extra_plugins": [_Defaults()]})
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer",
                                                       "description": "An API key: ow_ and 43 characters"})
    api.spec.components.schema("Problem", schema=Problem)
    for bp in (interviews_bp, candidates_bp, answers_bp, ats_bp, webhooks_bp, media_bp):
        csrf.exempt(bp)
        if not bp._got_registered_once:  # the module's blueprints serve every app made in a process
            # Flask looks for a handler by code before class, app-wide before a blueprint's class
            # handler: so each code the app answers with a page gets its own problem handler here.
            for code in (400, 403, 404, 405, 409, 410, 413, 415, 422, 429):
                bp.register_error_handler(code, http_problem)
            bp.register_error_handler(HTTPException, http_problem)
            bp.register_error_handler(ServiceError, service_problem)
    for bp in (interviews_bp, candidates_bp, answers_bp, ats_bp, webhooks_bp):
        api.register_blueprint(bp)
    app.register_blueprint(media_bp)
    csrf.exempt(app.view_functions["api-docs.openapi_json"])
    app.add_url_rule("/api/v1/docs", "api_docs", _docs_page)
    _problems_outside_blueprints(app)
    app.cli.add_command(api_key_command)


def _docs_page():
    """The document as a page: each operation, its scope, parameters and answers."""
    spec = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    return render_template("api/docs.html", spec=spec)


def _problems_outside_blueprints(app: Flask) -> None:
    """/api/v1 URLs that match no operation (404, 405) or fail (500) answer a problem too; every
    other URL keeps the app's own error handler (app.errors), which this wraps."""
    handlers = app.error_handler_spec[None]
    for code in (404, 405, 500):
        own = handlers.get(code, {}).get(HTTPException if code != 500 else InternalServerError) \
            or next(iter(handlers.get(code, {}).values()), None)

        def handler(e, own=own):
            if is_api_request():
                if isinstance(e, HTTPException):
                    return http_problem(e)
                return problem(500, "Internal Server Error", "Something went wrong on our side.")
            return own(e) if own else e

        app.register_error_handler(code, handler)


@click.group("api-key")
def api_key_command():
    """API keys of organisations."""


@api_key_command.command("create")
@click.option("--org", "org_name", required=True, help="The organisation's name (or public id)")
@click.option("--scopes", required=True, help="Comma-separated: read, invite, decide, erase")
@click.option("--name", required=True, help="What the key is for, as the audit log names it")
def create_key(org_name: str, scopes: str, name: str):
    """Make an API key and print it (shown this once)."""
    import sqlalchemy as sa

    from app.extensions import db
    from app.models import Organisation
    from app.services import api_keys

    orgs = list(db.session.execute(sa.select(Organisation).where(
        sa.or_(Organisation.name == org_name, Organisation.public_id == org_name))).scalars())
    if len(orgs) != 1:
        raise click.ClickException(f"{len(orgs)} organisations are named {org_name!r}: give the "
                                   "organisation's public id instead." if orgs else
                                   f"No organisation is named {org_name!r}.")
    try:
        _key, token = api_keys.create(None, name, scopes, org=orgs[0])
    except ServiceError as e:
        raise click.ClickException(e.message) from None
    click.echo(token)
