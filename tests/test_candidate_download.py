"""A candidate downloads everything through a real gunicorn: the ZIP streams whole (`unzip -t`
passes) with their page, details, every take as received and the prepared media; then they ask for
deletion there, and at the end of the countdown (a clock the test controls) every object and row is
gone."""

from __future__ import annotations

import json
import subprocess
import zipfile
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import Candidate, SelfIdentification
from app.services import retention
from app.storage import current_storage
from tests.conftest import BACKENDS, worker_env
from tests.factories import make_candidate, make_interview, make_media_answer, make_user, mark_completed
from tests.server import Browser, gunicorn
from tests.test_retention import _keys, _rows

pytestmark = pytest.mark.processes

MEDIA_BYTES = 2 * 1024 * 1024 + 5


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_candidate_downloads_everything_then_deletion_erases_it_at_the_end(
        app, servers, databases, backend, tmp_path):
    owner = make_user(role="owner")
    iv = make_interview(owner, questions=2)
    cand, token = make_candidate(iv)
    media = bytes(range(256)) * (MEDIA_BYTES // 256) + b"end"
    store = current_storage()
    answers = []
    for q in iv.questions:
        a = make_media_answer(cand, q, data=media)
        a.original_key = f"answers/{a.public_id}/original.webm"
        a.original_size = len(media) + 1
        store.put_bytes(a.original_key, media + b"o", "video/webm")
        answers.append(a)
    iv.organisation.share_outcome = False
    mark_completed(cand)
    db.session.add(SelfIdentification(candidate_id=cand.id, sex="female", race="white"))
    db.session.commit()
    cand_id, public_id, answer_ids = cand.id, cand.public_id, [a.public_id for a in answers]
    db.session.remove()  # nothing of this test's session may reach the server

    with gunicorn(worker_env(servers, databases[0][backend]), tmp_path / "web.log") as web:
        browser = Browser(web.base)
        page = browser.open_page(f"/i/{token}/data")
        assert f"/i/{token}/export.zip" in page
        status, headers, body = browser.request("GET", f"/i/{token}/export.zip")
        assert status == 200 and headers["Content-Type"] == "application/zip", body[:300]
        deleted = browser.post_form(f"/i/{token}/deletion", {"confirm": "yes"})
        assert deleted[0] == 302
        log = web.log_text()
    assert "Traceback" not in log and "DetachedInstanceError" not in log, log[-3000:]
    path = tmp_path / "mine.zip"
    path.write_bytes(body)
    tested = subprocess.run(["unzip", "-t", str(path)], capture_output=True, text=True)
    assert tested.returncode == 0 and "No errors detected" in tested.stdout, tested.stdout + tested.stderr
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        for n in (1, 2):
            assert zf.read(f"question-{n:02d}/answer.mp4") == media
            assert zf.read(f"question-{n:02d}/take-1-as-received.webm") == media + b"o"
        details = json.loads(zf.read("your-details.json"))
        document = zf.read("your-data.html").decode()
    assert {"README.txt", "your-data.html", "question-01/transcript.txt"} <= names
    assert not any(n.startswith("outcome/") for n in names)  # the organisation does not share it
    assert details["email"] == "ada@example.com" and details["self_identification"]["Sex"] == "Female"
    assert "What we store about you" in document and "<form" not in document

    cand = db.session.get(Candidate, cand_id)
    due = cand.deletion_due_at
    assert due - cand.deletion_requested_at == timedelta(days=7)  # the default countdown
    assert retention.purge_expired(due - timedelta(seconds=1)) == []
    assert [p.candidate for p in retention.purge_expired(due)] == [public_id]
    assert not any(_rows(cand_id).values()), _rows(cand_id)
    for answer_id in answer_ids:
        assert _keys(app, f"answers/{answer_id}/") == []
    assert _keys(app, f"candidates/{public_id}/") == []
