"""The audit log: each change to the team and to candidates' data leaves exactly one event, written
with the change (a refused or rolled-back change leaves none); owners read their organisation's
events, newest first, 50 a page; an erased candidate leaves no name or email; old events expire."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent, Interview, ShareLink, TeamInvite, User, utcnow
from app.services import audit, retention, sharing, team
from tests.factories import PASSWORD, make_candidate, make_interview, make_media_answer, make_user
from tests.helpers import CsrfClient

NEW = "a-brand-new-password"


def _text(resp) -> str:
    return resp.get_data(as_text=True)


class Log:
    """The organisation's events recorded since the last look."""

    def __init__(self, org_id: int):
        self.org_id = org_id
        self.seen = len(self._all())

    def _all(self) -> list[AuditEvent]:
        db.session.expire_all()
        return list(db.session.execute(
            sa.select(AuditEvent).filter_by(org_id=self.org_id).order_by(AuditEvent.id)).scalars())

    def new(self) -> list[AuditEvent]:
        events = self._all()
        fresh, self.seen = events[self.seen:], len(events)
        return fresh

    def one(self, action: str, actor: User | None, kind: str, subject: str, label: str | None = None
            ) -> AuditEvent:
        """Exactly one new event, with this action, actor (and label) and subject."""
        new = self.new()
        assert [(e.action, e.subject_kind, e.subject_id) for e in new] == [(action, kind, subject)], new
        event = new[0]
        assert event.actor_id == (actor.id if actor else None)
        assert event.actor_label == (label if label is not None else actor.name)
        assert event.created_at.tzinfo is not None and abs(utcnow() - event.created_at) < timedelta(minutes=1)
        return event

    def none(self) -> None:
        assert self.new() == []


def test_each_team_change_records_one_event_with_who_and_whom(app, login_as):
    owner = make_user(role="owner")
    interview = make_interview(owner, questions=1)
    log = Log(owner.org_id)
    oc = login_as(owner)

    resp = oc.post("/team/invites", data={"email": "rita@example.com", "role": "reviewer"})
    token = re.search(r'/join/([A-Za-z0-9_-]+)"', _text(resp)).group(1)
    invite = db.session.execute(db.select(TeamInvite).filter_by(email="rita@example.com")).scalar_one()
    assert log.one("member.invited", owner, "invite", invite.public_id).detail == {"role": "reviewer"}

    joiner = CsrfClient(app.test_client())  # signed out; reads its form token from the sign-in page
    joined = joiner.post(f"/join/{token}", data={"name": "Rita", "password": "long-enough-pw"})
    assert joined.status_code == 302
    rita = db.session.execute(db.select(User).filter_by(email="rita@example.com")).scalar_one()
    event = log.one("member.joined", rita, "member", rita.public_id, label="Rita")
    assert event.detail == {"role": "reviewer"}

    assert oc.post(f"/interviews/{interview.public_id}/assignments",
                   data={"user": rita.public_id, "assigned": "1"}).status_code == 302
    event = log.one("reviewer.assigned", owner, "interview", interview.public_id)
    assert event.detail == {"reviewer": "Rita"}
    assert oc.post(f"/interviews/{interview.public_id}/assignments",
                   data={"user": rita.public_id, "assigned": "0"}).status_code == 302
    log.one("reviewer.unassigned", owner, "interview", interview.public_id)

    assert oc.post(f"/team/members/{rita.public_id}/role", data={"role": "recruiter"}).status_code == 302
    event = log.one("member.role_changed", owner, "member", rita.public_id)
    assert event.detail == {"old": "reviewer", "new": "recruiter"}
    assert oc.post(f"/team/members/{rita.public_id}/remove", data={}).status_code == 302
    log.one("member.removed", owner, "member", rita.public_id)
    assert oc.post(f"/team/members/{rita.public_id}/restore", data={"role": "reviewer"}).status_code == 302
    assert log.one("member.restored", owner, "member", rita.public_id).detail == {"role": "reviewer"}

    other, _ = team.invite(owner, "late@example.com", "recruiter")
    log.one("member.invited", owner, "invite", other.public_id)
    assert oc.post(f"/team/invites/{other.public_id}/revoke", data={}).status_code == 302
    log.one("invite.revoked", owner, "invite", other.public_id)

    # The label is the name the actor had then: it stays when they change or leave.
    owner_name = owner.name
    owner.name = "Renamed Owner"
    db.session.commit()
    assert {e.actor_label for e in log._all() if e.actor_id == owner.id} == {owner_name}


def test_refused_unchanged_and_rolled_back_changes_record_nothing(app, login_as):
    owner = make_user(role="owner")
    recruiter = make_user(org=owner.organisation, role="recruiter")
    interview = make_interview(owner, questions=1)
    log = Log(owner.org_id)
    oc = login_as(owner)
    # The last owner may not step down (409); a recruiter may not change roles (403).
    assert oc.post(f"/team/members/{owner.public_id}/role", data={"role": "reviewer"}).status_code == 409
    assert login_as(recruiter).post(f"/team/members/{owner.public_id}/role",
                                    data={"role": "reviewer"}).status_code == 403
    assert login_as(recruiter).post("/team/invites", data={"email": "x@example.com",
                                                           "role": "owner"}).status_code == 403
    assert oc.post(f"/team/members/{owner.public_id}/remove", data={}).status_code == 409
    # Nothing to change: the same role, an unchanged review mode, a link already revoked.
    assert oc.post(f"/team/members/{recruiter.public_id}/role", data={"role": "recruiter"}).status_code == 302
    assert oc.post(f"/interviews/{interview.public_id}/review-mode",
                   data={"review_media": "video"}).status_code == 302
    # A wrong current password changes nothing.
    assert oc.post("/account/password", data={"current_password": "wrong-password", "password": NEW,
                                              "password_confirm": NEW}).status_code == 400
    log.none()

    cand, _ = make_candidate(interview)
    link, _ = sharing.create_link(owner, [cand.public_id])
    log.one("share_link.created", owner, "share_link", link.public_id)
    sharing.revoke(owner, link)
    log.one("share_link.revoked", owner, "share_link", link.public_id)
    sharing.revoke(owner, link)
    log.none()

    # An event is part of its caller's transaction: rolled back with it.
    audit.record("member.removed", recruiter, actor=owner)
    db.session.rollback()
    log.none()


def test_password_events_name_the_owner_the_member_or_the_operator(app, login_as):
    owner = make_user(role="owner")
    rita = make_user(org=owner.organisation, role="reviewer")
    log = Log(owner.org_id)

    resp = login_as(owner).post(f"/team/members/{rita.public_id}/password-reset", data={})
    assert resp.status_code == 200
    log.one("password.reset_link_made", owner, "member", rita.public_id)
    path = re.search(r'value="([^"]+)" data-reset-link', _text(resp)).group(1).removeprefix("http://localhost")
    guest = CsrfClient(app.test_client())  # whoever holds the link
    guest.refresh(path)
    assert guest.post(path, data={"password": NEW, "password_confirm": NEW}).status_code == 302
    log.one("password.reset_used", rita, "member", rita.public_id)

    recruiter = make_user(org=owner.organisation, role="recruiter")
    rc = login_as(recruiter)
    assert rc.post("/account/password", data={"current_password": PASSWORD, "password": NEW,
                                              "password_confirm": NEW}).status_code == 302
    log.one("password.changed", recruiter, "member", recruiter.public_id)

    result = app.test_cli_runner().invoke(args=["reset-password", rita.email])
    assert result.exit_code == 0, result.output
    log.one("password.reset_link_made", None, "member", rita.public_id, label=audit.OPERATOR)
    missing = app.test_cli_runner().invoke(args=["reset-password", "nobody@example.com"])
    assert missing.exit_code != 0
    log.none()


def test_downloads_share_links_and_interview_settings_are_recorded(app, login_as):
    owner = make_user(role="owner")
    reviewer = make_user(org=owner.organisation, role="reviewer")
    oc = login_as(owner)
    log = Log(owner.org_id)

    resp = oc.post("/interviews/new", data={"title": "Kept short", "retention_days": "30",
                                            "prompt": "Why?", "think_seconds": "5", "answer_seconds": "30",
                                            "max_takes": "1"})
    assert resp.status_code == 302
    interview = db.session.execute(db.select(Interview).filter_by(title="Kept short")).scalar_one()
    assert log.one("interview.created", owner, "interview", interview.public_id).detail == {
        "retention_days": 30}
    assert oc.post(f"/interviews/{interview.public_id}/review-mode",
                   data={"anonymous": "on", "review_media": "audio"}).status_code == 302
    assert log.one("interview.review_mode_changed", owner, "interview", interview.public_id).detail == {
        "names": "hidden", "media": "audio only"}

    cand, _ = make_candidate(interview)
    make_media_answer(cand, interview.questions[0])
    log.new()
    zipped = oc.get(f"/review/candidates/{cand.public_id}/export.zip")
    assert zipped.status_code == 200 and zipped.data[:2] == b"PK"
    assert log.one("candidate.exported", owner, "candidate", cand.public_id).detail == {"scores": False}
    assert login_as(reviewer).get(f"/review/candidates/{cand.public_id}/export.zip").status_code == 403
    assert login_as(reviewer).get(f"/interviews/{interview.public_id}/scores.csv").status_code == 403
    log.none()
    csv = oc.get(f"/interviews/{interview.public_id}/scores.csv")
    assert csv.status_code == 200 and cand.public_id in _text(csv)
    log.one("interview.scores_exported", owner, "interview", interview.public_id)

    resp = oc.post(f"/interviews/{interview.public_id}/shares",
                   data={"candidate": cand.public_id, "permission": "score", "days": "3", "label": "For Ada"})
    assert resp.status_code == 200
    link = db.session.execute(db.select(ShareLink)).scalar_one()
    event = log.one("share_link.created", owner, "share_link", link.public_id)
    assert event.detail == {"permission": "score", "count": 1, "days": 3, "hide_names": False,
                            "candidates": [cand.public_id]}
    assert oc.post(f"/shares/{link.public_id}/revoke", data={}).status_code == 302
    log.one("share_link.revoked", owner, "share_link", link.public_id)


def _all_event_text() -> str:
    """Every column of every event in the database, as one text."""
    rows = db.session.execute(sa.select(AuditEvent.__table__)).all()
    return "\n".join(repr(tuple(r)) for r in rows)


def test_erased_and_purged_candidates_leave_events_without_their_name_or_email(app, login_as):
    owner = make_user(role="owner")
    interview = make_interview(owner, questions=1)
    erased, _ = make_candidate(interview)
    expired, _ = make_candidate(interview)
    for cand, name in ((erased, "Erin Erased"), (expired, "Exa Expired")):
        cand.name, cand.email = name, f"{name.split()[0].lower()}@candidates.example"
    db.session.commit()
    make_media_answer(erased, interview.questions[0])
    sharing.create_link(owner, [erased.public_id, expired.public_id])
    login_as(owner).get(f"/review/candidates/{erased.public_id}/export.zip")
    erased_id, expired_id = erased.public_id, expired.public_id
    log = Log(owner.org_id)
    oc = login_as(owner)
    page = _text(oc.get("/team/audit"))
    assert "Erin Erased" in page  # named while their data is held

    resp = oc.post(f"/review/candidates/{erased_id}/erase", data={"confirm": "yes"})
    assert resp.status_code == 302
    assert log.one("candidate.erased", owner, "candidate", erased_id).detail == {"answers": 1}

    expired.created_at = utcnow() - timedelta(days=181)
    db.session.commit()
    assert [p.candidate for p in retention.purge_expired(utcnow())] == [expired_id]
    event = log.one("candidate.purged", None, "candidate", expired_id, label=audit.RETENTION)
    assert event.detail == {"answers": 0}

    text = _all_event_text()
    assert erased_id in text and expired_id in text  # referred to by public id only
    for gone in ("Erin", "Erased", "erin@candidates.example", "Exa", "Expired", "exa@candidates.example"):
        assert gone not in text
    page = _text(oc.get("/team/audit"))
    assert "Erin" not in page and "Exa" not in page
    assert f"Candidate {erased_id}" in page and "(data deleted)" in page


def test_owners_read_their_own_organisations_events_and_nobody_else_does(app, login_as):
    owner = make_user(role="owner")
    rita = make_user(org=owner.organisation, role="reviewer")
    recruiter = make_user(org=owner.organisation, role="recruiter")
    team.change_role(owner, rita.public_id, "recruiter")
    team.remove_member(owner, rita.public_id)
    oc = login_as(owner)
    assert 'data-audit-link' in _text(oc.get("/team"))
    page = _text(oc.get("/team/audit"))
    assert page.count("<tr data-action=") == 2
    # Newest first, with who, a sentence and the subject.
    assert page.index('data-action="member.removed"') < page.index('data-action="member.role_changed"')
    assert "Changed a member&#39;s role from reviewer to recruiter" in page
    assert "Removed a member from the team" in page and owner.name in page and rita.name in page

    for member in (recruiter, make_user(org=owner.organisation, role="reviewer")):
        cc = login_as(member)
        assert cc.get("/team/audit").status_code == 403
        assert 'data-audit-link' not in _text(cc.get("/team"))
    stranger = login_as(make_user(role="owner"))
    theirs = stranger.get("/team/audit")
    assert theirs.status_code == 200 and "Nothing has been recorded yet" in _text(theirs)
    assert rita.public_id not in _text(theirs) and rita.name not in _text(theirs)
    assert app.test_client().get("/team/audit").status_code == 302  # signed out: to the sign-in page


def test_fifty_events_a_page_newest_first_with_next_and_previous(app, login_as):
    owner = make_user(role="owner")
    start = utcnow() - timedelta(days=1)
    for i in range(120):
        audit.record("password.changed", owner, actor=owner).created_at = start + timedelta(minutes=i)
    db.session.commit()
    oc = login_as(owner)

    def times(resp) -> list[str]:
        return re.findall(r'<time datetime="([^"]+)"', _text(resp))

    first = oc.get("/team/audit")
    assert len(times(first)) == 50 and times(first) == sorted(times(first), reverse=True)
    assert times(first)[0] == (start + timedelta(minutes=119)).isoformat(timespec="seconds")
    assert 'rel="next" href="/team/audit?page=2"' in _text(first) and 'rel="prev"' not in _text(first)
    second = oc.get("/team/audit?page=2")
    assert times(second)[0] == (start + timedelta(minutes=69)).isoformat(timespec="seconds")
    assert 'rel="prev" href="/team/audit?page=1"' in _text(second) and "Page 2 of 3" in _text(second)
    last = oc.get("/team/audit?page=3")
    assert len(times(last)) == 20 and 'rel="next"' not in _text(last)
    assert times(last)[-1] == start.isoformat(timespec="seconds")
    # Past the end shows the last page, before the start the first; text is refused.
    assert times(oc.get("/team/audit?page=99999999999999999999999")) == times(last)
    assert times(oc.get("/team/audit?page=-4")) == times(first)
    for bad in ("abc", "1.5", "9" * 5000, "\x00"):
        resp = oc.get("/team/audit", query_string={"page": bad})
        assert resp.status_code == 400 and "whole number" in _text(resp)


def test_the_worker_retention_pass_deletes_events_older_than_the_setting(app):
    from app.queue import redis_conn
    from jobs.worker import purge_pass

    owner = make_user(role="owner")
    org_id = owner.org_id
    other = make_user(role="owner")
    now = utcnow()
    ages = {"old": 731, "other_old": 800, "recent": 729}
    for name, days in ages.items():
        who = other if name == "other_old" else owner
        audit.record("password.changed", who, actor=who).created_at = now - timedelta(days=days)
    operator = audit.record("password.reset_link_made", owner, label=audit.OPERATOR, org_id=org_id)
    operator.created_at = now - timedelta(days=1)
    db.session.commit()
    assert app.config["AUDIT_RETENTION_DAYS"] == 730
    assert purge_pass(app, redis_conn()) is True

    left = db.session.execute(sa.select(AuditEvent.org_id, AuditEvent.action, AuditEvent.created_at)
                              .order_by(AuditEvent.created_at)).all()
    assert [(o, a) for o, a, _ in left] == [(org_id, "password.changed"),
                                            (org_id, "password.reset_link_made")]
    assert now - left[0].created_at == timedelta(days=729)


def test_audit_retention_of_zero_keeps_every_event(app):
    owner = make_user(role="owner")
    audit.record("password.changed", owner, actor=owner).created_at = utcnow() - timedelta(days=5000)
    db.session.commit()
    app.config["AUDIT_RETENTION_DAYS"] = 0
    assert audit.expire(utcnow()) == 0
    assert db.session.execute(sa.select(sa.func.count(AuditEvent.id))).scalar_one() == 1
