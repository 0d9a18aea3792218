"""The open apply link: public, name and e-mail give a candidate their own invite, of its interview
only; each address is limited, an address with an invite gets none again, and it turns off at once."""

from __future__ import annotations

import re

from app.extensions import db
from app.models import Candidate, Interview, utcnow
from app.security import hash_token
from tests.factories import make_interview, make_user
from tests.helpers import CsrfClient


def _link(login_as, owner, iv) -> str:
    html = login_as(owner).post(f"/interviews/{iv.public_id}/apply-link", data={"action": "on"}).get_data(
        as_text=True)
    url = re.search(r'data-apply-url>([^<]+)<', html).group(1)
    return url.split("://", 1)[1].split("/", 1)[1]  # the path


def _candidate(app) -> CsrfClient:
    cc = CsrfClient(app.test_client())
    cc.refresh("/login")
    return cc


def test_applying_gives_an_invite_of_that_interview_only(app, login_as, mailbox, run_jobs):
    owner = make_user()
    iv, other = make_interview(owner), make_interview(owner)
    path = "/" + _link(login_as, owner, iv)
    token = path.rsplit("/", 1)[1]
    assert db.session.get(Interview, iv.id).apply_token_hash == hash_token(token)  # only the hash
    cc = _candidate(app)
    page = cc.get(path).get_data(as_text=True)
    assert iv.title in page and 'name="email"' in page
    resp = cc.post(path, data={"name": "Grace Hopper", "email": "Grace@Example.com"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "data-invite-link" in html
    invite = re.search(r'data-invite-link>[^<]*/i/([^<]+)<', html).group(1)
    made = db.session.execute(db.select(Candidate)).scalar_one()
    assert (made.interview_id, made.email, made.name) == (iv.id, "grace@example.com", "Grace Hopper")
    assert made.token_hash == hash_token(invite)
    assert cc.get(f"/i/{invite}").status_code == 200
    assert db.session.execute(db.select(Candidate).filter_by(interview_id=other.id)).first() is None
    # The same link by e-mail (a closed tab must not lose it), through the outbox and a real SMTP server.
    run_jobs()
    [msg] = mailbox.messages()
    assert msg["To"] == "Grace Hopper <grace@example.com>"
    assert f"/i/{invite}" in msg.get_body(("plain",)).get_content()


def test_bad_fields_and_a_second_application_are_refused(app, login_as):
    owner = make_user()
    iv = make_interview(owner)
    path = "/" + _link(login_as, owner, iv)
    cc = _candidate(app)
    resp = cc.post(path, data={"name": "", "email": "not an address"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and 'id="f-name-error"' in html and 'id="f-email-error"' in html
    assert cc.post(path, data={"name": "Ada", "email": "ada@example.com"}).status_code == 200
    again = cc.post(path, data={"name": "Ada again", "email": " ADA@example.com "})
    assert again.status_code == 409
    assert "has an invite to this interview already" in again.get_data(as_text=True)
    assert db.session.execute(db.select(db.func.count(Candidate.id))).scalar_one() == 1
    # Three tries an hour per address: the fourth is paused, whatever it says.
    assert cc.post(path, data={"name": "Ada", "email": "ada@example.com"}).status_code == 409
    paused = cc.post(path, data={"name": "Ada", "email": "ada@example.com"})
    assert paused.status_code == 429 and "Too many applications" in paused.get_data(as_text=True)


def test_one_network_applies_a_limited_number_of_times(app, login_as):
    app.config["APPLY_PER_ADDRESS"] = 2
    owner = make_user()
    iv = make_interview(owner)
    path = "/" + _link(login_as, owner, iv)
    cc = _candidate(app)
    for n in range(2):
        assert cc.post(path, data={"name": f"P{n}", "email": f"p{n}@example.com"}).status_code == 200
    assert cc.post(path, data={"name": "P3", "email": "p3@example.com"}).status_code == 429
    assert db.session.execute(db.select(db.func.count(Candidate.id))).scalar_one() == 2


def test_turned_off_or_closed_the_link_gives_no_invite(app, login_as):
    owner = make_user()
    iv = make_interview(owner)
    path = "/" + _link(login_as, owner, iv)
    cc = _candidate(app)
    iv.closed_at = utcnow()
    db.session.commit()
    assert "data-closed" in cc.get(path).get_data(as_text=True)
    assert cc.post(path, data={"name": "Ada", "email": "ada@example.com"}).status_code == 409
    login_as(owner).post(f"/interviews/{iv.public_id}/apply-link", data={"action": "off"})
    assert cc.get(path).status_code == 404
    assert cc.post(path, data={"name": "Ada", "email": "ada@example.com"}).status_code == 404
    assert db.session.execute(db.select(Candidate)).first() is None


def test_reviewers_cannot_make_an_apply_link(app, login_as):
    owner = make_user()
    iv = make_interview(owner)
    reviewer = make_user(org=owner.organisation, role="reviewer")
    resp = login_as(reviewer).post(f"/interviews/{iv.public_id}/apply-link", data={"action": "on"})
    assert resp.status_code == 403 and db.session.get(Interview, iv.id).apply_token_hash is None


def test_an_interview_without_questions_says_so_in_the_candidates_words(app, login_as):
    owner = make_user()
    iv = make_interview(owner, questions=1)
    path = "/" + _link(login_as, owner, iv)
    login_as(owner).post(f"/interviews/{iv.public_id}/questions/{iv.questions[0].public_id}/delete", data={})
    resp = _candidate(app).post(path, data={"name": "Ada", "email": "ada@example.com"})
    assert resp.status_code == 409 and "can no longer be started" in resp.get_data(as_text=True)
    assert db.session.execute(db.select(Candidate)).first() is None
