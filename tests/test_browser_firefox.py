"""A real Firefox (Debian's firefox-esr, headless, its own fake camera and microphone) records
an answer through the candidate flow, and a real worker turns its VP8 WebM into a ready H.264
MP4, re-encoding most of it while the candidate is still recording (jobs/early_video.py)."""

from __future__ import annotations

import re

import pytest

from app import states
from app.extensions import db
from app.media.probe import probe
from app.models import Answer, AnswerStageRun
from app.services import storage
from tests.bidi import FIREFOX, firefox
from tests.browser import live_server, rq_worker, wait_for
from tests.conftest import BACKENDS, worker_env
from tests.factories import make_candidate, make_interview, make_user

pytestmark = pytest.mark.skipif(
    FIREFOX is None, reason="Firefox is not installed (apt-get install firefox-esr)")

ANSWER_SECONDS = 13  # the answer limit stops the recording: 13 or 14 one-second chunks
EVERY = 4  # chunks between early video passes: three of them while recording


@pytest.mark.parametrize("backend", [BACKENDS[-1]], indirect=True)
def test_firefox_answer_is_reencoded_while_recording_and_ends_ready(app, servers, databases,
                                                                   backend, tmp_path):
    app.config["EARLY_VIDEO_CHUNKS"] = EVERY
    owner = make_user(role="owner")
    interview = make_interview(owner, questions=1, think=30, answer=ANSWER_SECONDS, takes=1)
    candidate, token = make_candidate(interview, owner, consent=False)
    worker_log = tmp_path / "worker.log"
    env = worker_env(servers, databases[0][backend])
    env["EARLY_VIDEO_MIN_PART_SECONDS"] = "2"  # parts of a 13 s answer

    def ready():
        db.session.expire_all()
        answer = db.session.execute(db.select(Answer).filter_by(candidate_id=candidate.id)).scalar_one()
        assert answer.status != states.FAILED, answer.failure_reason
        return answer if answer.status == states.READY else None

    with live_server(app) as base, rq_worker(env, worker_log):
        with firefox(tmp_path / "firefox.log") as page:
            page.goto(f"{base}/i/{token}")
            page.click("I agree to be recorded")
            page.click("Agree and continue")
            page.wait_for("() => location.pathname.endsWith('/record')", what="the recorder page")
            # The device check's test recording plays back from memory in Firefox too.
            page.click("Record a 3-second test")
            page.wait_for("""() => { const v = document.getElementById('playback');
                                     return !v.hidden && v.readyState >= 1; }""",
                          timeout=20, what="the test recording to play back")
            page.click("Continue to a practice question")
            page.click("Start the interview")
            page.click("Start recording now")
            page.wait_for("() => /Answer received/.test(document.getElementById('receipt').textContent)",
                          timeout=ANSWER_SECONDS + 30, what="the answer's receipt")
            page.click("Keep and finish the interview")
            page.wait_for("() => location.pathname.endsWith('/done')", what="the done page")
        answer = wait_for(ready, timeout=240, what="the Firefox answer to be ready")
    assert answer.content_type.startswith("video/webm;codecs=vp8"), answer.content_type
    assert answer.chunk_count >= 3 * EVERY

    mp4 = tmp_path / "answer.mp4"
    storage().download(answer.mp4_key, mp4)
    storage().download(answer.original_key, tmp_path / "original.webm")
    info = probe(mp4)
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    recorded = answer.client_duration_ms / 1000
    assert ANSWER_SECONDS - 1 <= recorded <= ANSWER_SECONDS + 1.5, recorded
    assert abs(info.duration_s - recorded) < 1.0, (info.duration_s, recorded)

    # The passes made parts while Firefox recorded, and the final transcode joined them.
    log = worker_log.read_text()
    passes = re.findall(rf"early video of answer {answer.public_id} encoded up to ([\d.]+)s", log)
    assert len(passes) >= 2, log
    assert "cannot be used" not in log, log
    joined = db.session.execute(db.select(AnswerStageRun.stage).filter_by(
        answer_id=answer.id, stage="transcode_early")).scalars().all()
    assert joined == ["transcode_early"], log
