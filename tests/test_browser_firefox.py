"""A real Firefox (Debian's firefox-esr, headless, its own fake camera and microphone) records
answers through the candidate flow, and a real worker makes them ready: a VP8 WebM becomes an
H.264 MP4, re-encoded mostly while the candidate is still recording (jobs/early_video.py), and
its transcript has the words a private PulseAudio sink spoke into Firefox's microphone; a retake
replaces the take graders see; an audio-only answer (Opus in WebM) becomes an AAC M4A."""

from __future__ import annotations

import json
import re
import time
from contextlib import nullcontext

import pytest

from app.extensions import db
from app.media.probe import probe
from app.models import Answer, AnswerStageRun, Candidate
from app.services.scoring import question_items
from app.states import AnswerStatus
from app.storage import current_storage
from tests.bidi import FIREFOX, firefox
from tests.browser import live_server, rq_worker, wait_for
from tests.conftest import BACKENDS, worker_env
from tests.factories import make_candidate, make_interview, make_user
from tests.media import HEARD
from tests.pulse import PULSEAUDIO, speaking_microphone

pytestmark = [pytest.mark.browser, pytest.mark.processes, pytest.mark.skipif(
    FIREFOX is None, reason="Firefox is not installed (apt-get install firefox-esr)")]

ANSWER_SECONDS = 13  # the answer limit stops the recording: 13 or 14 one-second chunks
EVERY = 4  # chunks between early video passes: three of them while recording
TAKE_SECONDS = 3  # each take of the retaken video answer, stopped by hand
AUDIO_SECONDS = 5  # the audio-only answer, stopped by its limit


def _open_recorder(page, base: str, token: str) -> None:
    page.goto(f"{base}/i/{token}")
    page.click("I agree to be recorded")
    page.click("Agree and continue")
    page.wait_for("() => location.pathname.endsWith('/record')", what="the recorder page")


def _wait_for_receipt(page, timeout: float, what: str) -> None:
    try:
        page.wait_for("() => /Answer received/.test(document.getElementById('receipt').textContent)",
                      timeout=timeout, what=what)
    except AssertionError as exc:
        shown = page.evaluate("() => ['status', 'error'].map(id => document.getElementById(id).textContent)")
        raise AssertionError(f"{exc}; the page says {shown}") from None


@pytest.mark.parametrize("backend", [BACKENDS[-1]], indirect=True)
def test_firefox_answer_is_reencoded_while_recording_and_ends_ready(app, servers, databases,
                                                                   backend, media_dir, tmp_path):
    # Parts of a 13 s answer: the worker cuts them, and the web app queues a pass only once one
    # can be cut, so both are told.
    app.config.update(EARLY_VIDEO_CHUNKS=EVERY, EARLY_VIDEO_MIN_PART_SECONDS=2)
    owner = make_user(role="owner")
    interview = make_interview(owner, questions=1, think=30, answer=ANSWER_SECONDS, takes=1)
    candidate, token = make_candidate(interview, owner, consent=False)
    worker_log = tmp_path / "worker.log"
    env = worker_env(servers, databases[0][backend])
    env["EARLY_VIDEO_MIN_PART_SECONDS"] = "2"

    def ready():
        db.session.expire_all()
        answer = db.session.execute(db.select(Answer).filter_by(candidate_id=candidate.id)).scalar_one()
        assert answer.status != AnswerStatus.FAILED, answer.failure_reason
        return answer if answer.status == AnswerStatus.READY else None

    # Firefox's microphone speaks the sentence in a loop (its camera stays fake).
    microphone = (speaking_microphone(media_dir["speech"], tmp_path / "pulse") if PULSEAUDIO
                  else nullcontext(({}, {})))
    with live_server(app) as base, rq_worker(env, worker_log), microphone as (prefs, firefox_env):
        with firefox(tmp_path / "firefox.log", prefs=prefs, env=firefox_env) as page:
            _open_recorder(page, base, token)
            # The device check's test recording plays back from memory in Firefox too.
            page.click("Record a 3-second test")
            page.wait_for("""() => { const v = document.getElementById('playback');
                                     return !v.hidden && v.readyState >= 1; }""",
                          timeout=20, what="the test recording to play back")
            page.click("Continue to a practice question")
            page.click("Start the interview")
            page.click("Start recording now")
            _wait_for_receipt(page, ANSWER_SECONDS + 30, "the answer's receipt")
            page.click("Keep and finish the interview")
            page.wait_for("() => location.pathname.endsWith('/done')", what="the done page")
        answer = wait_for(ready, timeout=240, what="the Firefox answer to be ready")
    assert answer.content_type.startswith("video/webm;codecs=vp8"), answer.content_type
    assert answer.chunk_count >= 3 * EVERY

    mp4 = tmp_path / "answer.mp4"
    current_storage().download(answer.mp4_key, mp4)
    current_storage().download(answer.original_key, tmp_path / "original.webm")
    info = probe(mp4, container="mov")
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

    if PULSEAUDIO is None:
        pytest.skip("all but the transcript checked: Firefox heard its fake tone, not speech, "
                    "as pulseaudio is not installed (apt-get install pulseaudio)")
    assert any(k in answer.transcript_text.lower() for k in HEARD), answer.transcript


@pytest.mark.parametrize("backend", [BACKENDS[-1]], indirect=True)
def test_firefox_retake_replaces_the_graded_take_and_audio_only_answer_ends_ready(
        app, servers, databases, backend, tmp_path):
    owner = make_user(role="owner")
    interview = make_interview(owner, questions=2, think=30, answer=20, takes=2)
    sound = interview.questions[1]
    sound.kind, sound.think_seconds, sound.answer_seconds = "audio", 1, AUDIO_SECONDS
    db.session.commit()
    candidate, token = make_candidate(interview, owner, consent=False)
    worker_log = tmp_path / "worker.log"

    def record_by_hand(what: str) -> None:
        page.click("Start recording now")
        page.wait_for("() => !document.getElementById('btn-stop').hidden", what=f"{what}: recording")
        time.sleep(TAKE_SECONDS)
        page.click("Stop recording")
        _wait_for_receipt(page, 30, what)

    def settled():
        db.session.expire_all()
        answers = db.session.execute(db.select(Answer).filter_by(candidate_id=candidate.id)
                                     .order_by(Answer.id)).scalars().all()
        failed = [(a.take, a.failure_reason) for a in answers if a.status == AnswerStatus.FAILED]
        assert not failed, failed
        done = len(answers) == 3 and all(a.status == AnswerStatus.READY for a in answers)
        return done and db.session.get(Candidate, candidate.id).package_key and answers

    with live_server(app) as base, rq_worker(worker_env(servers, databases[0][backend]), worker_log):
        with firefox(tmp_path / "firefox.log") as page:
            _open_recorder(page, base, token)
            page.click("Continue to a practice question")  # no test recording, no practice
            page.click("Start the interview")
            record_by_hand("the first take's receipt")
            page.click("Record again (1 take left)")
            record_by_hand("the second take's receipt")
            assert page.evaluate("() => document.getElementById('btn-retake').hidden")  # none left
            page.click("Keep and go to the next question")
            page.wait_for("() => /sound only/.test(document.getElementById('progress').textContent)",
                          what="the audio-only question")
            # The think countdown starts the recording and the answer limit stops it.
            _wait_for_receipt(page, AUDIO_SECONDS + 30, "the audio-only answer's receipt")
            page.click("Keep and finish the interview")
            page.wait_for("() => location.pathname.endsWith('/done')", what="the done page")
        try:
            first, kept, spoken = wait_for(settled, timeout=240, what="three ready answers and the package")
        except AssertionError as exc:  # failed, or stuck: say where each take is
            db.session.expire_all()
            rows = db.session.execute(db.select(Answer.take, Answer.status, Answer.failure_reason)
                                      .filter_by(candidate_id=candidate.id)).all()
            raise AssertionError(f"{exc}; answers: {rows}; worker log:\n{worker_log.read_text()}") from None

    # Every take was processed; the second take of question 1 is the one graders see.
    assert [(a.question.position, a.take) for a in (first, kept, spoken)] == [(0, 1), (0, 2), (1, 1)]
    assert first.mp4_key != kept.mp4_key
    graded = question_items(owner, db.session.get(Candidate, candidate.id))
    assert [(i.answer.public_id, i.takes) for i in graded] == [(kept.public_id, 2), (spoken.public_id, 1)]
    manifest = json.loads(current_storage().get_bytes(db.session.get(Candidate, candidate.id).package_key))
    assert [i["answer"]["id"] for i in manifest["items"]] == [kept.public_id, spoken.public_id]

    for answer in (first, kept):
        assert answer.content_type.startswith("video/webm;codecs=vp8"), answer.content_type
        recorded = _check_media(answer, tmp_path / f"take{answer.take}.mp4", ("h264", "aac"))
        assert TAKE_SECONDS - 0.5 <= recorded <= TAKE_SECONDS + 2, recorded

    # Audio only: Firefox records Opus in WebM, and graders get AAC in an M4A, with no picture.
    assert spoken.content_type.startswith("audio/webm"), spoken.content_type
    original = tmp_path / "spoken.webm"
    current_storage().download(spoken.original_key, original)
    assert (probe(original, container="matroska").video_codec,
            probe(original, container="matroska").audio_codec) == (None, "opus")
    assert spoken.mp4_key.endswith(".m4a") and spoken.width is None and spoken.poster_key is None
    recorded = _check_media(spoken, tmp_path / "spoken.m4a", (None, "aac"))
    assert AUDIO_SECONDS - 0.5 <= recorded <= AUDIO_SECONDS + 1.5, recorded


def _check_media(answer: Answer, path, codecs: tuple) -> float:
    """Download the answer's review file, check its codecs and that it plays as long as the
    browser recorded; returns the seconds recorded."""
    current_storage().download(answer.mp4_key, path)
    info = probe(path, container="mov")
    assert (info.video_codec, info.audio_codec) == codecs, (answer.take, info)
    recorded = answer.client_duration_ms / 1000
    assert abs(info.duration_s - recorded) < 1.0, (answer.take, info.duration_s, recorded)
    return recorded
