"""Team members: owners change roles, remove members and restore them; the last owner stays."""

from __future__ import annotations

import csv
import io
import threading

import sqlalchemy as sa

from app.extensions import db
from app.models import InterviewAssignment, Organisation, Score, User
from app.services import ServiceError, team
from tests.factories import PASSWORD, make_candidate, make_interview, make_scores, make_user
from tests.helpers import CsrfClient, remember_cookie_client, sign_in_id


def _text(resp) -> str:
    return resp.get_data(as_text=True)


def _role(user: User) -> str:
    db.session.expire_all()
    return db.session.get(User, user.id).role


def test_owner_changes_a_role_and_it_applies_to_the_members_open_session(app, login_as):
    owner = make_user(role="owner")
    rita = make_user(org=owner.organisation, role="reviewer")
    interview = make_interview(owner)
    rc = login_as(rita)
    assert rc.get(f"/interviews/{interview.public_id}/scores.csv").status_code == 403
    resp = login_as(owner).post(f"/team/members/{rita.public_id}/role", data={"role": "recruiter"},
                                follow_redirects=True)
    assert f"{rita.name} is now recruiter." in _text(resp)
    assert _role(rita) == "recruiter"
    assert rc.get(f"/interviews/{interview.public_id}/scores.csv").status_code == 200


def test_removed_member_is_signed_out_for_good_and_loses_assignments_but_keeps_scores(app, login_as):
    owner = make_user(role="owner")
    rita = make_user(org=owner.organisation, role="reviewer")
    interview = make_interview(owner, questions=2)
    cand, _ = make_candidate(interview)
    make_scores(rita, cand, [4, 2])
    team.set_assignment(owner, interview, rita.public_id, True)
    rc = login_as(rita)
    assert rc.get("/").status_code == 200

    oc = login_as(owner)
    resp = oc.post(f"/team/members/{rita.public_id}/remove", data={}, follow_redirects=True)
    assert "can no longer sign in" in _text(resp)
    assert f'data-removed="{rita.email}"' in _text(resp)
    assert f'data-member="{rita.email}"' not in _text(resp)

    # Her open session no longer works, for pages and for forms alike.
    gone = rc.get("/")
    assert gone.status_code == 302 and "/login" in gone.headers["Location"]
    assert rc.post(f"/review/candidates/{cand.public_id}/submit",
                   data={"recommendation": "yes"}).status_code == 302
    assert rc.get(f"/review/candidates/{cand.public_id}").status_code == 302
    again = CsrfClient(app.test_client())
    again.refresh("/login")
    refused = again.post("/login", data={"email": rita.email, "password": PASSWORD})
    assert refused.status_code == 401 and "do not match an account" in _text(refused)

    assert db.session.execute(db.select(InterviewAssignment).filter_by(user_id=rita.id)).first() is None
    assert not db.session.get(User, rita.id).all_interviews  # nor does "all interviews" come back
    assert db.session.execute(db.select(sa.func.count(Score.id)).filter_by(
        user_id=rita.id)).scalar_one() == 2
    rows = list(csv.DictReader(io.StringIO(_text(oc.get(f"/interviews/{interview.public_id}/scores.csv")))))
    assert [(r["grader"], r["q1"], r["q2"]) for r in rows] == [(rita.name, "4", "2")]  # under her name
    page = _text(oc.get(f"/interviews/{interview.public_id}"))
    assert rita.email not in page  # no longer offered for assignment
    assert oc.post(f"/interviews/{interview.public_id}/assignments",
                   data={"user": rita.public_id, "assigned": "1"}).status_code == 404


def test_the_last_owner_can_be_neither_demoted_nor_removed(app, login_as):
    owner = make_user(role="owner")
    oc = login_as(owner)
    for url, data in ((f"/team/members/{owner.public_id}/role", {"role": "recruiter"}),
                      (f"/team/members/{owner.public_id}/remove", {})):
        resp = oc.post(url, data=data)
        assert resp.status_code == 409, url
        assert "You are the only owner left" in _text(resp)
    assert _role(owner) == "owner" and oc.get("/team").status_code == 200

    second = make_user(org=owner.organisation, role="owner")
    assert oc.post(f"/team/members/{second.public_id}/role", data={"role": "reviewer"}).status_code == 302
    sc = login_as(second)
    refused = sc.post(f"/team/members/{owner.public_id}/remove", data={})
    assert refused.status_code == 403  # a reviewer now: not theirs to decide
    assert "Only owners may remove members." in _text(refused)

    # With another owner, an owner may step down or leave; leaving signs them out.
    oc.post(f"/team/members/{second.public_id}/role", data={"role": "owner"})
    resp = oc.post(f"/team/members/{owner.public_id}/remove", data={})
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert oc.get("/team").status_code == 302
    resp = sc.post(f"/team/members/{second.public_id}/role", data={"role": "recruiter"})
    assert resp.status_code == 409 and "You are the only owner left" in _text(resp)


def test_bad_requests_get_a_message_and_a_4xx(app, login_as):
    owner = make_user(role="owner")
    recruiter = make_user(org=owner.organisation, role="recruiter")
    elsewhere = make_user(role="owner")
    oc = login_as(owner)
    cases = [
        (login_as(recruiter), f"/team/members/{owner.public_id}/role", {"role": "reviewer"}, 403,
         "Only owners may change roles."),
        (login_as(elsewhere), f"/team/members/{recruiter.public_id}/role", {"role": "reviewer"}, 404,
         "not in your team"),
        (login_as(elsewhere), f"/team/members/{recruiter.public_id}/remove", {}, 404, "not in your team"),
        (oc, "/team/members/no-such-member/role", {"role": "reviewer"}, 404, "not in your team"),
        (oc, "/team/members/no-such-member/remove", {}, 404, "not in your team"),
        (oc, f"/team/members/{recruiter.public_id}/role", {"role": "admin"}, 400, "Choose a role"),
        (oc, f"/team/members/{recruiter.public_id}/role", {}, 400, "Choose a role"),
    ]
    for cc, url, data, status, message in cases:
        resp = cc.post(url, data=data)
        assert (resp.status_code, message in _text(resp)) == (status, True), (url, data)
    no_csrf = oc.client.post(f"/team/members/{recruiter.public_id}/remove", data={})
    assert no_csrf.status_code == 400 and "This form has expired" in _text(no_csrf)
    assert _role(recruiter) == "recruiter" and db.session.get(User, recruiter.id).active

    oc.post(f"/team/members/{recruiter.public_id}/remove", data={})
    again = oc.post(f"/team/members/{recruiter.public_id}/remove", data={})
    assert again.status_code == 302  # already removed: nothing more to do
    resp = oc.post(f"/team/members/{recruiter.public_id}/role", data={"role": "owner"})
    assert resp.status_code == 409 and "has been removed from the team" in _text(resp)
    assert not db.session.get(User, recruiter.id).active and _role(recruiter) == "recruiter"


def test_two_owners_demoting_each_other_at_once_leave_one_owner(app):
    a = make_user(role="owner")
    b = make_user(org=a.organisation, role="owner")
    ids = (a.org_id, a.id, a.public_id, b.id)
    outcome = {}

    def b_demotes_a():
        with app.app_context():
            try:
                team.change_role(db.session.get(User, ids[3]), ids[2], "reviewer")
                outcome["done"] = True
            except ServiceError as e:
                outcome["refused"] = e.status

    with db.engine.connect() as conn:
        # A demotes B, and has not committed yet when B's request to demote A comes in.
        tx = conn.begin()
        conn.execute(sa.update(Organisation).where(Organisation.id == ids[0])
                     .values(name=Organisation.name))
        conn.execute(sa.update(User).where(User.id == ids[3]).values(role="reviewer"))
        thread = threading.Thread(target=b_demotes_a)
        thread.start()
        thread.join(1.0)
        assert thread.is_alive(), outcome  # waits for A's change to finish
        tx.commit()
    thread.join(40)
    assert outcome == {"refused": 409}
    db.session.expire_all()
    assert db.session.execute(db.select(User.role).filter_by(org_id=ids[0]).order_by(User.id)
                              ).scalars().all() == ["owner", "reviewer"]


def test_a_restored_member_signs_in_again_but_sessions_from_before_the_removal_stay_dead(app, login_as):
    owner = make_user(role="owner")
    rita = make_user(org=owner.organisation, role="reviewer")
    rc = login_as(rita)
    old_id = sign_in_id(app, rita)
    assert remember_cookie_client(app, old_id).get("/").status_code == 200  # the cookie works today
    oc = login_as(owner)
    oc.post(f"/team/members/{rita.public_id}/remove", data={})
    page = _text(oc.get("/team"))
    assert f'/team/members/{rita.public_id}/restore' in page and "Restore" in page

    resp = oc.post(f"/team/members/{rita.public_id}/restore", data={"role": "recruiter"},
                   follow_redirects=True)
    assert f"{rita.name} is back in the team as recruiter" in _text(resp)
    assert f'data-member="{rita.email}"' in _text(resp) and f'data-removed="{rita.email}"' not in _text(resp)
    db.session.expire_all()
    assert db.session.get(User, rita.id).active and _role(rita) == "recruiter"

    # The session and the remember-me cookie from before the removal do not come back with her.
    for old in (rc.client, remember_cookie_client(app, old_id)):
        gone = old.get("/")
        assert gone.status_code == 302 and "/login" in gone.headers["Location"]
    assert remember_cookie_client(app, rita.public_id).get("/").status_code == 302  # pre-0007 form
    again = login_as(rita)  # her own password works again
    assert again.get("/team").status_code == 200
    assert again.get(f"/interviews/{make_interview(owner).public_id}/scores.csv").status_code == 200
    new_id = sign_in_id(app, db.session.get(User, rita.id))
    assert remember_cookie_client(app, new_id).get("/").status_code == 200


def test_restore_is_for_owners_of_the_same_team_and_keeps_the_role_unless_told(app, login_as):
    owner = make_user(role="owner")
    rex = make_user(org=owner.organisation, role="recruiter")
    gone = make_user(org=owner.organisation, role="owner")
    elsewhere = make_user(role="owner")
    oc = login_as(owner)
    oc.post(f"/team/members/{gone.public_id}/remove", data={})
    url = f"/team/members/{gone.public_id}/restore"
    cases = [(login_as(rex), {}, 403, "Only owners may restore members."),
             (login_as(elsewhere), {}, 404, "not in your team"),
             (oc, {"role": "admin"}, 400, "Choose a role")]
    for cc, data, status, message in cases:
        resp = cc.post(url, data=data)
        assert (resp.status_code, message in _text(resp)) == (status, True), data
    assert oc.post("/team/members/no-such-member/restore", data={}).status_code == 404
    assert oc.client.post(url, data={}).status_code == 400  # no CSRF token
    assert not db.session.get(User, gone.id).active

    assert oc.post(url, data={}).status_code == 302  # no role chosen: the one they had
    db.session.expire_all()
    assert db.session.get(User, gone.id).active and _role(gone) == "owner"
    assert oc.post(url, data={"role": "reviewer"}).status_code == 302  # already back: nothing to do
    assert _role(gone) == "owner"


def test_inviting_a_removed_members_email_points_to_restore(app, login_as):
    owner = make_user(role="owner")
    rita = make_user(org=owner.organisation, role="reviewer")
    oc = login_as(owner)
    oc.post(f"/team/members/{rita.public_id}/remove", data={})
    resp = oc.post("/team/invites", data={"email": rita.email.upper(), "role": "reviewer"},
                   follow_redirects=True)
    assert f"{rita.name} ({rita.email}) was removed from your team" in _text(resp)
    assert "use Restore under Removed members" in _text(resp)
    assert team.pending_invites(owner) == []
    # Someone else's removed member is just an existing account: nothing about them is told.
    other = make_user(role="owner")
    theirs = make_user(org=other.organisation, role="reviewer")
    team.remove_member(other, theirs.public_id)
    resp = oc.post("/team/invites", data={"email": theirs.email, "role": "reviewer"}, follow_redirects=True)
    assert "An account with this email already exists." in _text(resp) and theirs.name not in _text(resp)
