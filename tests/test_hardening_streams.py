"""Streamed downloads through a real gunicorn: a candidate's ZIP and an interview's scores CSV
come out whole. The test client keeps an app context open for the whole test and so hid that
the database session was gone when gunicorn resumed the stream (issue 14, item 2)."""

from __future__ import annotations

import csv
import io
import subprocess
import zipfile

import pytest

from app.extensions import db
from app.models import Interview
from tests.conftest import BACKENDS, worker_env
from tests.factories import (
    PASSWORD,
    make_candidate,
    make_interview,
    make_media_answer,
    make_scores,
    make_user,
)
from tests.server import Browser, gunicorn

pytestmark = pytest.mark.processes

# Big enough that the ZIP is many pieces, and the CSV is written in many pieces as well.
MEDIA_BYTES = 3 * 1024 * 1024 + 17
CANDIDATES = 60


def _download(servers, database_url: str, tmp_path, email: str, path: str):
    """Sign in as `email` on a real gunicorn and download `path` whole: (headers, body)."""
    with gunicorn(worker_env(servers, database_url), tmp_path / "web.log") as web:
        browser = Browser(web.base)
        browser.login(email, PASSWORD)
        status, headers, body = browser.request("GET", path)
        log = web.log_text()
    assert status == 200, (status, body[:300], log[-3000:])
    assert "Traceback" not in log and "DetachedInstanceError" not in log, log[-3000:]
    return headers, body


def _team(app):
    owner = make_user(role="owner")
    reviewer = make_user(org=owner.organisation, role="reviewer")
    return owner, reviewer


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_hardening_candidate_zip_streams_whole_through_gunicorn(app, servers, databases, backend, tmp_path):
    owner, reviewer = _team(app)
    interview = make_interview(owner, questions=3)
    cand, _ = make_candidate(interview, owner)
    media = bytes(range(256)) * (MEDIA_BYTES // 256) + b"tail"
    for q in interview.questions:
        make_media_answer(cand, q, data=media)
    make_scores(owner, cand, [4, 5, 3])
    make_scores(reviewer, cand, [2, 2, 2])
    public_id, email = cand.public_id, owner.email
    db.session.remove()  # nothing of this test's session may reach the server

    headers, body = _download(servers, databases[0][backend], tmp_path, email,
                              f"/review/candidates/{public_id}/export.zip")
    assert headers["Content-Type"] == "application/zip"
    path = tmp_path / "export.zip"
    path.write_bytes(body)
    tested = subprocess.run(["unzip", "-t", str(path)], capture_output=True, text=True)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "No errors detected" in tested.stdout
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        for n in (1, 2, 3):
            assert zf.read(f"question-{n:02d}/answer.mp4") == media
        rows = list(csv.DictReader(io.StringIO(zf.read("scores.csv").decode())))
    assert {"manifest.json", "scores.csv", "question-01/transcript.txt"} <= names
    assert len(rows) == 6 and {r["score"] for r in rows} == {"2", "3", "4", "5"}


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_hardening_scores_csv_streams_whole_through_gunicorn(app, servers, databases, backend, tmp_path):
    owner, reviewer = _team(app)
    interview = make_interview(owner, questions=2)
    for i in range(CANDIDATES):
        cand, _ = make_candidate(interview, owner)
        make_scores(owner, cand, [1 + i % 5, 5 - i % 5])
        if i % 2:
            make_scores(reviewer, cand, [3, 3])
    interview_id, email = db.session.get(Interview, interview.id).public_id, owner.email
    db.session.remove()

    _, body = _download(servers, databases[0][backend], tmp_path, email,
                        f"/interviews/{interview_id}/scores.csv")
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    # One row per candidate and submitted grader: every owner's review, every other reviewer's.
    assert len(rows) == CANDIDATES + CANDIDATES // 2
    assert len({r["candidate_id"] for r in rows}) == CANDIDATES
    assert all(r["q1"] and r["q2"] for r in rows)


def test_hardening_candidate_zip_follows_the_blind_rule(app, login_as, tmp_path):
    """Drafts are nobody's opinion yet: the ZIP holds submitted reviews' and guests' scores only,
    as the candidate's page does, and only for a viewer who may see them."""
    from app.services import scoring

    owner, reviewer = _team(app)
    recruiter = make_user(org=owner.organisation, role="recruiter")
    interview = make_interview(owner, questions=2)
    cand, _ = make_candidate(interview, owner)
    make_scores(reviewer, cand, [5, 4], submit="yes")
    q1 = interview.questions[0]
    drafting = make_user(org=owner.organisation, role="reviewer")
    scoring.save_score(drafting, cand, q1.public_id, "1", "=HYPERLINK(\"draft secret\")")
    url = f"/review/candidates/{cand.public_id}/export.zip"

    # The recruiter has neither graded nor chosen to see the scores: none of them go in.
    body = login_as(recruiter).get(url).get_data()
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        assert "scores.csv" not in zf.namelist() and "scores.txt" in zf.namelist()
        assert b"comment 5 by" not in b"".join(zf.read(n) for n in zf.namelist())

    make_scores(owner, cand, [3, 3], submit="no")
    body = login_as(owner).get(url).get_data()
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        everything = b"".join(zf.read(n) for n in zf.namelist())
        rows = list(csv.DictReader(io.StringIO(zf.read("scores.csv").decode())))
    assert b"draft secret" not in everything
    assert {r["grader"] for r in rows} == {owner.name, reviewer.name}
    assert {(r["grader"], r["question"], r["score"], r["recommendation"]) for r in rows} == {
        (owner.name, "1", "3", "no"), (owner.name, "2", "3", "no"),
        (reviewer.name, "1", "5", "yes"), (reviewer.name, "2", "4", "yes")}
