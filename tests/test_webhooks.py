"""Webhooks: events written with the change (none for a rolled-back one), signed as Standard Webhooks
says and checked by the specification's own library, retried with backoff until delivered, a stable
webhook-id, rotation, redelivery, disabling after days of failure, and the SSRF guard."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from standardwebhooks.webhooks import Webhook

from app.extensions import db
from app.models import AuditEvent, Candidate, WebhookAttempt, WebhookMessage, utcnow
from app.services import ServiceError, lifecycle, webhook_delivery, webhook_endpoints
from app.states import AnswerStatus
from tests import webhook_receiver
from tests.factories import make_candidate, make_interview, make_ready_answer, make_user


@pytest.fixture
def receiver():
    receiver, server = webhook_receiver.start()
    yield receiver
    server.shutdown()


@pytest.fixture
def owner(app):
    return make_user(role="owner")


def _messages(event_type=None):
    query = db.select(WebhookMessage).order_by(WebhookMessage.id)
    if event_type:
        query = query.filter_by(event_type=event_type)
    return db.session.execute(query).scalars().all()


def test_events_are_signed_and_a_standard_webhooks_receiver_verifies_them(owner, receiver, run_jobs):
    endpoint = webhook_endpoints.create_endpoint(
        owner, receiver.url, ["candidate.invited", "candidate.started"]
    )
    candidate, _ = make_candidate(make_interview(owner), owner)  # invited, then consents: started
    run_jobs()
    assert [json.loads(c.body)["type"] for c in receiver.calls] == ["candidate.invited", "candidate.started"]
    for call in receiver.calls:
        payload = Webhook(endpoint.secret).verify(call.body, call.headers)
        assert payload["data"]["candidate_id"] == candidate.public_id
        assert payload["data"]["url"].endswith(f"/review/candidates/{candidate.public_id}")
        assert "Ada" not in call.body.decode() and "ada@" not in call.body.decode()
    with pytest.raises(Exception):  # noqa: B017 (the library's own verification error)
        Webhook(webhook_endpoints.new_secret()).verify(receiver.calls[0].body, receiver.calls[0].headers)
    assert {m.status for m in _messages()} == {"delivered"}


def test_a_rolled_back_change_sends_nothing(owner, receiver):
    webhook_endpoints.create_endpoint(owner, receiver.url, ["candidate.invited"])
    interview = make_interview(owner)
    db.session.add(Candidate(org_id=owner.org_id, interview_id=interview.id, name="N", email="n@example.com",
                             token_hash="x" * 64, expires_at=utcnow() + timedelta(days=1)))
    db.session.flush()
    assert len(_messages("candidate.invited")) == 1  # written in the change's own transaction
    db.session.rollback()
    assert _messages() == []


def test_failing_twice_then_succeeding_is_delivered_once_with_one_webhook_id(owner, receiver, run_jobs):
    receiver.script[:] = [500, 500]
    webhook_endpoints.create_endpoint(owner, receiver.url, ["decision.made"])
    candidate, _ = make_candidate(make_interview(owner), owner)
    from app.services import grading

    grading.decide(owner, candidate, "advance")
    run_jobs()
    message = _messages("decision.made")[0]
    first = db.session.execute(db.select(WebhookAttempt)).scalar_one()
    # Pending again, its next try a backoff after the failed one (the first of WEBHOOK_RETRY_SECONDS)
    assert message.status == "pending" and message.attempts == 1
    assert message.next_attempt_at - first.created_at >= timedelta(seconds=0.9)
    for hours in (1, 2):  # the workers' pass, once each retry is due
        webhook_delivery.send_due(utcnow() + timedelta(hours=hours))
        run_jobs()
    db.session.expire_all()
    assert [c.headers["status"] for c in receiver.calls] == [500, 500, 200]
    assert len({c.headers["webhook-id"] for c in receiver.calls}) == 1
    assert receiver.delivered_once() == [message.public_id]
    assert db.session.get(WebhookMessage, message.id).status == "delivered"
    attempts = db.session.execute(db.select(WebhookAttempt.status_code).order_by(WebhookAttempt.id)).scalars()
    assert list(attempts) == [500, 500, 200]


def test_answer_ready_from_the_pipelines_bulk_update_is_an_event(owner, receiver):
    webhook_endpoints.create_endpoint(owner, receiver.url, ["answer.ready", "answer.failed"])
    candidate, _ = make_candidate(make_interview(owner), owner)
    answer = make_ready_answer(candidate, candidate.interview.questions[0])
    answer.status = AnswerStatus.PROCESSING
    db.session.commit()
    assert lifecycle.move_answer_where(answer.id, AnswerStatus.PROCESSING, AnswerStatus.READY)
    db.session.commit()
    [message] = _messages("answer.ready")
    assert message.payload["data"]["answer_id"] == answer.public_id


def test_rotation_signs_with_both_secrets_for_a_while(owner, receiver, run_jobs):
    endpoint = webhook_endpoints.create_endpoint(owner, receiver.url, ["candidate.invited"])
    old = endpoint.secret
    webhook_endpoints.rotate_secret(owner, endpoint.public_id)
    make_candidate(make_interview(owner), owner, consent=False)
    run_jobs()
    call = receiver.calls[0]
    assert len(call.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(call.body, call.headers)
    Webhook(endpoint.secret).verify(call.body, call.headers)


def test_an_endpoint_failing_for_days_is_disabled_and_the_owners_told(owner, receiver, run_jobs, mailbox):
    receiver.script[:] = [503]
    other_owner = make_user(role="owner", org=owner.organisation, email="second.owner@example.com")
    make_user(role="recruiter", org=owner.organisation, email="recruiter@example.com")
    make_user(role="owner", email="elsewhere@example.com")  # another organisation's owner
    endpoint = webhook_endpoints.create_endpoint(owner, receiver.url, ["candidate.invited"])
    endpoint.failing_since = utcnow() - timedelta(days=6)
    db.session.commit()
    make_candidate(make_interview(owner), owner, consent=False)
    run_jobs()
    db.session.expire_all()
    assert not endpoint.active and "5 days" in endpoint.disabled_reason
    event = db.session.execute(db.select(AuditEvent).filter_by(action="webhook.disabled")).scalar_one()
    assert event.org_id == owner.org_id
    run_jobs()  # the owners' e-mails, queued when the endpoint was disabled
    told = {m["To"].addresses[0].addr_spec: m for m in mailbox.messages()}
    assert set(told) == {owner.email, other_owner.email}  # its organisation's owners, no one else
    text = told[owner.email].get_body(("plain",)).get_content()
    assert endpoint.url in text and "HTTP 503" in text and f"/team/webhooks/{endpoint.public_id}" in text
    make_candidate(make_interview(owner), owner, consent=False)
    assert len(_messages()) == 1  # a disabled endpoint gets nothing new


def test_redelivery_from_the_delivery_log(owner, receiver, run_jobs, login_as):
    endpoint = webhook_endpoints.create_endpoint(owner, receiver.url, ["candidate.invited"])
    make_candidate(make_interview(owner), owner, consent=False)
    run_jobs()
    message = _messages()[0]
    cc = login_as(owner)
    page = cc.get(f"/team/webhooks/{endpoint.public_id}").get_data(as_text=True)
    assert message.public_id in page and "delivered" in page
    cc.post(f"/team/webhooks/{endpoint.public_id}/messages/{message.public_id}/redeliver")
    run_jobs()
    assert [c.headers["webhook-id"] for c in receiver.calls] == [message.public_id] * 2
    assert receiver.delivered_once() == [message.public_id]


def test_ssrf_guard_refuses_private_addresses_unless_allowed(owner, other_app, receiver, run_jobs):
    strict = other_app(WEBHOOK_ALLOW_PRIVATE=False)
    with strict.app_context():
        for url in ("http://127.0.0.1/x", "https://127.0.0.1/x", "https://localhost/x", "https://10.1.2.3/x",
                    "https://[::1]/x", "https://169.254.169.254/latest", "ftp://example.com/",
                    "https://user:pw@example.com/"):
            with pytest.raises(ServiceError):
                webhook_endpoints.check_url(url)
    # Registered where it was allowed, then sent by an app where it is not: refused at delivery too.
    webhook_endpoints.create_endpoint(owner, receiver.url, ["candidate.invited"])
    make_candidate(make_interview(owner), owner, consent=False)
    import jobs

    jobs.use_app(strict)
    from jobs.webhooks import deliver

    deliver(_messages()[0].id)
    jobs.use_app(None)
    assert receiver.calls == []
    db.session.expire_all()
    assert "private" in _messages()[0].last_error


def test_only_owners_manage_webhooks(owner, login_as):
    reviewer = login_as(make_user(owner.organisation, role="reviewer"))
    assert reviewer.get("/team/webhooks").status_code == 403
    cc = login_as(owner)
    resp = cc.post("/team/webhooks", data={"url": "not a url", "events": ["candidate.invited"]})
    assert resp.status_code == 400
