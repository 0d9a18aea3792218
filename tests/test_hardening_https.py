"""Oneway as deployed: gunicorn behind nginx ending TLS, with the production proxy's own
configuration (docker/nginx/oneway.conf.template). Forms, uploads and scoring work over HTTPS
while a valid CSRF token sent from another site is still refused (issue 14, item 1); clients
cannot choose the address the app counts them by (item 10); HSTS over HTTPS (item 11)."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Answer, Candidate, Review, Score
from tests.browser import CHROMIUM, chromium_args, wait_for
from tests.conftest import BACKENDS, worker_env
from tests.factories import PASSWORD, make_candidate, make_interview, make_media_answer, make_user
from tests.server import Browser, gunicorn, tls_proxy

pytestmark = [pytest.mark.browser, pytest.mark.processes]


def _https_env(servers, databases, backend, **extra) -> dict:
    env = worker_env(servers, databases[0][backend])
    # Production's settings (Secure cookies, the real limits), and as in docker/compose.yaml the
    # one proxy's X-Forwarded-For names the client.
    env.update(ONEWAY_ENV="production", TRUSTED_PROXIES="1", **extra)
    return env


@pytest.mark.parametrize("backend", [BACKENDS[-1]], indirect=True)
def test_hardening_forms_work_over_https_and_other_sites_are_refused(app, servers, databases, backend,
                                                                    tmp_path):
    owner = make_user(role="owner")
    email = owner.email
    db.session.remove()
    with gunicorn(_https_env(servers, databases, backend), tmp_path / "web.log") as web, \
            tls_proxy(web, tmp_path / "nginx") as proxy:
        base = proxy.base
        page = Browser(base)
        page.open_page("/login")
        status, headers, body = page.post_form("/login", {"email": email, "password": PASSWORD})
        assert status == 302, (status, body[:400], web.log_text()[-2000:])
        cookie = next(c for c in headers.get_all("Set-Cookie") if c.startswith("session="))
        assert "Secure" in cookie and "HttpOnly" in cookie
        status, headers, _ = page.request("GET", "/")
        assert status == 200
        assert headers["Strict-Transport-Security"] == "max-age=31536000"
        assert headers["Referrer-Policy"] == "same-origin"

        # A valid token is not enough when another site's page sends the form ...
        other = Browser(base)
        other.open_page("/login")
        other.base = "https://evil.example"  # the Origin its page would send
        status, _, body = other.post_form(f"{base}/login", {"email": email, "password": PASSWORD})
        assert status == 400 and b"Form expired" in body
        # ... or a request names no page at all, over HTTPS (a browser always names one).
        other.base = base
        status, _, body = other.post_form("/login", {"email": email, "password": PASSWORD},
                                          origin=False)
        assert status == 400 and b"Form expired" in body
        # A page of this site that hides its address (Origin "null") still names it in Referer.
        status, _, _ = other.request("POST", "/login", data=b"", headers={"Origin": "null"})
        assert status == 400
        # Plain HTTP on the proxy only sends the browser to HTTPS.
        status, headers, _ = Browser(proxy.plain).request("GET", "/login?next=%2F")
        assert status == 308 and headers["Location"] == "https://127.0.0.1/login?next=%2F"


@pytest.mark.parametrize("backend", [BACKENDS[-1]], indirect=True)
def test_hardening_a_forged_forwarded_for_does_not_dodge_the_sign_in_limit(app, servers, databases,
                                                                          backend, tmp_path):
    owner = make_user(role="owner")
    email = owner.email
    db.session.remove()
    # Cookies not Secure: the same server is also reached over plain HTTP here.
    env = _https_env(servers, databases, backend, LOGIN_FAILURES_PER_ADDRESS="3",
                     LOGIN_FAILURES_PER_ACCOUNT="0", SESSION_COOKIE_SECURE="false")
    with gunicorn(env, tmp_path / "web.log") as web, tls_proxy(web, tmp_path / "nginx") as proxy:
        base = proxy.base
        # Straight to gunicorn, as the old compose file published it to anyone: every try names
        # another address, and none is ever paused. This is why only the proxy may reach it.
        direct = [_wrong_password(Browser(web.base), email, n) for n in range(5)]
        through_proxy = [_wrong_password(Browser(base), email, n) for n in range(5)]
    assert direct == [401] * 5, direct
    # The proxy replaces the header: every try counts against the one real address.
    assert through_proxy == [401, 401, 401, 429, 429], through_proxy


def _wrong_password(page: Browser, email: str, n: int) -> int:
    page.open_page("/login")
    body = f"csrf_token={page.token}&email={email}&password=wrong{n}".encode()
    status, _, _ = page.request("POST", "/login", data=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": f"203.0.113.{n}"})
    return status


@pytest.mark.parametrize("backend", [BACKENDS[-1]], indirect=True)
def test_hardening_a_browser_signs_in_records_and_scores_over_https(app, servers, databases, backend,
                                                                   media_dir, tmp_path):
    """Headless Chromium through the TLS proxy: a candidate consents and uploads a recording
    (fetch() PUTs with the token in a header), a grader signs in, scores in place (fetch), submits
    a form and signs out."""
    from playwright.sync_api import sync_playwright

    owner = make_user(role="owner")
    interview = make_interview(owner, questions=1, think=30, answer=20, takes=1)
    candidate, token = make_candidate(interview, owner, consent=False)
    graded_iv = make_interview(owner, questions=1)
    graded, _ = make_candidate(graded_iv, owner)
    make_media_answer(graded, graded_iv.questions[0])
    ids = {"candidate": candidate.id, "graded": graded.id, "owner": owner.id}
    email, graded_public = owner.email, graded.public_id
    db.session.remove()

    with gunicorn(_https_env(servers, databases, backend), tmp_path / "web.log") as web, \
            tls_proxy(web, tmp_path / "nginx") as proxy, sync_playwright() as p:
        base = proxy.base
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            *chromium_args(media_dir["y4m"], media_dir["speech"]), "--ignore-certificate-errors"])
        try:
            page = browser.new_page()
            page.goto(f"{base}/i/{token}")
            assert page.evaluate("window.isSecureContext")
            page.get_by_label("I agree to be recorded").check()
            page.get_by_role("button", name="Agree and continue").click()
            page.wait_for_url("**/record")
            # The device check and a practice take, played back in the page (over HTTPS too).
            page.get_by_role("button", name="Record a 3-second test").click()
            page.get_by_role("button", name="Continue to a practice question").click(timeout=20_000)
            page.get_by_role("button", name="Start recording now").click()
            page.wait_for_timeout(2000)
            page.get_by_role("button", name="Stop recording").click()
            page.get_by_role("button", name="Practise again").wait_for()
            page.get_by_role("button", name="Start the interview").click()
            page.get_by_role("button", name="Start recording now").click()
            page.get_by_role("button", name="Stop recording").wait_for(state="visible", timeout=15_000)
            page.wait_for_timeout(3000)
            page.get_by_role("button", name="Stop recording").click()
            try:
                page.locator("#receipt").filter(has_text="Answer received").wait_for(timeout=30_000)
            except Exception:
                status, error = page.inner_text("#status"), page.inner_text("#error")
                raise AssertionError(f"no receipt: status={status!r} error={error!r}\n"
                                     f"{web.log_text()[-3000:]}") from None
            page.get_by_role("button", name="Keep and finish the interview").click()
            page.wait_for_url("**/done")

            grader = browser.new_page()
            grader.goto(f"{base}/login")
            grader.get_by_label("Email").fill(email)
            grader.get_by_label("Password").fill(PASSWORD)
            grader.get_by_role("button", name="Sign in").click()
            grader.wait_for_url(f"{base}/")
            grader.goto(f"{base}/review/candidates/{graded_public}")
            first = grader.locator("section.answer").first
            first.get_by_label("4").check()
            first.get_by_role("button", name="Save score").click()
            wait_for(lambda: _score(ids) == 4, timeout=15, what="the score saved over HTTPS")
            grader.get_by_label("Strong yes").check()
            grader.get_by_role("button", name="Submit review").click()
            grader.wait_for_load_state()
            grader.get_by_role("button", name="Sign out").click()
            grader.wait_for_url("**/login")
        finally:
            browser.close()
        log = web.log_text()
    assert "Form expired" not in log and " 400 " not in log, log[-3000:]
    db.session.remove()
    candidate = db.session.get(Candidate, ids["candidate"])
    assert candidate.status == "completed"
    answer = db.session.execute(db.select(Answer).filter_by(candidate_id=ids["candidate"])).scalar_one()
    assert answer.original_size and answer.chunk_count >= 2
    assert db.session.execute(db.select(Review).filter_by(
        candidate_id=ids["graded"], user_id=ids["owner"])).scalar_one().recommendation == "strong_yes"


def _score(ids: dict) -> int | None:
    db.session.remove()
    return db.session.execute(db.select(Score.value).filter_by(
        candidate_id=ids["graded"], user_id=ids["owner"])).scalar_one_or_none()


def test_hardening_a_valid_token_from_another_sites_page_is_refused_over_http_too(app, csrf_client):
    """Over plain HTTP (make run) the token alone used to decide; a browser's Origin naming another
    site now refuses the form as well, while our own pages' forms go through."""
    owner = make_user(role="owner")
    csrf_client.refresh("/login")
    fields = {"email": owner.email, "password": PASSWORD}
    resp = csrf_client.post("/login", data=fields, headers={"Origin": "https://evil.example"})
    assert resp.status_code == 400 and "Form expired" in resp.get_data(as_text=True)
    resp = csrf_client.post("/login", data=fields, headers={"Referer": "https://evil.example/page"})
    assert resp.status_code == 400
    resp = csrf_client.post("/login", data=fields, headers={"Origin": "http://localhost",
                                                            "Referer": "http://localhost/login"})
    assert resp.status_code == 302
