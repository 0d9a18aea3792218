"""Share links: hashed tokens, shortlist scope, media cut off on revoke or expiry, guest scores, view log."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import GuestScore, ShareLink, ShareView, utcnow
from app.services import sharing
from tests.factories import make_candidate, make_interview, make_media_answer, make_scores, make_user
from tests.helpers import CsrfClient


@pytest.fixture
def world(app):
    owner = make_user(role="owner")
    interview = make_interview(owner, questions=2)
    shared, _ = make_candidate(interview)
    other, _ = make_candidate(interview)
    shared.name, other.name = "Shared Person", "Private Person"
    db.session.commit()
    a = make_media_answer(shared, interview.questions[0])
    b = make_media_answer(other, interview.questions[0])
    return {"owner": owner, "interview": interview, "shared": shared, "other": other, "answer": a,
            "other_answer": b}


def _guest(app) -> CsrfClient:
    cc = CsrfClient(app.test_client())
    cc.refresh("/login")
    return cc


def test_owner_creates_a_link_shown_once_and_stored_as_a_hash(login_as, world):
    cc = login_as(world["owner"])
    resp = cc.post(f"/interviews/{world['interview'].public_id}/shares",
                   data={"candidate": world["shared"].public_id, "permission": "view", "days": "3"})
    html = resp.get_data(as_text=True)
    token = re.search(r'/s/([A-Za-z0-9_-]+)"', html).group(1)
    assert len(token) >= 43  # 256 bits, at least the 128 asked for
    link = db.session.execute(db.select(ShareLink)).scalar_one()
    assert token not in link.token_hash and len(link.token_hash) == 64
    assert link.expires_at - utcnow() > timedelta(days=2, hours=23)
    bad = cc.post(f"/interviews/{world['interview'].public_id}/shares",
                  data={"candidate": world["shared"].public_id, "days": "365"}, follow_redirects=True)
    assert "from 1 to 90 days" in bad.get_data(as_text=True)


def test_a_link_reaches_exactly_what_was_shared(app, world):
    _link, token = sharing.create_link(world["owner"], [world["shared"].public_id])
    guest = _guest(app)
    page = guest.get(f"/s/{token}", follow_redirects=True)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Shared Person" in html
    assert world["shared"].email not in html  # the email is never shown to guests
    a, b = world["answer"], world["other_answer"]
    assert guest.get(f"/s/{token}/media/{a.public_id}/video").status_code == 200
    ranged = guest.get(f"/s/{token}/media/{a.public_id}/video", headers={"Range": "bytes=0-9"})
    assert ranged.status_code == 206 and len(ranged.data) == 10
    assert guest.get(f"/s/{token}/media/{b.public_id}/video").status_code == 404
    assert guest.get(f"/s/{token}/c/{world['other'].public_id}").status_code == 404
    assert guest.get(f"/s/{token}/media/{a.public_id}/captions.vtt").status_code == 200
    # No staff page opens for a guest, whatever link they hold.
    assert guest.get(f"/review/candidates/{world['shared'].public_id}").status_code == 302
    assert guest.get(f"/media/answers/{a.public_id}/video").status_code == 302
    assert guest.get("/s/" + "x" * 43).status_code == 404


def test_revoking_or_expiry_stops_pages_and_media_at_once(app, login_as, world):
    link, token = sharing.create_link(world["owner"], [world["shared"].public_id])
    guest = _guest(app)
    media = f"/s/{token}/media/{world['answer'].public_id}/video"
    assert guest.get(media).status_code == 200
    owner = login_as(world["owner"])
    resp = owner.post(f"/shares/{link.public_id}/revoke", data={}, follow_redirects=True)
    assert 'data-state="revoked"' in resp.get_data(as_text=True)
    assert guest.get(media).status_code == 410
    assert guest.get(f"/s/{token}", follow_redirects=True).status_code == 410
    link2, token2 = sharing.create_link(world["owner"], [world["shared"].public_id])
    assert guest.get(f"/s/{token2}/media/{world['answer'].public_id}/video").status_code == 200
    link2.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert guest.get(f"/s/{token2}/media/{world['answer'].public_id}/video").status_code == 410


def test_shortlist_with_hidden_names(app, world):
    _link, token = sharing.create_link(world["owner"], [world["shared"].public_id, world["other"].public_id],
                                      hide_names=True)
    guest = _guest(app)
    html = guest.get(f"/s/{token}").get_data(as_text=True)
    assert "Candidate 1" in html and "Candidate 2" in html
    assert "Shared Person" not in html and "Private Person" not in html
    html = guest.get(f"/s/{token}/c/{world['other'].public_id}").get_data(as_text=True)
    assert "Candidate 2" in html and "Private Person" not in html


def test_guest_names_themselves_before_scoring_and_shows_as_a_guest(app, login_as, world):
    cand = world["shared"]
    q = world["interview"].questions[0]
    _, view_token = sharing.create_link(world["owner"], [cand.public_id], permission="view")
    _, token = sharing.create_link(world["owner"], [cand.public_id], permission="score")
    guest = _guest(app)
    score_url = f"/s/{token}/c/{cand.public_id}/q/{q.public_id}/score"
    assert guest.post(score_url, data={"value": "4"}).status_code == 403  # no name yet
    page = guest.get(f"/s/{token}/c/{cand.public_id}").get_data(as_text=True)
    assert "data-guest-name" in page and "Save score" not in page
    guest.post(f"/s/{token}/guest", data={"name": "Grace Guest", "back": f"/s/{token}/c/{cand.public_id}"})
    page = guest.get(f"/s/{token}/c/{cand.public_id}").get_data(as_text=True)
    assert 'data-guest="Grace Guest"' in page
    assert guest.post(score_url, data={"value": "4", "comment": "sharp"}).status_code == 302
    assert guest.post(score_url, data={"value": "9"}, follow_redirects=True).status_code == 200
    as_json = guest.post(score_url, data={"value": "5"}, headers={"Accept": "application/json"})
    assert as_json.get_json()["value"] == 5
    guest.post(score_url, data={"value": "4", "comment": "sharp"})
    assert db.session.execute(db.select(GuestScore.value)).scalar_one() == 4
    # A view link never scores, even with a name from another link.
    view_url = f"/s/{view_token}/c/{cand.public_id}/q/{q.public_id}/score"
    assert guest.post(view_url, data={"value": "4"}).status_code == 403
    # Staff see it as a guest's score once they have submitted their own review.
    make_scores(world["owner"], cand, [3, 3])
    html = login_as(world["owner"]).get(f"/review/candidates/{cand.public_id}").get_data(as_text=True)
    assert "Grace Guest (guest)" in html and 'data-grader="guest"' in html


def test_every_view_is_logged_and_shown_to_the_owner(app, login_as, world):
    link, token = sharing.create_link(world["owner"], [world["shared"].public_id, world["other"].public_id])
    guest = _guest(app)
    guest.get(f"/s/{token}")
    guest.get(f"/s/{token}/c/{world['shared'].public_id}")
    views = db.session.execute(db.select(ShareView)).scalars().all()
    assert len(views) == 2 and all(token not in v.path for v in views)
    assert {v.candidate_id for v in views} == {None, world["shared"].id}
    html = login_as(world["owner"]).get(f"/shares/{link.public_id}").get_data(as_text=True)
    assert 'data-views="2"' in html
    # Another organisation cannot see the link at all.
    stranger = login_as(make_user(role="owner"))
    assert stranger.get(f"/shares/{link.public_id}").status_code == 404
    assert stranger.post(f"/shares/{link.public_id}/revoke", data={}).status_code == 404


def test_reviewers_cannot_create_links_and_others_candidates_are_refused(login_as, world):
    reviewer = make_user(org=world["owner"].organisation, role="reviewer")
    url = f"/interviews/{world['interview'].public_id}/shares"
    assert login_as(reviewer).post(url, data={"candidate": world["shared"].public_id}).status_code == 403
    theirs, _ = make_candidate(make_interview(make_user(role="owner")))
    resp = login_as(world["owner"]).post(url, data={"candidate": theirs.public_id})
    assert resp.status_code == 404


def test_owner_shares_a_shortlist_ticked_in_the_queue(login_as, world):
    cc = login_as(world["owner"])
    queue = cc.get(f"/interviews/{world['interview'].public_id}/queue").get_data(as_text=True)
    assert 'form="share-selected"' in queue
    resp = cc.post(f"/interviews/{world['interview'].public_id}/shares",
                   data={"candidate": [world["shared"].public_id, world["other"].public_id],
                         "permission": "score", "days": "2"})
    assert resp.status_code == 200
    link = db.session.execute(db.select(ShareLink)).scalar_one()
    assert {c.public_id for c in link.candidates} == {world["shared"].public_id, world["other"].public_id}
    reviewer = make_user(org=world["owner"].organisation, role="reviewer")
    html = login_as(reviewer).get(f"/interviews/{world['interview'].public_id}/queue").get_data(as_text=True)
    assert "share-selected" not in html
