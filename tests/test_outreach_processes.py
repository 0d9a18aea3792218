"""E-mail as `make run` sends it, with real processes (tests/mailstack.py): the SMTP server away
during a bulk invite, then back: every invitation arrives, and none twice; a worker killed (SIGKILL)
in the middle of a send: the message goes again (same Message-ID) from another worker, once."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from tests.mailstack import mail_stack

pytestmark = pytest.mark.processes


def _statuses(stack) -> dict[str, int]:
    engine = sa.create_engine(stack.env["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            query = "SELECT status, count(*) FROM outbox_messages GROUP BY status"
            return dict(conn.execute(sa.text(query)).all())
    finally:
        engine.dispose()


def _until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_smtp_away_then_back_and_a_worker_killed_mid_send_deliver_each_once(tmp_path):
    with mail_stack(tmp_path) as stack:
        worker = stack.start_worker()
        # The SMTP server is away while 30 invitations are made and tried.
        stack.stop_smtp()
        status, _ms = stack.invite_list(30)
        assert status == 302
        _until(lambda: _statuses(stack).get("queued") == 30 and stack.received() == {} and
               "Could not reach" in (stack.folder / "worker-0.log").read_text(), 60, "failed first tries")
        stack.start_smtp()
        assert stack.wait_for(30, 90) is not None, _statuses(stack)
        # A worker killed while the server holds its connection (before the message is accepted).
        stack.stop_smtp()
        stack.start_smtp(hold_rcpt=30)
        stack.invite_list(10, domain="second.example.com")
        _until(lambda: _statuses(stack).get("sending"), 60, "a claimed message")
        stack.kill_worker(worker)
        assert _statuses(stack).get("sending") == 1  # its claim stays behind, recorded
        stack.stop_smtp()
        stack.start_smtp()
        stack.start_worker()  # its outreach pass finds the stale claim (MAIL_STALE_SECONDS=5)
        assert stack.wait_for(40, 120) is not None, _statuses(stack)
        time.sleep(3)  # anything sent twice would be here by now
        got = stack.received()
        assert len(got) == 40 and set(got.values()) == {1}, got
        assert _statuses(stack) == {"sent": 40}
