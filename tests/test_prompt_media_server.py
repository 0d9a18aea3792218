"""Prompt videos through a real gunicorn: an uploaded file larger than one chunk's limit
(MAX_CONTENT_LENGTH) is taken up to the prompt's own limit, a larger one is a clear 413, and a
candidate's player seeks in a prompt (206)."""

from __future__ import annotations

import re
import subprocess
import urllib.error
import uuid

import pytest

from app.extensions import db
from app.models import PromptMedia, new_public_id
from app.states import AnswerStatus
from app.storage import current_storage
from tests.browser import wait_for
from tests.conftest import BACKENDS, worker_env
from tests.factories import PASSWORD, make_candidate, make_interview, make_user
from tests.server import Browser, gunicorn

pytestmark = pytest.mark.processes

LIMIT = 40 * 1024 * 1024


def _noise_mp4(path) -> bytes:
    """A real video of about 20 MB: lossless noise, which nothing compresses."""
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "nullsrc=s=640x480:r=15,geq=random(1)*255:128:128", "-t", "3", "-c:v", "libx264",
                    "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv420p", str(path)],
                   check=True, timeout=120)
    return path.read_bytes()


def _multipart(token: str, data: bytes, name: str, kind: str) -> tuple[bytes, dict]:
    boundary = uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: {kind}\r\n\r\n").encode()
    body = head + data + f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


@pytest.mark.parametrize("backend", [BACKENDS[-1]], indirect=True)
def test_prompt_uploads_and_playback_through_gunicorn(app, servers, databases, backend, tmp_path):
    owner = make_user(role="owner")
    interview = make_interview(owner, questions=2)
    question, other = interview.questions
    _candidate, token = make_candidate(interview)
    ready = PromptMedia(public_id=new_public_id(), org_id=owner.org_id, interview_id=interview.id,
                        question_id=other.id, content_type="video/mp4", status=AnswerStatus.READY,
                        transcript={"text": "", "segments": []})
    put = current_storage().put_bytes(f"prompts/{ready.public_id}/prompt.mp4", bytes(range(256)) * 64,
                                      "video/mp4")
    ready.mp4_key, ready.mp4_size = put.key, put.size
    db.session.add(ready)
    db.session.commit()
    big = _noise_mp4(tmp_path / "noise.mp4")
    assert app.config["MAX_CONTENT_LENGTH"] < len(big) < LIMIT
    ids = (interview.public_id, question.public_id, owner.email, ready.public_id)
    db.session.remove()  # nothing of this test's session may reach the server

    env = {**worker_env(servers, databases[0][backend]), "PROMPT_MAX_BYTES": str(LIMIT)}
    iv, slot, email, ready_id = ids
    with gunicorn(env, tmp_path / "web.log") as web:
        browser = Browser(web.base)
        browser.login(email, PASSWORD)
        page = f"/interviews/{iv}/questions/{slot}/edit"
        browser.open_page(page)
        body, headers = _multipart(browser.token, big, "noise.mp4", "video/mp4")
        status, resp_headers, text = browser.request("POST", f"/interviews/{iv}/prompts/{slot}/upload", body,
                                                     headers)
        assert status == 302, (status, text[:500], web.log_text()[-2000:])
        browser.open_page(page)
        body, headers = _multipart(browser.token, b"\0" * (LIMIT + 1024 * 1024), "huge.mp4", "video/mp4")
        upload = f"/interviews/{iv}/prompts/{slot}/upload"
        try:
            status, _h, text = browser.request("POST", upload, body, headers)
            assert status == 413 and b"larger than allowed" in text, (status, text[:300])
        except urllib.error.URLError as exc:  # refused by its Content-Length, before the body was read:
            assert isinstance(exc.reason, ConnectionError), exc  # the client may still be sending it
        # Either way the server answered 413 (its access log says), at once.
        wait_for(lambda: re.search(r'"POST /interviews/\S+/upload HTTP/1.1" 413', web.log_text()), 10,
                 what="the 413 in the access log")
        status, resp_headers, part = Browser(web.base).request(
            "GET", f"/i/{token}/prompts/{ready_id}/video", headers={"Range": "bytes=100-199"})
        assert status == 206 and part == (bytes(range(256)) * 64)[100:200]
        assert resp_headers["Content-Range"] == f"bytes 100-199/{256 * 64}"
        log = web.log_text()
    assert "Traceback" not in log, log[-3000:]
    db.session.expire_all()
    uploaded = db.session.execute(
        db.select(PromptMedia).filter(PromptMedia.public_id != ready_id)).scalar_one()  # one, not two
    assert uploaded.original_size == len(big) and uploaded.status == AnswerStatus.UPLOADED
    assert current_storage().size(uploaded.original_key) == len(big)
