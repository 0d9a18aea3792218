"""Team: invite by link with a role, joining, and reviewers limited to their assigned interviews
unless an owner lets them see all."""

from __future__ import annotations

import re
from datetime import timedelta

from app.extensions import db
from app.models import AuditEvent, TeamInvite, User, utcnow
from app.services import team
from tests.factories import PASSWORD, make_candidate, make_interview, make_media_answer, make_user
from tests.helpers import CsrfClient


def _anon(app) -> CsrfClient:
    cc = CsrfClient(app.test_client())
    cc.refresh("/login")
    return cc


def test_owner_invites_a_colleague_who_joins_with_that_role(app, login_as):
    owner = make_user(role="owner")
    cc = login_as(owner)
    resp = cc.post("/team/invites", data={"email": "Rita@Example.com", "role": "recruiter"})
    token = re.search(r'/join/([A-Za-z0-9_-]+)"', resp.get_data(as_text=True)).group(1)
    inv = db.session.execute(db.select(TeamInvite)).scalar_one()
    assert token not in inv.token_hash and len(inv.token_hash) == 64
    guest = _anon(app)
    assert "recruiter" in guest.get(f"/join/{token}").get_data(as_text=True)
    short = guest.post(f"/join/{token}", data={"name": "Rita", "password": "short"})
    assert short.status_code == 400 and "at least 8 characters" in short.get_data(as_text=True)
    resp = guest.post(f"/join/{token}", data={"name": "Rita", "password": "long-enough-pw"})
    assert resp.status_code == 302
    rita = db.session.execute(db.select(User).filter_by(email="rita@example.com")).scalar_one()
    assert (rita.role, rita.org_id) == ("recruiter", owner.org_id)
    assert guest.get("/team").status_code == 200  # signed in as Rita
    assert _anon(app).get(f"/join/{token}").status_code == 410  # works once
    assert _anon(app).get("/join/" + "x" * 43).status_code == 404


def test_expired_or_revoked_invites_do_not_work_and_only_owners_invite(app, login_as):
    owner = make_user(role="owner")
    recruiter = make_user(org=owner.organisation, role="recruiter")
    assert login_as(recruiter).post("/team/invites", data={"email": "x@example.com",
                                                           "role": "reviewer"}).status_code == 403
    inv, token = team.invite(owner, "late@example.com", "reviewer")
    inv.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    late = _anon(app).post(f"/join/{token}", data={"name": "L", "password": "long-enough-pw"})
    assert late.status_code == 410
    inv2, token2 = team.invite(owner, "gone@example.com", "reviewer")
    login_as(owner).post(f"/team/invites/{inv2.public_id}/revoke", data={})
    assert _anon(app).get(f"/join/{token2}").status_code == 410
    dup = login_as(owner).post("/team/invites", data={"email": recruiter.email, "role": "reviewer"},
                               follow_redirects=True)
    assert "already exists" in dup.get_data(as_text=True)
    assert db.session.execute(db.select(User).filter_by(email="late@example.com")).first() is None


def test_assigned_reviewer_sees_only_assigned_interviews(app, login_as):
    owner = make_user(role="owner")
    reviewer = make_user(org=owner.organisation, role="reviewer", all_interviews=False)
    mine, other = make_interview(owner), make_interview(owner)
    cand, _ = make_candidate(other)
    answer = make_media_answer(cand, other.questions[0])
    rc = login_as(reviewer)
    assert rc.get(f"/interviews/{other.public_id}").status_code == 404  # no assignment: sees none
    assert rc.post(f"/interviews/{mine.public_id}/assignments",  # unseen, so not found
                   data={"user": reviewer.public_id, "assigned": "1"}).status_code == 404
    oc = login_as(owner)
    oc.post(f"/interviews/{mine.public_id}/assignments", data={"user": reviewer.public_id, "assigned": "1"})
    index = rc.get("/").get_data(as_text=True)
    assert mine.title in index and other.title not in index
    for url in (f"/interviews/{other.public_id}", f"/interviews/{other.public_id}/queue",
                f"/review/candidates/{cand.public_id}", f"/media/answers/{answer.public_id}/video"):
        assert rc.get(url).status_code == 404, url
    assert oc.get(f"/review/candidates/{cand.public_id}").status_code == 200  # owners see all
    refused = oc.post(f"/interviews/{mine.public_id}/assignments",
                      data={"user": owner.public_id, "assigned": "1"}, follow_redirects=True)
    assert "Only reviewers are limited" in refused.get_data(as_text=True)
    oc.post(f"/interviews/{mine.public_id}/assignments", data={"user": reviewer.public_id, "assigned": "0"})
    assert rc.get(f"/review/candidates/{cand.public_id}").status_code == 404


def test_hardening_unassigning_a_reviewer_never_widens_access(app, login_as):
    owner = make_user(role="owner")
    recruiter = make_user(org=owner.organisation, role="recruiter")
    _, token = team.invite(owner, "rita@example.com", "reviewer")
    rita = team.accept(token, "Rita", PASSWORD)  # joins by link, as in production
    mine, other = make_interview(owner), make_interview(owner)
    rc = login_as(rita)

    def sees(interview) -> bool:
        return rc.get(f"/interviews/{interview.public_id}").status_code == 200

    # A new reviewer sees nothing until an owner says what: the list says so.
    index = rc.get("/").get_data(as_text=True)
    assert mine.title not in index and "not assigned to any interview" in index
    assert not sees(mine) and not sees(other)
    oc = login_as(owner)
    oc.post(f"/interviews/{mine.public_id}/assignments", data={"user": rita.public_id, "assigned": "1"})
    assert sees(mine) and not sees(other)
    oc.post(f"/interviews/{mine.public_id}/assignments", data={"user": rita.public_id, "assigned": "0"})
    assert not sees(mine) and not sees(other)  # back to nothing, never to everything

    # "All interviews" is an owner's explicit choice on the team page, shown there and audited.
    scope = f"/team/members/{rita.public_id}/scope"
    assert login_as(recruiter).post(scope, data={"scope": "all"}).status_code == 403
    assert not sees(other)
    assert oc.post(scope, data={"scope": "all"}).status_code == 302
    assert sees(mine) and sees(other)
    page = oc.get("/team").get_data(as_text=True)
    row = re.search(r'<tr data-member="rita@example.com">.*?</tr>', page, re.S)
    assert re.search(r'<option value="all"\s+selected>All interviews</option>', row.group(0))
    event = db.session.execute(db.select(AuditEvent).filter_by(action="reviewer.scope_changed")).scalar_one()
    assert (event.actor_id, event.subject_id, event.detail) == (owner.id, rita.public_id,
                                                                {"scope": "all interviews"})
    oc.post(scope, data={"scope": "assigned"})
    assert not sees(mine) and not sees(other)
    bad = oc.post(scope, data={"scope": "everything"}, follow_redirects=True)
    assert bad.status_code == 400 and not sees(other)
