"""Oneway: asynchronous one-way video interviews. The app factory lives here."""

from __future__ import annotations

import logging

from flask import Flask

from config import config_from_env


def create_app(test_config: dict | None = None) -> Flask:
    """Build and bind the app; no network calls, no migrations."""
    app = Flask(__name__)
    app.config.from_object(config_from_env())
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("SECRET_KEY is not set: set it in the environment")
    if app.config.get("TRUSTED_PROXIES"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        # gunicorn leaves the proxy's address in REMOTE_ADDR (its forwarded_allow_ips covers the
        # scheme only); per-client limits need the client's. The scheme stays gunicorn's to set.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TRUSTED_PROXIES"], x_proto=0)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from app.logmask import mask_handlers

    mask_handlers(logging.getLogger())  # "Exception on /i/<token> [POST]": Flask's own error lines
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

    from app import (
        i18n,
        locale_format,
        mail,
        models,  # noqa: F401  (register the tables with the metadata)
        storage,
    )
    from app.extensions import csrf, db, login_manager, migrate
    from app.security import init_security_headers
    from app.services import outbox  # noqa: F401  (its session events send the outbox after commit)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(_migrations_dir()))
    login_manager.init_app(app)
    csrf.init_app(app)
    storage.init_app(app)
    i18n.init_app(app)
    locale_format.init_app(app)
    mail.init_app(app)
    init_security_headers(app)

    from app.services.signin import load_user

    login_manager.user_loader(load_user)  # "<public_id>:<epoch>:<sign-in token>" (User.get_id)

    _register_blueprints(app)

    from app import errors
    from app.cli import register_cli

    register_cli(app)
    app.shell_context_processor(_shell_context)
    errors.init_app(app)
    from app.blueprints import api

    api.init_app(app)  # after errors.init_app: it wraps the app's 404/405/500 for /api/v1 URLs
    return app


def _register_blueprints(app: Flask) -> None:
    """One blueprint per area (app/blueprints/); the API's own (/api/v1) come with api.init_app."""
    from app.blueprints import (
        ai,
        apply,
        auth,
        authoring,
        bank,
        candidate,
        fairness,
        grading,
        health,
        insights,
        integrations,
        interviews,
        media,
        outreach,
        prompts,
        share,
        team,
        webhooks,
    )

    for bp in (apply.bp, auth.bp, authoring.bp, bank.bp, candidate.bp, fairness.bp, grading.bp, health.bp,
               insights.bp, interviews.bp, media.bp, outreach.bp, share.bp, share.staff, team.bp,
               integrations.bp, webhooks.bp, ai.bp, prompts.bp):
        app.register_blueprint(bp)


def _shell_context() -> dict:
    """`flask shell` starts with `db` and every model (each mapped class, by its name) in scope."""
    from app.extensions import db

    return {"db": db} | {m.class_.__name__: m.class_ for m in db.Model.registry.mappers}


def _migrations_dir():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent / "migrations"
