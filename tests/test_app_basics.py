"""Health, sign-in, security headers and organisation scoping."""

from __future__ import annotations

from tests.factories import make_candidate, make_interview, make_user


def test_health_report_gives_each_dependency(client):
    resp = client.get("/healthz/ready")  # the test client's address is loopback: an operator's
    body = resp.get_json()
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"]["ok"] is True
    assert body["checks"]["storage"]["ok"] is True
    # No worker runs in this test, so the stack is degraded and says which queues lack one.
    assert body["checks"]["workers"]["ok"] is False
    assert "media" in body["checks"]["workers"]["reason"]
    assert resp.status_code == 503 and body["status"] == "degraded"
    # The web app itself can serve, and that is all the public check says.
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_pages_need_login(client):
    resp = client.get("/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_login_with_wrong_password_is_refused(csrf_client, app):
    user = make_user()
    csrf_client.refresh()
    resp = csrf_client.post("/login", data={"email": user.email, "password": "wrong-password"})
    assert resp.status_code == 401
    assert "do not match" in resp.get_data(as_text=True)


def test_form_without_csrf_token_is_refused(client, app):
    user = make_user()
    resp = client.post("/login", data={"email": user.email, "password": "password123"})
    assert resp.status_code == 400
    assert "expired" in resp.get_data(as_text=True)


def test_security_headers_and_hashed_password(client, app):
    user = make_user()
    assert "password123" not in user.password_hash
    resp = client.get("/login")
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp and "media-src 'self' blob:" in csp
    assert resp.headers["X-Frame-Options"] == "DENY"


def test_other_organisations_ids_answer_404(csrf_client, app):
    mine = make_user(role="owner")
    theirs = make_interview(make_user(role="owner"))
    cand, _ = make_candidate(theirs)
    csrf_client.login(mine.email)
    assert csrf_client.get(f"/interviews/{theirs.public_id}").status_code == 404
    assert csrf_client.get(f"/review/candidates/{cand.public_id}").status_code == 404
    resp = csrf_client.post(f"/interviews/{theirs.public_id}/candidates",
                            data={"name": "X", "email": "x@example.com"})
    assert resp.status_code == 404
    resp = csrf_client.post(f"/review/candidates/{cand.public_id}/questions/"
                            f"{theirs.questions[0].public_id}/score", data={"value": "5"})
    assert resp.status_code == 404


def test_reviewer_cannot_author_or_invite(csrf_client, app):
    owner = make_user(role="owner")
    reviewer = make_user(org=owner.organisation, role="reviewer")
    interview = make_interview(owner)
    csrf_client.login(reviewer.email)
    assert csrf_client.get(f"/interviews/{interview.public_id}").status_code == 200
    resp = csrf_client.post(f"/interviews/{interview.public_id}/candidates",
                            data={"name": "X", "email": "x@example.com"})
    assert resp.status_code == 403


def test_owner_writes_interview_and_gets_invite_link_once(csrf_client, app):
    from app.extensions import db
    from app.models import Candidate, Interview

    owner = make_user(role="owner")
    csrf_client.login(owner.email)
    resp = csrf_client.post("/interviews/new", data={
        "title": "Data engineer", "intro": "Hi", "language": "en",
        "prompt": "Why data?", "think_seconds": "10", "answer_seconds": "60", "max_takes": "2"})
    assert resp.status_code == 302
    interview = db.session.execute(db.select(Interview).filter_by(title="Data engineer")).scalar_one()
    bad = csrf_client.post(f"/interviews/{interview.public_id}/questions", data={
        "prompt": "Too long a think", "think_seconds": "abc", "answer_seconds": "60", "max_takes": "1"})
    assert bad.status_code == 302
    assert len(interview.questions) == 1
    resp = csrf_client.post(f"/interviews/{interview.public_id}/candidates",
                            data={"name": "Grace", "email": "grace@example.com"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "/i/" in html
    token = html.split("/i/")[1].split('"')[0]
    cand = db.session.execute(db.select(Candidate).filter_by(email="grace@example.com")).scalar_one()
    assert token not in cand.token_hash and len(cand.token_hash) == 64
    assert csrf_client.get(f"/i/{token}").status_code == 200


def test_each_area_url_prefix_has_one_blueprint(app):
    """Every route under /i/, /review/, /media/, /s/ and /outreach/ lives in one blueprint, found in
    one place."""
    owners: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        for prefix in ("/i/", "/review/", "/media/", "/s/", "/outreach/"):
            if rule.rule.startswith(prefix):
                owners.setdefault(prefix, set()).add(rule.endpoint.split(".")[0])
    assert owners == {"/i/": {"candidate"}, "/review/": {"grading"}, "/media/": {"media"}, "/s/": {"share"},
                      "/outreach/": {"outreach"}}


def test_a_refusal_of_access_goes_to_the_error_page_and_any_other_to_the_form():
    from app.services import ServiceError
    from app.services.ratelimit import TooManyAttempts

    assert all(ServiceError("No.", status).refuses_access for status in (403, 404, 410))
    assert not any(ServiceError("Fix it.", status).refuses_access for status in (400, 401, 409, 422, 503))
    assert TooManyAttempts(60).refuses_access  # the links' pause: every link route is refused
    assert not TooManyAttempts(60, "Sign-ins are paused.").refuses_access  # the sign-in form says so
    assert not TooManyAttempts(60, "Paused.", field="current_password").refuses_access
