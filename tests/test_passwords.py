"""Passwords: a member changes their own (every other session ends, this one stays); owners and the
operator make once-only reset links; wrong current passwords and guessed links are limited."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import PasswordReset, User, utcnow
from app.services import team
from tests.factories import PASSWORD, make_user
from tests.helpers import CsrfClient, remember_cookie_client, sign_in_id

NEW = "a-brand-new-password"
CHANGE = "/account/password"
FORGED = "A" * 43


def _text(resp) -> str:
    return resp.get_data(as_text=True)


def _signs_in(app, email: str, password: str) -> bool:
    cc = CsrfClient(app.test_client())
    cc.refresh("/login")
    return cc.post("/login", data={"email": email, "password": password}).status_code == 302


def _signed_out(client) -> bool:
    resp = client.get("/")
    return resp.status_code == 302 and "/login" in resp.headers["Location"]


def _change(cc, current: str, new: str, confirm: str | None = None):
    return cc.post(CHANGE, data={"current_password": current, "password": new,
                                 "password_confirm": new if confirm is None else confirm})


def _reset_path(resp) -> str:
    """The reset link shown to the owner, as a path."""
    url = re.search(r'value="([^"]+)" data-reset-link', _text(resp)).group(1)
    assert url.startswith("http://localhost/reset/"), url
    return url.removeprefix("http://localhost")


def _resets(user: User) -> list[PasswordReset]:
    db.session.expire_all()
    return list(db.session.execute(
        db.select(PasswordReset).filter_by(user_id=user.id).order_by(PasswordReset.id)).scalars())


def test_changing_the_password_ends_every_other_session_and_keeps_this_one(app, login_as):
    user = make_user(role="reviewer")
    earlier = login_as(user)  # another browser, signed in before the change
    cookie = remember_cookie_client(app, sign_in_id(app, user))
    assert cookie.get("/").status_code == 200
    cc = login_as(user)
    assert f'href="{CHANGE}"' in _text(cc.get("/"))  # linked from the header
    form = _text(cc.get(CHANGE))
    for name in ("current_password", "password", "password_confirm"):
        assert f'<label for="f-{name}">' in form and f'id="f-{name}" name="{name}" type="password"' in form

    resp = _change(cc, PASSWORD, NEW)
    assert resp.status_code == 302
    assert "Everywhere else you were signed in, you are now signed out." in _text(
        cc.get(resp.headers["Location"]))
    assert cc.get("/team").status_code == 200  # this browser stays signed in, forms included
    assert cc.post("/logout", data={}).status_code == 302
    assert _signed_out(earlier.client) and _signed_out(cookie)
    assert not _signs_in(app, user.email, PASSWORD) and _signs_in(app, user.email, NEW)


def test_each_refusal_shows_the_form_again_with_the_reason_beside_its_field(app, login_as):
    user = make_user(role="recruiter")
    earlier = login_as(user)
    cc = login_as(user)
    cases = [
        ((f"not-{PASSWORD}", NEW), "current_password", "That is not your current password."),
        (("", NEW), "current_password", "That is not your current password."),
        ((PASSWORD, NEW, NEW + "!"), "password_confirm", "The two new passwords are not the same."),
        ((PASSWORD, "seven77"), "password", "A password needs at least 8 characters."),
        ((PASSWORD, ""), "password", "A password needs at least 8 characters."),
        ((PASSWORD, PASSWORD), "password", "The new password is the same as your current one."),
    ]
    for args, name, message in cases:
        resp = _change(cc, *args)
        html = _text(resp)
        assert (resp.status_code, message in html) == (400, True), args
        assert f'<p class="field-error" id="f-{name}-error">{message}' in html, args
        assert re.search(f'id="f-{name}"[^>]*aria-describedby="f-{name}-error[^>]*aria-invalid="true"', html)
        assert NEW not in html and PASSWORD not in html  # typed passwords are never sent back
    no_csrf = cc.client.post(CHANGE, data={"current_password": PASSWORD, "password": NEW,
                                           "password_confirm": NEW})
    assert no_csrf.status_code == 400
    assert _signs_in(app, user.email, PASSWORD)
    assert earlier.get("/").status_code == 200  # a refusal ends nothing


def test_wrong_current_passwords_pause_changes_for_that_account_only(app, login_as):
    app.config.update(PASSWORD_FAILURES_PER_WINDOW=3, PASSWORD_FAILURE_WINDOW_SECONDS=600)
    user = make_user(role="owner")
    colleague = make_user(org=user.organisation, role="reviewer")
    cc = login_as(user)
    for _ in range(3):
        assert _change(cc, "wrong-password", NEW).status_code == 400
    for browser in (cc, login_as(user)):  # counted per account, not per browser
        resp = _change(browser, PASSWORD, NEW)
        assert resp.status_code == 429 and 0 < int(resp.headers["Retry-After"]) <= 600
        assert "changing it is paused for about 10 minutes" in _text(resp)
        assert 'id="f-current_password-error"' in _text(resp)
    assert _signs_in(app, user.email, PASSWORD)

    # Another account is not affected, and a success starts its count again.
    kc = login_as(colleague)
    for _ in range(2):
        assert _change(kc, "wrong-password", NEW).status_code == 400
    assert _change(kc, PASSWORD, NEW).status_code == 302
    for _ in range(2):
        assert _change(kc, "wrong-password", "another-password").status_code == 400
    assert _change(kc, NEW, "another-password").status_code == 302


def test_a_limit_of_zero_turns_the_count_of_wrong_current_passwords_off(app, login_as):
    app.config.update(PASSWORD_FAILURES_PER_WINDOW=0)
    user = make_user(role="owner")
    cc = login_as(user)
    for _ in range(6):
        assert _change(cc, "wrong-password", NEW).status_code == 400
    assert _change(cc, PASSWORD, NEW).status_code == 302


def test_an_owner_makes_a_reset_link_that_sets_the_password_once(app, login_as):
    owner = make_user(role="owner")
    rita = make_user(org=owner.organisation, role="reviewer")
    rc = login_as(rita)
    oc = login_as(owner)
    page = _text(oc.get("/team"))
    assert f"/team/members/{rita.public_id}/password-reset" in page
    assert f"/team/members/{owner.public_id}/password-reset" not in page  # they change their own

    resp = oc.post(f"/team/members/{rita.public_id}/password-reset", data={})
    assert resp.status_code == 200 and "works once, and expires in" in _text(resp)
    path = _reset_path(resp)
    token = path.rsplit("/", 1)[1]
    [row] = _resets(rita)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()  # only the hash is kept
    assert row.created_by_id == owner.id and row.expires_at - row.created_at == timedelta(hours=24)
    assert f'data-reset-pending="{rita.email}"' in _text(oc.get("/team"))

    guest = CsrfClient(app.test_client())  # whoever holds the link: no sign-in needed
    form = guest.get(path)
    assert form.status_code == 200 and rita.email in _text(form)
    assert form.headers["Cache-Control"] == "no-store"
    guest.refresh(path)
    refused = guest.post(path, data={"password": NEW, "password_confirm": NEW[::-1]})
    assert refused.status_code == 400 and 'id="f-password_confirm-error"' in _text(refused)
    done = guest.post(path, data={"password": NEW, "password_confirm": NEW})
    assert done.status_code == 302 and done.headers["Location"] == "/login"
    assert "Sign in with it." in _text(guest.get("/login"))

    assert _signed_out(rc.client)  # her open session ended with the old password
    assert not _signs_in(app, rita.email, PASSWORD) and _signs_in(app, rita.email, NEW)
    assert _resets(rita)[0].used_at is not None
    other = {"password": "x" * 12, "password_confirm": "x" * 12}
    for again in (guest.get(path), guest.post(path, data=other)):
        assert again.status_code == 410 and "already been used" in _text(again)
    assert _signs_in(app, rita.email, NEW)
    assert f'data-reset-pending="{rita.email}"' not in _text(oc.get("/team"))


def test_expired_and_replaced_links_no_longer_work(app, login_as, client):
    owner = make_user(role="owner")
    rita = make_user(org=owner.organisation, role="reviewer")
    oc = login_as(owner)
    first = _reset_path(oc.post(f"/team/members/{rita.public_id}/password-reset", data={}))
    second = _reset_path(oc.post(f"/team/members/{rita.public_id}/password-reset", data={}))
    resp = client.get(first)
    assert resp.status_code == 410 and "a newer link replaced it" in _text(resp)
    assert client.get(second).status_code == 200

    newest = _resets(rita)[-1]
    newest.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    resp = client.get(second)
    assert resp.status_code == 410 and "has expired (links work for 24 hours)" in _text(resp)

    # Changing her own password ends a link made before.
    third = _reset_path(oc.post(f"/team/members/{rita.public_id}/password-reset", data={}))
    assert _change(login_as(rita), PASSWORD, NEW).status_code == 302
    assert client.get(third).status_code == 410
    assert [r.revoked_at is not None for r in _resets(rita)] == [True, True, True]


def test_only_owners_make_links_and_only_for_active_members_of_their_team(app, login_as, client):
    owner = make_user(role="owner")
    recruiter = make_user(org=owner.organisation, role="recruiter")
    rita = make_user(org=owner.organisation, role="reviewer")
    gone = make_user(org=owner.organisation, role="reviewer")
    elsewhere = make_user(role="owner")
    team.remove_member(owner, gone.public_id)
    oc = login_as(owner)
    cases = [
        (login_as(recruiter), rita.public_id, 403, "Only owners may make password reset links."),
        (login_as(elsewhere), rita.public_id, 404, "That colleague is not in your team."),
        (oc, owner.public_id, 409, "You cannot make a reset link for yourself"),
        (oc, gone.public_id, 409, f"{gone.name} has been removed from the team. Restore them"),
        (oc, "no-such-member", 404, "That colleague is not in your team."),
    ]
    for cc, member, status, message in cases:
        resp = cc.post(f"/team/members/{member}/password-reset", data={})
        assert (resp.status_code, message in _text(resp)) == (status, True), (member, status)
    assert db.session.execute(sa.select(sa.func.count(PasswordReset.id))).scalar_one() == 0

    # A link made before its member was removed stops working, and a restore does not bring it back.
    _, token = team.make_reset_link(owner, rita.public_id)
    team.remove_member(owner, rita.public_id)
    assert client.get(f"/reset/{token}").status_code == 410
    team.restore_member(owner, rita.public_id)
    assert client.get(f"/reset/{token}").status_code == 410
    # And a link whose member is inactive is refused even if nothing revoked it.
    _, token = team.make_reset_link(owner, rita.public_id)
    db.session.get(User, rita.id).active = False
    db.session.commit()
    resp = client.get(f"/reset/{token}")
    assert resp.status_code == 410 and "removed from its team" in _text(resp)


def test_guessing_reset_links_counts_with_every_other_link(app, client):
    app.config.update(TOKEN_FAILURES_PER_WINDOW=3)
    owner = make_user(role="owner")
    rita = make_user(org=owner.organisation, role="reviewer")
    _, token = team.make_reset_link(owner, rita.public_id)
    for _ in range(3):
        assert client.get(f"/reset/{FORGED}").status_code == 404
    for url in (f"/reset/{token}", f"/reset/{FORGED}", f"/join/{FORGED}"):  # a good link too
        resp = client.get(url)
        assert resp.status_code == 429 and int(resp.headers["Retry-After"]) > 0, url
    other = app.test_client()
    other.environ_base.update({"REMOTE_ADDR": "192.0.2.77"})
    assert other.get(f"/reset/{token}").status_code == 200


def test_the_operator_prints_a_reset_link_that_works(app):
    owner = make_user(role="owner")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reset-password", owner.email.upper()])
    assert result.exit_code == 0, result.output
    path = re.search(r"^(/reset/[A-Za-z0-9_-]+)$", result.output, re.M).group(1)
    assert "It works once, for 24 hours (until" in result.output and "--base-url" in result.output
    [row] = _resets(owner)
    assert row.created_by_id is None

    cc = CsrfClient(app.test_client())
    cc.refresh(path)
    assert cc.post(path, data={"password": NEW, "password_confirm": NEW}).status_code == 302
    assert _signs_in(app, owner.email, NEW)

    result = runner.invoke(args=["reset-password", owner.email, "--base-url", "https://oneway.example.com/"])
    assert re.search(r"^https://oneway\.example\.com/reset/[A-Za-z0-9_-]+$", result.output, re.M)
    app.config["BASE_URL"] = "https://hr.example.org/oneway"
    result = runner.invoke(args=["reset-password", owner.email])
    assert re.search(r"^https://hr\.example\.org/oneway/reset/[A-Za-z0-9_-]+$", result.output, re.M)
    assert [r.revoked_at is None for r in _resets(owner)] == [True, False, True]  # used, replaced, live

    gone = make_user(org=owner.organisation, role="reviewer")
    team.remove_member(owner, gone.public_id)
    for email, message in (("nobody@example.com", "No account has that email."),
                           (gone.email, "has been removed from the team")):
        result = runner.invoke(args=["reset-password", email])
        assert result.exit_code == 1 and message in result.output, result.output
