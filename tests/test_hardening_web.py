"""Production hardening of the web process, tested on what users run (a real gunicorn started by
`make run`'s command, nginx in front where a proxy matters): secret link tokens stay out of the
access log, the public health check says only ok or not ok, the detailed report is for operators,
the share guest form redirects only within its link, and signing out ends the session on the
server."""

from __future__ import annotations

import json
import secrets

import pytest

from stack.services import free_port
from tests.conftest import worker_env
from tests.server import Browser, gunicorn, tls_proxy

pytestmark = pytest.mark.processes

SECRET_PREFIXES = ("i", "s", "reset", "join")


def test_hardening_access_log_masks_secret_link_tokens(app, servers, databases, backend, tmp_path):
    """gunicorn's log, and the production proxy's in front of it, show no secret link's token."""
    from app.logmask import MASK

    env = worker_env(servers, databases[0][backend])
    tokens = {prefix: secrets.token_urlsafe(32) for prefix in SECRET_PREFIXES}
    with gunicorn(env, tmp_path / "web.log") as server, tls_proxy(server, tmp_path / "nginx") as proxy:
        for base in (server.base, proxy.base):
            browser = Browser(base)
            for prefix, token in tokens.items():
                # The link itself, a page or file under it, a query, and a page linked from it
                # (its address is sent as the Referer).
                for path in (f"/{prefix}/{token}", f"/{prefix}/{token}/c/x/media/y?t=1",
                             f"/{prefix}/{token}?x={token[:4]}", f"/{prefix}%2F{token}"):
                    browser.request("GET", path, headers={"Referer": f"{base}/{prefix}/{token}/page"})
    for log, base in ((server.log_text(), server.base), (proxy.log_text(), proxy.base)):
        assert f'"GET /i/{MASK} HTTP/1.1"' in log, log[-3000:]
        for prefix, token in tokens.items():
            assert token not in log, log[-3000:]
            assert f"/{prefix}/{MASK}/c/x/media/y?t=1" in log
            assert f'"{base}/{prefix}/{MASK}/page"' in log  # the Referer, masked too


def _broken_redis(env: dict) -> tuple[dict, str]:
    """`env` with a Redis URL whose password and host must never reach a health answer."""
    password = secrets.token_hex(8)
    return {**env, "REDIS_URL": f"redis://:{password}@127.0.0.1:{free_port()}/0"}, password


def _get_json(browser: Browser, path: str, **headers):
    status, _, body = browser.request("GET", path, headers=headers)
    return status, json.loads(body)


def test_hardening_public_healthz_says_only_ok_or_not_ok(app, servers, databases, backend, tmp_path):
    env = worker_env(servers, databases[0][backend])
    with gunicorn(env, tmp_path / "web.log") as server:
        # No worker runs here: the web app itself can serve, and that is all /healthz tells.
        assert _get_json(Browser(server.base), "/healthz") == (200, {"status": "ok"})
    broken, password = _broken_redis(env)
    with gunicorn(broken, tmp_path / "broken.log") as server:
        status, _, body = Browser(server.base).request("GET", "/healthz")
    assert (status, json.loads(body)) == (503, {"status": "not ok"})
    assert b"redis" not in body.lower() and password.encode() not in body


def test_hardening_health_report_is_for_local_operators_or_the_token_holder(
        app, servers, databases, backend, tmp_path):
    token = secrets.token_urlsafe(24)
    env, password = _broken_redis({**worker_env(servers, databases[0][backend]), "HEALTH_TOKEN": token,
                                   "TRUSTED_PROXIES": "1"})
    with gunicorn(env, tmp_path / "web.log") as server, tls_proxy(server, tmp_path / "nginx") as public:
        local = Browser(server.base)  # an operator on this machine (compose's health check)
        status, report = _get_json(local, "/healthz/ready")
        assert status == 503 and report["status"] == "degraded", report
        checks = report["checks"]
        assert checks["database"] == {"ok": True, "backend": backend}
        assert checks["storage"]["ok"] is True
        # A short classified reason; the error itself, with the URL's host and password, is logged.
        assert checks["redis"] == {"ok": False, "reason": "could not connect"}, checks
        assert checks["workers"] == {"ok": False, "reason": "no redis"}
        assert password not in json.dumps(report) and "127.0.0.1" not in json.dumps(report)

        # Through the proxy every client, however close, is refused without the token...
        outside = Browser(public.base)
        for headers in ({}, {"Authorization": "Bearer " + token[:-1]}, {"Authorization": token}):
            status, refused = _get_json(outside, "/healthz/ready", **headers)
            assert status == 403 and "checks" not in refused, refused
        # ...and so is a direct request that says it was forwarded (a proxy's private address).
        assert _get_json(local, "/healthz/ready", **{"X-Forwarded-For": "203.0.113.9"})[0] == 403
        # The token opens it from anywhere; /healthz stays public and says no more.
        assert _get_json(outside, "/healthz/ready", Authorization=f"Bearer {token}")[1] == report
        assert _get_json(outside, "/healthz") == (503, {"status": "not ok"})
    log = server.log_text()
    assert "health: the redis check failed: ConnectionError" in log, log[-3000:]


def test_hardening_share_guest_form_goes_back_only_within_its_link(app, csrf_client):
    from app.services import sharing
    from tests.factories import make_candidate, make_interview, make_user

    owner = make_user(role="owner")
    candidate, _ = make_candidate(make_interview(owner, questions=1))
    _, token = sharing.create_link(owner, [candidate.public_id], permission="score")
    landing = f"/s/{token}"
    page = f"/s/{token}/c/{candidate.public_id}"
    csrf_client.refresh(page)
    hostile = ["//evil.example/", "https://evil.example/", "/\\evil.example", "\\\\evil.example",
               f"/s/{token}/../../login", f"/s/{token}/..%2F..%2Flogin", f"/s/{token}/%2e%2e/x",
               f"/s/{token}evil", f"/s/{token}/\\evil.example", f"/s/{token}/\r\nX: y", "/login",
               "javascript:alert(1)", f"http://localhost/s/{token}"]
    # Both ways out of the form: a name refused (empty) and a name taken.
    for name in ("", "Guest One"):
        for back in hostile:
            resp = csrf_client.post(f"/s/{token}/guest", data={"name": name, "back": back})
            assert resp.status_code == 302 and resp.headers["Location"] == landing, (name, back)
        resp = csrf_client.post(f"/s/{token}/guest", data={"name": name, "back": page + "?x=1#q-2"})
        assert resp.headers["Location"] == page + "?x=1#q-2", name  # the page the form was on



def test_hardening_sign_out_ends_the_session_on_the_server(app, servers, databases, backend, tmp_path):
    import copy

    from flask_login.utils import encode_cookie

    from tests.factories import make_user

    user = make_user(role="recruiter")
    with gunicorn(worker_env(servers, databases[0][backend]), tmp_path / "web.log") as server:
        laptop, phone, copied = Browser(server.base), Browser(server.base), Browser(server.base)
        laptop.login(user.email, "password123")
        phone.login(user.email, "password123")  # another device of the same member
        for cookie in laptop.jar:  # what someone who copied the laptop's cookie holds
            copied.jar.set_cookie(copy.copy(cookie))
        session = next(c.value for c in laptop.jar if c.name == app.config["SESSION_COOKIE_NAME"])
        session_id = app.session_interface.get_signing_serializer(app).loads(session)["_user_id"]
        with app.test_request_context():  # a remember-me cookie for the laptop's sign-in
            remember = {"Cookie": f"{app.config.get('REMEMBER_COOKIE_NAME', 'remember_token')}="
                                  f"{encode_cookie(session_id)}"}
        signed_in = [lambda: copied.request("GET", "/"), lambda: Browser(server.base).request(
            "GET", "/", headers=remember)]
        assert [get()[0] for get in signed_in] == [200, 200]

        laptop.open_page("/")
        assert laptop.post_form("/logout", {})[0] == 302
        for get in [*signed_in, lambda: laptop.request("GET", "/")]:
            status, headers, _ = get()
            assert status == 302 and headers["Location"].startswith("/login"), status
        assert phone.request("GET", "/")[0] == 200  # signing out here leaves the phone signed in


def test_hardening_a_sign_in_ends_after_its_lifetime_however_active(app, login_as):
    """A sign-in that began more than SIGN_IN_MAX_DAYS ago opens nothing, and the hourly pass
    deletes it: a cookie copied long ago does not work for ever."""
    from datetime import timedelta

    from app.extensions import db
    from app.models import SignInSession, utcnow
    from app.services.signin import end_old_sign_ins
    from tests.factories import make_user

    user = make_user(role="owner")
    old, fresh = login_as(user), login_as(user)
    assert old.get("/").status_code == fresh.get("/").status_code == 200
    first = db.session.execute(db.select(SignInSession).order_by(SignInSession.id)).scalars().first()
    first.created_at = utcnow() - timedelta(days=app.config["SIGN_IN_MAX_DAYS"], minutes=1)
    db.session.commit()
    resp = old.get("/")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")
    assert fresh.get("/").status_code == 200
    assert end_old_sign_ins(utcnow()) == 1
    assert db.session.execute(db.select(db.func.count(SignInSession.id))).scalar_one() == 1
