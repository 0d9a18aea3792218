"""The outbox through a real SMTP server (aiosmtpd, tests/conftest.py): written with the change that
causes it, sent after commit, retried while the server is away, failed with the server's words on a
5xx, never sent twice, and nothing sent for a rolled-back change."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import Candidate, MailKind, OutboxMessage, utcnow
from app.services import interviews, outbox, recording
from app.states import MailStatus
from tests.factories import make_interview, make_user

LINK = re.compile(r"https?://\S+/i/([A-Za-z0-9_-]{43})")


def _invite(app, name="Ada Lovelace", email="ada@example.com", send=True):
    with app.test_request_context(base_url="http://oneway.example"):
        user = make_user()
        interview = make_interview(user)
        candidate, token = interviews.invite_candidate(user, interview, name, email, send_email=send)
    return candidate, token


def _rows(**where) -> list[OutboxMessage]:
    return list(db.session.execute(db.select(OutboxMessage).filter_by(**where)).scalars())


def test_an_invitation_is_an_outbox_row_sent_after_commit_as_text_and_html(app, mailbox, run_jobs):
    candidate, token = _invite(app)
    [row] = _rows(candidate_id=candidate.id)
    assert row.kind == MailKind.INVITATION and row.status == MailStatus.QUEUED
    assert token not in row.body_text and outbox.TOKEN_SLOT in row.body_text  # no working link stored
    assert mailbox.messages() == []  # nothing leaves before a worker sends it
    run_jobs()
    [msg] = mailbox.messages()
    assert msg["Message-ID"] == row.message_id and msg["To"] == "Ada Lovelace <ada@example.com>"
    assert msg["From"] == "Oneway Test <oneway@example.com>"
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert LINK.search(text).group(1) == token and f'href="http://oneway.example/i/{token}"' in html
    db.session.expire_all()
    row = db.session.get(OutboxMessage, row.id)
    assert row.status == MailStatus.SENT and row.sent_at is not None and row.attempts == 1
    assert db.session.get(Candidate, candidate.id).mail_status == "emailed"
    run_jobs()  # a second run finds nothing to send
    assert len(mailbox.messages()) == 1


def test_a_list_invited_in_one_statement_is_sent_by_the_jobs_queued_at_its_commit(app, mailbox, run_jobs):
    """Rows inserted by one statement (bulk invites) start their jobs at the commit, like add()'s:
    run_jobs runs only queued jobs, not the outreach pass that would pick up forgotten rows later."""
    from app.services import bulk_invites

    with app.test_request_context(base_url="http://oneway.example"):
        user = make_user()
        interview = make_interview(user)
        text = "\n".join(f"Person {i},person{i}@example.com" for i in range(3))
        assert bulk_invites.create(user, interview, text) == (3, 0)
    assert len(_rows(kind=MailKind.INVITATION)) == 3 and mailbox.messages() == []
    run_jobs()
    assert sorted(m["To"] for m in mailbox.messages()) == [
        f"Person {i} <person{i}@example.com>" for i in range(3)
    ]


def test_names_and_titles_cannot_inject_headers(app, mailbox, run_jobs):
    _invite(app, name="Eve\r\nBcc: victim@example.com\r\nX-Evil: 1")
    run_jobs()
    [msg] = mailbox.messages()
    assert msg["Bcc"] is None and msg["X-Evil"] is None
    assert "\n" not in msg["To"] and "victim@example.com" not in msg["To"].split("<")[-1]


def test_a_rolled_back_change_sends_nothing(app, mailbox, run_jobs):
    with app.test_request_context(base_url="http://oneway.example"):
        user = make_user()
        interview = make_interview(user)
        from app.services import outreach

        candidate, _ = outreach.new_candidate(interview, "Rolled Back", "rb@example.com")
        db.session.flush()
        outreach.queue_invitation(candidate)
        db.session.flush()
        db.session.rollback()
    run_jobs()
    assert _rows() == [] and mailbox.messages() == []


def test_a_permanent_refusal_fails_the_message_with_the_servers_reason(app, mailbox, run_jobs):
    candidate, _ = _invite(app, email="nobody@refused.example.com")
    run_jobs()
    db.session.expire_all()
    [row] = _rows(candidate_id=candidate.id)
    assert row.status == MailStatus.FAILED and "550" in row.last_error and "No such mailbox" in row.last_error
    assert db.session.get(Candidate, candidate.id).mail_status == "bounced"
    assert db.session.get(Candidate, candidate.id).outreach_status == "bounced"


def test_the_server_away_means_retry_later_and_then_exactly_once(app, mailbox, run_jobs):
    mailbox.stop()
    candidate, _ = _invite(app)
    run_jobs()
    db.session.expire_all()
    [row] = _rows(candidate_id=candidate.id)
    assert row.status == MailStatus.QUEUED and row.attempts == 1 and "reach" in row.last_error
    assert row.next_attempt_at is not None  # MAIL_RETRY_SECONDS (1 s in the tests) after the try
    mailbox.start()
    outbox.send_due(utcnow() + timedelta(seconds=5))  # the outreach pass, a little later
    run_jobs()
    db.session.expire_all()
    assert db.session.get(OutboxMessage, row.id).status == MailStatus.SENT
    assert len(mailbox.messages()) == 1


def test_a_claimed_message_is_never_claimed_again_until_its_claim_is_stale(app, mailbox):
    candidate, _ = _invite(app)
    [row] = _rows(candidate_id=candidate.id)
    assert outbox.claim(row.id) is not None
    assert outbox.claim(row.id) is None  # a second worker (or a re-run job) gets nothing
    assert outbox.recover_stale(utcnow()) == 0  # a live claim stays
    later = utcnow() + timedelta(seconds=app.config["MAIL_STALE_SECONDS"] + 1)
    assert outbox.recover_stale(later) == 1  # its worker died: it goes again, same Message-ID
    db.session.expire_all()
    again = db.session.get(OutboxMessage, row.id)
    assert again.status == MailStatus.QUEUED and again.message_id == row.message_id


def test_without_a_mail_server_nothing_is_written_and_the_link_is_still_given(app, other_app, mailbox):
    other = other_app(MAIL_SERVER="")
    with other.test_request_context(base_url="http://oneway.example"):
        user = make_user()
        interview = make_interview(user)
        _candidate, token = interviews.invite_candidate(user, interview, "No Mail", "nm@example.com")
        assert token and _rows() == []
        from app.services import ServiceError

        with pytest.raises(ServiceError, match="MAIL_SERVER"):
            interviews.invite_candidate(user, interview, "No Mail 2", "nm2@example.com", send_email=True)
        db.session.rollback()
        assert db.session.execute(db.select(Candidate).filter_by(email="nm2@example.com")).first() is None


def test_completing_the_interview_confirms_with_receipts(app, mailbox, run_jobs):
    from tests.factories import make_ready_answer

    candidate, _ = _invite(app, send=False)
    recording.give_consent(candidate)
    for q in candidate.interview.questions:
        make_ready_answer(candidate, q, original_size=1234, original_sha256="ab" * 32)
    with app.test_request_context(base_url="http://oneway.example"):
        recording.finish(db.session.get(Candidate, candidate.id))
    run_jobs()
    confirmations = [m for m in mailbox.messages() if m["To"].endswith("<ada@example.com>")]
    assert len(confirmations) == 1
    body = confirmations[0].get_body(("plain",)).get_content()
    assert "1234 bytes" in body and "ab" * 32 in body


def test_sending_is_rate_limited_per_organisation(app, mailbox, run_jobs):
    app.config["MAIL_RATE_PER_MINUTE"] = 2
    # The budget is per clock minute: start early in one, so the sends below all fall in it.
    if (second := utcnow().timestamp() % 60) > 30:
        time.sleep(60.5 - second)
    with app.test_request_context(base_url="http://oneway.example"):
        user = make_user()
        interview = make_interview(user)
        for i in range(3):
            interviews.invite_candidate(user, interview, f"P{i}", f"p{i}@example.com", send_email=True)
        other, _ = _invite(app, name="Other Org", email="other@example.com")  # its own budget
    minute = int(utcnow().timestamp() // 60)
    run_jobs()
    assert int(utcnow().timestamp() // 60) == minute, "the sends took more than 30 s"
    db.session.expire_all()
    rows = _rows(org_id=interview.org_id)
    assert sorted(r.status for r in rows) == [MailStatus.QUEUED, MailStatus.SENT, MailStatus.SENT]
    [waiting] = [r for r in rows if r.status == MailStatus.QUEUED]
    assert waiting.attempts == 0 and waiting.next_attempt_at > utcnow()  # the next minute, no try spent
    assert _rows(candidate_id=other.id)[0].status == MailStatus.SENT
    assert len(mailbox.messages()) == 3


def test_the_outreach_pass_runs_on_one_worker_at_a_time(app):
    from app.queue import redis_conn
    from jobs.worker import outreach_pass

    assert outreach_pass(app, redis_conn()) is True
    assert outreach_pass(app, redis_conn()) is False  # another worker's turn is still on


def test_a_digest_once_a_day_naming_no_one_to_reviewers_of_an_anonymised_interview(app, mailbox, run_jobs):
    from app.models import User
    from app.services import anonymity, notifications
    from tests.factories import make_candidate, mark_completed

    app.config["DIGEST_HOUR"] = 0
    owner = make_user()
    reviewer = make_user(org=owner.organisation, role="reviewer")
    interview = make_interview(owner)
    anonymity.set_mode(owner, interview, True, "video")
    candidate, _ = make_candidate(interview, owner)
    mark_completed(candidate)
    db.session.get(User, owner.id).notify = "off"
    db.session.commit()
    first = utcnow() + timedelta(seconds=1)
    later = first.replace(hour=23, minute=59, second=59)  # the same day, whenever the test runs
    with app.test_request_context(base_url="http://oneway.example"):
        assert notifications.add_digests(first) == 1  # the reviewer's only
        assert notifications.add_digests(later) == 0  # one a day
    run_jobs()
    [digest] = mailbox.messages()
    body = digest.get_body(("plain",)).get_content()
    assert reviewer.email in digest["To"] and "Candidate 1" in body and "Ada Lovelace" not in body
    assert f"http://oneway.example/review/candidates/{candidate.public_id}" in body


def test_a_team_invite_can_be_emailed_and_its_link_works_once(app, login_as, client, mailbox, run_jobs):
    owner = make_user()
    cc = login_as(owner)
    resp = cc.post("/team/invites", data={"email": "colleague@example.com", "role": "reviewer",
                                          "send_email": "on"})
    assert resp.status_code == 200
    [row] = _rows(kind="team_invite")
    assert outbox.TOKEN_SLOT in row.body_text  # the database holds no working link
    run_jobs()
    [msg] = mailbox.messages()
    assert msg["To"] == "colleague@example.com" and msg["Reply-To"] == owner.email
    token = re.search(r"/join/([A-Za-z0-9_-]{43})", msg.get_body(("plain",)).get_content()).group(1)
    assert token in resp.get_data(as_text=True)  # the same link the owner was shown
    assert client.get(f"/join/{token}").status_code == 200


def test_a_password_reset_link_can_be_emailed_to_the_member_and_works_once(app, login_as, client, mailbox,
                                                                            run_jobs):
    owner = make_user()
    member = make_user(org=owner.organisation, role="reviewer")
    cc = login_as(owner)
    resp = cc.post(f"/team/members/{member.public_id}/password-reset", data={"send_email": "on"})
    assert resp.status_code == 200
    run_jobs()
    [msg] = mailbox.messages()
    assert member.email in msg["To"]
    token = re.search(r"/reset/([A-Za-z0-9_-]{43})", msg.get_body(("plain",)).get_content()).group(1)
    assert token in resp.get_data(as_text=True) and client.get(f"/reset/{token}").status_code == 200
    # A newer link revokes it: a message still waiting would then not go at all.
    cc.post(f"/team/members/{member.public_id}/password-reset", data={})
    assert client.get(f"/reset/{token}").status_code in (404, 410)
