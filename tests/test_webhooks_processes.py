"""Webhooks with real processes: `flask worker webhooks` delivers a change's event to a receiver on
127.0.0.1 within moments; a worker SIGKILLed while the receiver holds its call loses nothing: its
claim lapses and another worker sends the message again, with the same webhook-id."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from standardwebhooks.webhooks import Webhook

from app.extensions import db
from app.models import WebhookMessage
from app.services import webhook_endpoints
from tests import webhook_receiver
from tests.conftest import ROOT, worker_env
from tests.factories import make_candidate, make_interview, make_user

pytestmark = pytest.mark.processes


def _worker(env: dict, log_path) -> subprocess.Popen:
    with open(log_path, "ab") as log:
        command = [sys.executable, "-m", "flask", "--app", "app:create_app", "worker", "webhooks"]
        return subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)


def _until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _status(message_id: int) -> str:
    db.session.expire_all()
    return db.session.get(WebhookMessage, message_id).status


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_worker_killed_mid_delivery_loses_nothing(app, servers, databases, backend, tmp_path):
    receiver, server = webhook_receiver.start()
    receiver.delay = 60  # the first call is held: its worker dies meanwhile
    env = worker_env(servers, databases[0][backend]) | {
        "WEBHOOK_LEASE_SECONDS": "3", "WEBHOOK_PASS_SECONDS": "0.5", "RECONCILE_SECONDS": "3600"}
    owner = make_user(role="owner")
    endpoint = webhook_endpoints.create_endpoint(owner, receiver.url, ["candidate.invited"])
    first = _worker(env, tmp_path / "worker-1.log")
    try:
        make_candidate(make_interview(owner), owner, consent=False)  # committed: its job is queued
        message = db.session.execute(db.select(WebhookMessage)).scalar_one()
        _until(lambda: _status(message.id) == "sending", 60, "a worker's claim")
        time.sleep(0.5)  # the POST is with the receiver now
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        assert _status(message.id) == "sending"  # its claim stays behind, recorded
        receiver.delay = 0
        second = _worker(env, tmp_path / "worker-2.log")
        try:
            _until(lambda: _status(message.id) == "delivered", 60, "delivery by the second worker")
        finally:
            second.terminate()
            second.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
        server.shutdown()
    answered = [c for c in receiver.calls if c.headers["status"] == 200]
    assert {c.headers["webhook-id"] for c in answered} == {message.public_id}
    assert receiver.delivered_once() == [message.public_id]
    Webhook(endpoint.secret).verify(answered[-1].body, answered[-1].headers)
