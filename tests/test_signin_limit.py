"""Failed sign-ins are limited per email and per client address: 429 with Retry-After and the form
again, the right password included; emails with no account are counted and answered exactly like
wrong passwords; a success clears its email's count; a missing Redis locks no one out."""

from __future__ import annotations

import logging
import re
import time

import pytest

from app.services import team
from stack.services import free_port
from tests.factories import PASSWORD, make_user
from tests.helpers import CsrfClient

WRONG = "not-the-password"
OTHER = "192.0.2.77"
NEW = "a-brand-new-password"


def _limit(app, account: int = 100, address: int = 100, window: int = 600) -> None:
    app.config.update(LOGIN_FAILURES_PER_ACCOUNT=account, LOGIN_FAILURES_PER_ADDRESS=address,
                      LOGIN_FAILURE_WINDOW_SECONDS=window)


def _browser(app, address: str | None = None) -> CsrfClient:
    """A fresh browser on the sign-in page, from 127.0.0.1 or the given address."""
    client = app.test_client()
    if address:
        client.environ_base["REMOTE_ADDR"] = address
    cc = CsrfClient(client)
    cc.refresh("/login")
    return cc


def _sign_in(cc: CsrfClient, email: str, password: str):
    return cc.post("/login", data={"email": email, "password": password})


def _paused(resp, window: int = 600) -> bool:
    """A 429 with Retry-After that shows the sign-in form again and says for how long."""
    html = resp.get_data(as_text=True)
    return (resp.status_code == 429 and 0 < int(resp.headers.get("Retry-After", "0")) <= window
            and "signing in here is paused for about" in html
            and 'id="f-password" name="password" type="password"' in html)


def _signed_in(cc: CsrfClient) -> bool:
    return cc.get("/").status_code == 200


def test_failures_for_one_email_pause_its_sign_in_even_with_the_right_password(app, caplog):
    _limit(app, account=3)
    user, colleague = make_user(), make_user()
    caplog.set_level(logging.WARNING, logger="app.services.signin")
    cc = _browser(app)
    for typed in (user.email, user.email.upper(), f"  {user.email} "):  # one account, however typed
        resp = _sign_in(cc, typed, WRONG)
        assert resp.status_code == 401 and "Retry-After" not in resp.headers
    resp = _sign_in(cc, user.email, PASSWORD)
    assert _paused(resp)
    assert "about 10 minutes" in resp.get_data(as_text=True)
    assert f'name="email" type="email" value="{user.email}"' in resp.get_data(as_text=True)
    assert not _signed_in(cc)
    assert [r.getMessage() for r in caplog.records if r.name == "app.services.signin"] == [
        f"Sign-in paused for the email '{user.email}': 3 failed sign-ins within 600 s"]

    elsewhere = _browser(app, OTHER)  # counted per email: a new address does not buy more guesses
    assert _paused(_sign_in(elsewhere, user.email, PASSWORD)) and not _signed_in(elsewhere)
    assert _sign_in(cc, colleague.email, PASSWORD).status_code == 302  # other accounts sign in


def _masked(resp, email: str) -> str:
    """The page without what differs between any two requests (CSRF token, nonce) or was typed."""
    html = resp.get_data(as_text=True).replace(email, "EMAIL")
    return re.sub(r'(content|value|nonce)="[^"]*"', r'\1=""', html)


def test_unknown_emails_are_counted_and_answered_exactly_like_wrong_passwords(app):
    _limit(app, account=2)
    user = make_user()
    answers = {}
    for email in (user.email, "nobody@example.com"):
        cc = _browser(app)
        resps = [_sign_in(cc, email, WRONG), _sign_in(cc, email, WRONG), _sign_in(cc, email, PASSWORD)]
        answers[email] = [(r.status_code, "Retry-After" in r.headers, _masked(r, email)) for r in resps]
    assert answers[user.email] == answers["nobody@example.com"]
    assert [a[:2] for a in answers[user.email]] == [(401, False), (401, False), (429, True)]
    assert "That email and password do not match an account." in answers[user.email][0][2]


@pytest.mark.parametrize("form", [
    {"email": "", "password": ""}, {"password": PASSWORD}, {"email": "x" * 5000, "password": "y" * 5000},
    {"email": "ünï@exämple.com", "password": "pässwörd"}, {"email": "a\x00b@example.com", "password": "\x00"},
])
def test_odd_sign_ins_are_refused_like_any_other_not_with_an_error(app, form):
    _limit(app, account=1)
    cc = _browser(app)
    assert cc.post("/login", data=form).status_code == 401
    assert _paused(cc.post("/login", data=form))


def test_failures_from_one_address_pause_it_for_every_account(app):
    _limit(app, account=3, address=4)
    user = make_user()
    attacker = _browser(app)
    for n in range(4):  # one password tried on many emails
        assert _sign_in(attacker, f"someone{n}@example.com", WRONG).status_code == 401
    assert _paused(_sign_in(attacker, user.email, PASSWORD))
    assert _sign_in(_browser(app, OTHER), user.email, PASSWORD).status_code == 302

    # Locking one member out from several addresses costs each address its own budget too.
    hops = [_browser(app, f"198.51.100.{n}") for n in (1, 2)]
    for hop in hops:
        assert _sign_in(hop, user.email, WRONG).status_code == 401
    assert _sign_in(hops[0], user.email, WRONG).status_code == 401  # the email's third failure
    assert _paused(_sign_in(_browser(app, "198.51.100.3"), user.email, PASSWORD))
    _limit(app, account=100, address=2)
    assert _paused(_sign_in(hops[0], "someone-else@example.com", WRONG))
    assert _sign_in(hops[1], "someone-else@example.com", WRONG).status_code == 401


def test_a_success_clears_its_emails_count_but_not_its_addresses(app):
    _limit(app, account=3, address=5)
    user = make_user()
    for _ in range(2):  # two failures then a success, twice: without the clear the fourth pauses it
        cc = _browser(app)
        for _ in range(2):
            assert _sign_in(cc, user.email, WRONG).status_code == 401
        assert _sign_in(cc, user.email, PASSWORD).status_code == 302 and _signed_in(cc)
    # The address has four failures: signing in to one's own account bought it nothing.
    cc = _browser(app)
    assert _sign_in(cc, "someone@example.com", WRONG).status_code == 401
    assert _paused(_sign_in(cc, user.email, PASSWORD))


def test_the_pause_lifts_when_its_window_ends(app):
    _limit(app, account=1, window=1)
    user = make_user()
    cc = _browser(app)
    assert _sign_in(cc, user.email, WRONG).status_code == 401
    resp = _sign_in(cc, user.email, PASSWORD)
    assert _paused(resp, window=1) and resp.headers["Retry-After"] == "1"
    deadline = time.monotonic() + 3
    while (resp := _sign_in(cc, user.email, PASSWORD)).status_code == 429:
        assert time.monotonic() < deadline, "the pause outlived its one-second window"
        time.sleep(0.1)
    assert resp.status_code == 302 and _signed_in(cc)


def test_a_reset_link_lets_a_member_paused_by_others_guesses_back_in(app):
    _limit(app, account=2)
    owner = make_user(role="owner")
    rita = make_user(org=owner.organisation, role="reviewer")
    attacker = _browser(app, OTHER)
    for _ in range(2):
        assert _sign_in(attacker, rita.email, WRONG).status_code == 401
    assert _paused(_sign_in(_browser(app), rita.email, PASSWORD))
    _, token = team.make_reset_link(owner, rita.public_id)
    cc = CsrfClient(app.test_client())
    cc.refresh(f"/reset/{token}")
    assert cc.post(f"/reset/{token}", data={"password": NEW, "password_confirm": NEW}).status_code == 302
    cc.refresh("/login")
    assert _sign_in(cc, rita.email, NEW).status_code == 302 and _signed_in(cc)


def test_a_limit_of_zero_is_off(app):
    _limit(app, account=0, address=0)
    user = make_user()
    cc = _browser(app)
    for _ in range(12):
        assert _sign_in(cc, user.email, WRONG).status_code == 401
    assert _sign_in(cc, user.email, PASSWORD).status_code == 302


def test_with_redis_down_sign_in_still_works_and_a_warning_is_logged(app, other_app, caplog):
    down = other_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", LOGIN_FAILURES_PER_ACCOUNT=1,
                     LOGIN_FAILURES_PER_ADDRESS=1)
    user = make_user()
    caplog.set_level(logging.WARNING, logger="app.services.ratelimit")
    cc = _browser(down)
    started = time.monotonic()
    for _ in range(3):
        assert _sign_in(cc, user.email, WRONG).status_code == 401
    assert _sign_in(cc, user.email, PASSWORD).status_code == 302 and _signed_in(cc)
    assert time.monotonic() - started < 5
    warnings = [r for r in caplog.records if "rate limits are off" in r.getMessage()]
    assert len(warnings) == 1  # once a minute, not once a request
