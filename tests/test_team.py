"""Team: invite by link with a role, joining, and reviewers limited to their assigned interviews."""

from __future__ import annotations

import re
from datetime import timedelta

from app.extensions import db
from app.models import TeamInvite, User, utcnow
from app.services import team
from tests.factories import make_candidate, make_interview, make_media_answer, make_user
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
    reviewer = make_user(org=owner.organisation, role="reviewer")
    mine, other = make_interview(owner), make_interview(owner)
    cand, _ = make_candidate(other)
    answer = make_media_answer(cand, other.questions[0])
    rc = login_as(reviewer)
    assert rc.get(f"/interviews/{other.public_id}").status_code == 200  # no assignment: sees all
    assert rc.post(f"/interviews/{mine.public_id}/assignments",
                   data={"user": reviewer.public_id, "assigned": "1"}).status_code == 403
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
    assert rc.get(f"/review/candidates/{cand.public_id}").status_code == 200
