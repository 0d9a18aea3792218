"""The jobs for real: ffprobe, ffmpeg, OpenCV and WhisperX (tiny.en) on tiny media."""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import pytest

from app.extensions import db
from app.models import Answer, Candidate
from app.states import AnswerStatus
from app.storage import current_storage
from tests.factories import make_candidate, make_interview
from tests.helpers import upload_answer
from tests.media import KEYWORDS

pytestmark = pytest.mark.slow


def _ffprobe(path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_format",
                          "-show_streams", str(path)], capture_output=True, check=True, text=True)
    return json.loads(out.stdout)


def _answer(public_id: str) -> Answer:
    db.session.expire_all()
    return db.session.execute(db.select(Answer).filter_by(public_id=public_id)).scalar_one()


def test_webm_answer_becomes_ready_with_mp4_poster_transcript_and_package(
        csrf_client, app, media_dir, run_jobs, tmp_path):
    cand, token = make_candidate(make_interview(questions=1))
    csrf_client.refresh(f"/i/{token}")
    receipt = upload_answer(csrf_client, token, cand.interview.questions[0].public_id,
                            media_dir["webm"].read_bytes())
    assert csrf_client.post(f"/i/{token}/finish", json={}).status_code == 200
    run_jobs()
    answer = _answer(receipt["answer_id"])
    assert answer.status == AnswerStatus.READY, answer.failure_reason
    store = current_storage()
    mp4 = tmp_path / "a.mp4"
    store.download(answer.mp4_key, mp4)
    info = _ffprobe(mp4)
    codecs = {s["codec_type"]: s["codec_name"] for s in info["streams"]}
    assert codecs == {"video": "h264", "audio": "aac"}
    assert abs(float(info["format"]["duration"]) - answer.duration_s) < 0.1
    assert 2.0 < answer.duration_s < 6.0
    # +faststart: the moov atom comes before the media data.
    head = mp4.read_bytes()[:4096]
    assert head.find(b"moov") != -1 and (head.find(b"mdat") == -1 or head.find(b"moov") < head.find(b"mdat"))
    assert store.get_bytes(answer.poster_key)[:3] == b"\xff\xd8\xff"  # a JPEG
    text = answer.transcript["text"].lower()
    assert all(k in text for k in KEYWORDS), text
    words = [w for s in answer.transcript["segments"] for w in s["words"]]
    assert words and all(w["end"] >= w["start"] for w in words)
    vtt = store.get_bytes(answer.captions_key).decode()
    assert vtt.startswith("WEBVTT") and "-->" in vtt and "Python" in vtt
    assert set(answer.stage_seconds) == {"join", "transcode", "thumbnail", "transcribe"}
    # The candidate package lists the answer with its media and transcript.
    run_jobs()
    cand = db.session.get(Candidate, cand.id)
    manifest = json.loads(store.get_bytes(cand.package_key))
    assert manifest["schema_version"] == 1 and manifest["package_version"] == 1
    item = manifest["items"][0]["answer"]
    assert item["id"] == answer.public_id and item["media"]["key"] == answer.mp4_key
    assert "python" in item["transcript"]["text"].lower()


def test_safari_mp4_keeps_its_h264_video(csrf_client, app, media_dir, run_jobs):
    cand, token = make_candidate(make_interview(questions=1))
    csrf_client.refresh(f"/i/{token}")
    receipt = upload_answer(csrf_client, token, cand.interview.questions[0].public_id,
                            media_dir["mp4"].read_bytes(), content_type="video/mp4")
    run_jobs()
    answer = _answer(receipt["answer_id"])
    assert answer.status == AnswerStatus.READY, answer.failure_reason
    assert answer.original_key.endswith("original.mp4")


def test_an_iphone_held_upright_is_reviewed_upright(csrf_client, app, upright_phone, run_jobs,
                                                    tmp_path):
    """Safari on an iPhone held upright: landscape H.264 frames and a display matrix to
    portrait. The video is copied with its matrix (players turn it), the answer is 720x1280,
    the poster is upright and portrait, and the face in it is seen: no "no face" warning."""
    import cv2

    from app.media import quality

    cand, token = make_candidate(make_interview(questions=1))
    csrf_client.refresh(f"/i/{token}")
    receipt = upload_answer(csrf_client, token, cand.interview.questions[0].public_id,
                            upright_phone.read_bytes(), content_type="video/mp4")
    run_jobs()
    answer = _answer(receipt["answer_id"])
    assert answer.status == AnswerStatus.READY, answer.failure_reason
    assert (answer.width, answer.height) == (720, 1280)
    store = current_storage()
    mp4 = tmp_path / "a.mp4"
    store.download(answer.mp4_key, mp4)
    video = next(s for s in _ffprobe(mp4)["streams"] if s["codec_type"] == "video")
    assert (video["codec_name"], video["width"], video["height"]) == ("h264", 1280, 720)
    assert [d.get("rotation") for d in video.get("side_data_list", [])] == [-90]
    poster = tmp_path / "poster.jpg"
    poster.write_bytes(store.get_bytes(answer.poster_key))
    assert cv2.imread(str(poster)).shape[:2] == (1138, 640)  # portrait
    assert quality.NO_FACE not in answer.quality_video["flags"]
    assert any(k in answer.transcript["text"].lower() for k in KEYWORDS)


def test_a_text_file_named_webm_fails_with_a_reason(csrf_client, app, media_dir, run_jobs):
    cand, token = make_candidate(make_interview(questions=1))
    csrf_client.refresh(f"/i/{token}")
    receipt = upload_answer(csrf_client, token, cand.interview.questions[0].public_id,
                            media_dir["not_media"].read_bytes())
    run_jobs()
    answer = _answer(receipt["answer_id"])
    assert answer.status == AnswerStatus.FAILED
    assert "not a readable WebM file" in answer.failure_reason


def test_failed_answer_can_be_retried_from_the_grader_page(csrf_client, app, media_dir, run_jobs):
    from tests.factories import make_user

    owner = make_user()
    cand, token = make_candidate(make_interview(owner, questions=1))
    csrf_client.refresh(f"/i/{token}")
    receipt = upload_answer(csrf_client, token, cand.interview.questions[0].public_id,
                            media_dir["webm"].read_bytes())
    answer = _answer(receipt["answer_id"])
    answer.status = AnswerStatus.FAILED  # as if a worker had given up on it
    answer.failure_reason = "Transcode failed unexpectedly"
    db.session.commit()
    csrf_client.login(owner.email)
    page = csrf_client.get(f"/review/candidates/{cand.public_id}").get_data(as_text=True)
    assert "Transcode failed unexpectedly" in page
    resp = csrf_client.post(f"/review/answers/{answer.public_id}/retry", data={})
    assert resp.status_code == 302
    run_jobs()
    assert _answer(answer.public_id).status == AnswerStatus.READY


def test_candidate_zip_export_streams_media_captions_transcripts_and_scores(
        csrf_client, app, media_dir, run_jobs):
    import io
    import zipfile

    from app.services.grading import submit_review
    from app.services.scoring import save_score
    from tests.factories import make_user
    from tests.helpers import CsrfClient

    owner = make_user()
    cand, token = make_candidate(make_interview(owner, questions=2))
    csrf_client.refresh(f"/i/{token}")
    receipt = upload_answer(csrf_client, token, cand.interview.questions[0].public_id,
                            media_dir["webm"].read_bytes())
    run_jobs()
    grader = make_user(org=owner.organisation, role="reviewer")
    save_score(grader, cand, cand.interview.questions[0].public_id, "4", "Good, clear")
    save_score(grader, cand, cand.interview.questions[1].public_id, "3", "")
    submit_review(grader, cand, "yes", "")  # a draft would stay out of the ZIP
    colleague = make_user(org=owner.organisation, role="recruiter")
    blind = CsrfClient(app.test_client())
    blind.login(colleague.email)
    url = f"/review/candidates/{cand.public_id}/export.zip"
    hidden = zipfile.ZipFile(io.BytesIO(blind.get(url).get_data()))
    assert "scores.csv" not in hidden.namelist() and "hidden" in hidden.read("scores.txt").decode()
    from app.services.grading import reveal_without_grading

    reveal_without_grading(owner, cand)  # the owner chooses to see the scores without grading
    csrf_client.login(owner.email)
    resp = csrf_client.client.get(f"/review/candidates/{cand.public_id}/export.zip", buffered=False)
    assert resp.status_code == 200 and resp.is_streamed
    assert resp.headers["Content-Disposition"].endswith(f'oneway-{cand.public_id}.zip"')
    zf = zipfile.ZipFile(io.BytesIO(resp.get_data()))
    assert zf.testzip() is None
    names = set(zf.namelist())
    assert {"manifest.json", "scores.csv", "question-01/answer.mp4", "question-01/captions.vtt",
            "question-01/transcript.txt", "question-02/question.txt"} <= names
    answer = _answer(receipt["answer_id"])
    stored = current_storage().get_bytes(answer.mp4_key)
    assert zf.read("question-01/answer.mp4") == stored
    assert "python" in zf.read("question-01/transcript.txt").decode().lower()
    assert "Good, clear" in zf.read("scores.csv").decode()
    reviewer = CsrfClient(app.test_client())
    reviewer.login(grader.email)
    assert reviewer.get(f"/review/candidates/{cand.public_id}/export.zip").status_code == 403
    # Another organisation cannot download it.
    other = CsrfClient(app.test_client())
    other.login(make_user().email)
    assert other.get(f"/review/candidates/{cand.public_id}/export.zip").status_code == 404


def _finalized_and_processed(csrf_client, base: str, data: bytes, chunks: int, duration_ms: int,
                             run_jobs) -> Answer:
    """Finalize a take whose chunks are all sent, run every job, and return its ready answer."""
    import hashlib

    resp = csrf_client.post(f"{base}/finalize", json={
        "chunks": chunks, "sha256": hashlib.sha256(data).hexdigest(), "duration_ms": duration_ms})
    assert resp.status_code == 200
    run_jobs()
    answer = _answer(base.rsplit("/", 1)[-1])
    assert answer.status == AnswerStatus.READY, answer.failure_reason
    return answer


def test_transcription_starts_while_the_candidate_is_still_recording(
        csrf_client, app, media_dir, run_jobs):

    from jobs.early_state import EarlyTranscript
    from tests.helpers import split
    from tests.media import LONG_SENTENCES

    # Sequential decoding cuts at pauses (batched decoding settles whole windows: below).
    app.config.update(EARLY_TRANSCRIBE_CHUNKS=3, EARLY_GRACE_SECONDS=0.5, WHISPER_DECODING="sequential")
    cand, token = make_candidate(make_interview(questions=1))
    csrf_client.refresh(f"/i/{token}")
    qid = cand.interview.questions[0].public_id
    data = media_dir["long"].read_bytes()
    parts = split(data, len(data) // 12 + 1)  # about one chunk a second, as the recorder sends
    answer_id = csrf_client.post(f"/i/{token}/questions/{qid}/takes",
                                 json={"content_type": "video/webm"}).get_json()["answer_id"]
    base = f"/i/{token}/answers/{answer_id}"
    for seq, part in enumerate(parts[:9]):
        assert csrf_client.put(f"{base}/chunks/{seq}", data=part).status_code == 200
    run_jobs()  # the early jobs for chunks 0-2, 0-5 and 0-8 run while "recording" goes on
    store = current_storage()
    early = EarlyTranscript.load(store, answer_id)
    assert early is not None and early.until_s > 2.0, early
    assert "python" in " ".join(s["text"] for s in early.segments).lower()
    for seq, part in enumerate(parts[9:], 9):
        assert csrf_client.put(f"{base}/chunks/{seq}", data=part).status_code == 200
    answer = _finalized_and_processed(csrf_client, base, data, len(parts), 12000, run_jobs)
    t = answer.transcript
    assert "settled while recording" in t["method"]
    text = t["text"].lower()
    for needle in ("python", "experience", "testing"):  # from each of the three sentences
        assert needle in text, text
    starts = [s["start"] for s in t["segments"]]
    assert starts == sorted(starts) and t["segments"][-1]["end"] > 9.0
    assert len(LONG_SENTENCES) <= len(t["segments"]) + 1


@pytest.fixture(scope="module")
def longer_webm(media_dir):
    """A 50 s recording (the long answer's three sentences, four times over): longer than
    one 30 s window of speech."""
    out = media_dir["long"].with_name("longer.webm")
    if not out.exists():
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-stream_loop", "3", "-i", str(media_dir["long"]),
                        "-c", "copy", "-f", "webm", "-cluster_time_limit", "1000", str(out)],
                       check=True, capture_output=True, timeout=120)
    return out


def _settled_while_recording(csrf_client, app, webm: Path, run_jobs, tmp_path, seconds: int):
    """Record `webm` (`seconds` long) a chunk a second, a worker running each early pass as it is
    queued, and check which chunks queued one. Then finish it and check that the final
    transcript is the one a single pass over the whole recording gives, line for line.
    Returns the passes, (chunk number, seconds settled after it), and the final transcript."""
    from rq.job import Job

    from app.media.speech_models import resolve_model
    from app.media.transcribe import transcribe
    from app.queue import redis_conn
    from jobs.early_state import EarlyTranscript
    from jobs.transcribe import asr_settings
    from tests.helpers import split

    assert app.config["WHISPER_DECODING"] == "batched" and app.config["WHISPER_VAD"] == "silero"
    app.config.update(EARLY_GRACE_SECONDS=0.5)
    assert app.config["EARLY_TRANSCRIBE_CHUNKS"] == 1  # every chunk looks whether a pass is due
    cand, token = make_candidate(make_interview(questions=1, answer=seconds + 30))
    csrf_client.refresh(f"/i/{token}")
    qid = cand.interview.questions[0].public_id
    data = webm.read_bytes()
    parts = split(data, len(data) // seconds + 1)  # about one chunk a second
    answer_id = csrf_client.post(f"/i/{token}/questions/{qid}/takes",
                                 json={"content_type": "video/webm"}).get_json()["answer_id"]
    base = f"/i/{token}/answers/{answer_id}"
    store, passes, row = current_storage(), [], None
    for seq, part in enumerate(parts):
        assert csrf_client.put(f"{base}/chunks/{seq}", data=part).status_code == 200
        row = row or _answer(answer_id).id
        if Job.exists(f"early-{row}-{seq}", connection=redis_conn()):
            run_jobs()  # the pass runs while "recording" goes on
            passes.append((seq, EarlyTranscript.load(store, answer_id).until_s))
    # No pass was queued where none could settle a window: before the recording can have run
    # 30 s past the last settled one (at first, from its start). One that found the open window
    # still open was followed 4 chunks later (3 between); one that settled a window, not before
    # 30 s after its end.
    expected, until = [], 0.0
    seq = math.floor(until + 30)
    while seq < len(parts):
        expected.append(seq)
        now = dict(passes).get(seq, until)
        seq, until = (math.floor(now + 30), now) if now > until else (seq + 4, until)
    assert [seq for seq, _ in passes] == expected, passes
    early = EarlyTranscript.load(store, answer_id)
    assert early.windows and early.until_s == early.windows[-1]["end"], (passes, early)
    assert sum(w["segments"] for w in early.windows) == len(early.segments) > 0
    assert all(s["end"] <= early.until_s for s in early.segments)
    answer = _finalized_and_processed(csrf_client, base, data, len(parts), seconds * 1000, run_jobs)
    t = answer.transcript
    assert t["segments"][:len(early.segments)] == early.segments
    wav = tmp_path / "speech.wav"
    current_storage().download(answer.audio_key, wav)
    cfg = app.config
    whole = transcribe(wav, resolve_model(cfg["WHISPER_MODEL"], cfg["MODEL_CACHE_DIR"]),
                       language="en", **asr_settings(cfg)).to_dict()
    assert whole["method"] == "whisperx-batched-words"
    assert t["segments"] == whole["segments"] and t["text"] == whole["text"]
    return passes, t


def test_windows_settled_while_recording_give_the_whole_recordings_transcript(
        csrf_client, app, longer_webm, run_jobs, tmp_path):
    """With batched decoding the early passes decode only the voice-activity windows that no
    later audio can change; the final pass keeps them and decodes the rest, and the transcript
    is the one a single pass over the whole recording gives."""
    passes, t = _settled_while_recording(csrf_client, app, longer_webm, run_jobs, tmp_path, 50)
    # The first window closed at the pause after 30 s of speech: the pass at chunk 31 settled it,
    # and none came after it (the second could not close within 30 s of its end).
    [(seq, until)] = passes
    assert seq == 30 and 20 < until <= 30, passes
    assert t["method"] == "whisperx-batched-words, 1 of 2 windows settled while recording", t["method"]
    assert t["text"].lower().count("python") == 4, t["text"]


@pytest.fixture(scope="module")
def late_start_webm(media_dir, longer_webm):
    """The 50 s recording after 12 s of silence: a candidate who thinks before answering."""
    out = media_dir["long"].with_name("late-start.webm")
    if not out.exists():
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=15",
                        "-i", str(longer_webm), "-filter_complex", "[1:a]adelay=12000:all=1[a]",
                        "-map", "0:v", "-map", "[a]", "-t", "62", "-c:v", "libvpx", "-b:v", "200k",
                        "-deadline", "realtime", "-g", "15", "-c:a", "libopus", "-b:a", "48k",
                        "-f", "webm", "-cluster_time_limit", "1000", str(out)],
                       check=True, capture_output=True, timeout=120)
    return out


def test_a_window_still_open_is_looked_at_again_a_few_chunks_later(
        csrf_client, app, late_start_webm, run_jobs, tmp_path):
    """Speech that starts late opens its first window late: the pass at chunk 31 finds it still
    open, and the next passes come every 4 chunks until one settles it, soon after it closes
    (not up to 10 chunks later, when the candidate may be finishing)."""
    passes, t = _settled_while_recording(csrf_client, app, late_start_webm, run_jobs, tmp_path, 62)
    assert passes[0] == (30, 0.0), passes  # nothing settled yet
    settled = [seq for seq, until in passes if until > 0]
    assert settled and settled[0] >= 34, passes  # looked at again, and settled
    assert "settled while recording" in t["method"], t["method"]


def test_an_early_pass_queued_by_the_last_chunk_leaves_it_to_the_final_pass(
        csrf_client, app, media_dir, run_jobs):
    """The recorder finalizes right after its last chunk: an early pass queued by that chunk
    waits, within its grace, until it sees the answer finished and does nothing, so the final
    pass does the whole answer in one batch instead of a pass plus a leftover window."""
    import hashlib
    import threading

    import jobs.early
    from jobs.early_state import EarlyTranscript
    from tests.helpers import split

    # A grace far longer than the finalize takes: the pass must end when the finalize does,
    # not hold the worker (and this answer's final stages) for the whole of it.
    app.config.update(EARLY_TRANSCRIBE_CHUNKS=3, EARLY_GRACE_SECONDS=60.0)
    cand, token = make_candidate(make_interview(questions=1))
    csrf_client.refresh(f"/i/{token}")
    qid = cand.interview.questions[0].public_id
    data = media_dir["long"].read_bytes()
    parts = split(data, len(data) // 3 + 1)
    assert len(parts) == 3
    answer_id = csrf_client.post(f"/i/{token}/questions/{qid}/takes",
                                 json={"content_type": "video/webm"}).get_json()["answer_id"]
    base = f"/i/{token}/answers/{answer_id}"
    for seq, part in enumerate(parts):
        assert csrf_client.put(f"{base}/chunks/{seq}", data=part).status_code == 200
    # The pass the third chunk queued starts at once, as an idle worker would take it.
    early = threading.Thread(target=jobs.early.run, args=(_answer(answer_id).id, 2))
    early.start()
    resp = csrf_client.post(f"{base}/finalize", json={
        "chunks": 3, "sha256": hashlib.sha256(data).hexdigest(), "duration_ms": 12000})
    assert resp.status_code == 200
    early.join(30)
    assert not early.is_alive()
    assert EarlyTranscript.load(current_storage(), answer_id) is None
    run_jobs()  # the queued copy of that pass finds the answer finished too
    answer = _answer(answer_id)
    assert answer.status == AnswerStatus.READY, answer.failure_reason
    assert "settled while recording" not in answer.transcript["method"]
    assert "python" in answer.transcript["text"].lower()


def test_an_early_pass_does_not_wait_its_grace_once_a_later_chunk_has_come(
        csrf_client, app, media_dir, run_jobs):
    """The grace is for a chunk that may be the last: once the next one has arrived, the pass
    starts at once instead of holding the worker (and every job behind it) for the grace."""
    import threading

    import jobs.early
    from jobs.early_state import EarlyTranscript
    from tests.helpers import split

    app.config.update(EARLY_TRANSCRIBE_CHUNKS=3, EARLY_GRACE_SECONDS=60.0, WHISPER_DECODING="sequential")
    cand, token = make_candidate(make_interview(questions=1))
    csrf_client.refresh(f"/i/{token}")
    qid = cand.interview.questions[0].public_id
    data = media_dir["long"].read_bytes()
    parts = split(data, len(data) // 12 + 1)
    answer_id = csrf_client.post(f"/i/{token}/questions/{qid}/takes",
                                 json={"content_type": "video/webm"}).get_json()["answer_id"]
    base = f"/i/{token}/answers/{answer_id}"
    for seq, part in enumerate(parts[:10]):  # the pass queued by chunk 8, and chunk 9 after it
        assert csrf_client.put(f"{base}/chunks/{seq}", data=part).status_code == 200
    jobs.use_app(app)
    early = threading.Thread(target=jobs.early.run, args=(_answer(answer_id).id, 8))
    early.start()
    early.join(30)  # far less than the grace
    assert not early.is_alive()
    state = EarlyTranscript.load(current_storage(), answer_id)
    assert state is not None and state.upto_seq == 8 and state.until_s > 2.0, state


def test_chunks_that_arrive_while_a_pass_runs_queue_no_other(csrf_client, app, longer_webm, run_jobs):
    """A pass records where the next can start only when it is done: meanwhile the chunks would
    each queue one that finds nothing new (the one that is running covers them)."""
    import threading

    from rq.job import Job

    import jobs.early
    from app.queue import redis_conn
    from app.services import pipeline
    from tests.browser import wait_for
    from tests.helpers import split

    app.config.update(EARLY_GRACE_SECONDS=60.0)
    cand, token = make_candidate(make_interview(questions=1, answer=60))
    csrf_client.refresh(f"/i/{token}")
    qid = cand.interview.questions[0].public_id
    data = longer_webm.read_bytes()
    parts = split(data, len(data) // 50 + 1)
    answer_id = csrf_client.post(f"/i/{token}/questions/{qid}/takes",
                                 json={"content_type": "video/webm"}).get_json()["answer_id"]
    base = f"/i/{token}/answers/{answer_id}"
    for seq, part in enumerate(parts[:31]):
        assert csrf_client.put(f"{base}/chunks/{seq}", data=part).status_code == 200
    row = _answer(answer_id).id
    assert Job.exists(f"early-{row}-30", connection=redis_conn())  # the first that can settle
    jobs.use_app(app)
    running = threading.Thread(target=jobs.early.run, args=(row, 30))
    running.start()  # it waits (its grace) for the next chunk, then decodes
    key = f"{pipeline._NEXT_PASS_AFTER}early:{row}"
    wait_for(lambda: redis_conn().get(key) == b"34", timeout=30, interval=0.05,
             what="the pass to say where the next can start")
    for seq in (31, 32):
        assert csrf_client.put(f"{base}/chunks/{seq}", data=parts[seq]).status_code == 200
    running.join(60)
    assert not running.is_alive()
    assert not any(Job.exists(f"early-{row}-{seq}", connection=redis_conn()) for seq in (31, 32))


def test_the_poster_stage_on_another_machine_fetches_the_mp4(csrf_client, app, media_dir, run_jobs,
                                                             tmp_path, monkeypatch):
    """The transcode stage leaves its MP4 for the poster stage on the same machine; a poster
    stage elsewhere (here: the copy is gone) fetches it from storage instead."""
    import jobs.join
    import jobs.transcode
    from jobs import spool

    monkeypatch.setenv("ONEWAY_SPOOL_DIR", str(tmp_path / "spool"))
    cand, token = make_candidate(make_interview(questions=1))
    csrf_client.refresh(f"/i/{token}")
    receipt = upload_answer(csrf_client, token, cand.interview.questions[0].public_id,
                            media_dir["webm"].read_bytes())
    assert csrf_client.post(f"/i/{token}/finish", json={}).status_code == 200
    jobs.use_app(app)
    jobs.join.run(_answer(receipt["answer_id"]).id)
    jobs.transcode.run(_answer(receipt["answer_id"]).id)
    kept = list(spool.spool_dir().glob("*.kept"))
    assert [p.name for p in kept] == [f"{receipt['answer_id']}-answer.mp4.kept"]
    kept[0].unlink()
    run_jobs()
    answer = _answer(receipt["answer_id"])
    assert answer.status == AnswerStatus.READY, answer.failure_reason
    assert current_storage().get_bytes(answer.poster_key)[:3] == b"\xff\xd8\xff"
    assert answer.quality_video["samples"] >= 2


def _record(csrf_client, token, qid, data, parts, upto, content_type="video/webm", between=None):
    """Start a take and send its first `upto` chunks; returns (answer id, its URL base). With
    `between` (run_jobs), a worker runs what each chunk queued before the next one arrives, as a
    worker keeping up with a recording does (an answer has at most one early pass waiting)."""
    answer_id = csrf_client.post(f"/i/{token}/questions/{qid}/takes",
                                 json={"content_type": content_type}).get_json()["answer_id"]
    base = f"/i/{token}/answers/{answer_id}"
    for seq, part in enumerate(parts[:upto]):
        assert csrf_client.put(f"{base}/chunks/{seq}", data=part).status_code == 200
        if between:
            between()
    return answer_id, base


def _finish_recording(csrf_client, base, data, parts, since):
    import hashlib

    for seq, part in enumerate(parts[since:], since):
        assert csrf_client.put(f"{base}/chunks/{seq}", data=part).status_code == 200
    resp = csrf_client.post(f"{base}/finalize", json={
        "chunks": len(parts), "sha256": hashlib.sha256(data).hexdigest(), "duration_ms": 12000})
    assert resp.status_code == 200


def _vp8_recording_under_way(csrf_client, app, media_dir, tmp_path, monkeypatch, between=None):
    """A Firefox-like VP8 answer with 9 of its 12 chunks sent, a video pass looked for every 3.
    Its chunks hold more than a second each, and passes are queued by the count of chunks, so
    parts of 1 s are asked for: each pass then has a part to cut off."""
    from tests.helpers import split

    monkeypatch.setenv("ONEWAY_SPOOL_DIR", str(tmp_path / "spool"))
    app.config.update(EARLY_VIDEO_CHUNKS=3, EARLY_VIDEO_MIN_PART_SECONDS=1)
    cand, token = make_candidate(make_interview(questions=1))
    csrf_client.refresh(f"/i/{token}")
    data = media_dir["long"].read_bytes()
    parts = split(data, len(data) // 12 + 1)
    answer_id, base = _record(csrf_client, token, cand.interview.questions[0].public_id,
                              data, parts, 9, between=between)
    return answer_id, base, data, parts


def test_vp8_video_is_encoded_while_the_candidate_records(csrf_client, app, media_dir, run_jobs,
                                                          tmp_path, monkeypatch):
    """Firefox's VP8 must be encoded again: passes during the recording encode what has
    arrived, so only the end is left at the finish; the result is the whole encode's frames."""
    from app.media.probe import probe
    from app.media.transcode import transcode
    from jobs.early_state import EarlyVideo
    from tests.test_transcode import _packets

    answer_id, base, data, parts = _vp8_recording_under_way(csrf_client, app, media_dir,
                                                            tmp_path, monkeypatch)
    run_jobs()  # the passes queued by chunks 2, 5 and 8 run while the recording goes on
    store = current_storage()
    state = EarlyVideo.load(store, answer_id)
    assert state and state.source.codec == "vp8" and state.until_s >= 4.0, state
    assert [p.start_s for p in state.parts] == [0.0] + [p.end_s for p in state.parts[:-1]]
    # A keyframe a second: each part ends just before one, where the next starts decoding.
    assert all(p.end_key for p in state.parts), state.parts
    _finish_recording(csrf_client, base, data, parts, 9)
    run_jobs()
    answer = _answer(answer_id)
    assert answer.status == AnswerStatus.READY, answer.failure_reason
    assert answer.stage_seconds["transcode_early"] > 0
    # The parts were only a means: gone from storage once the MP4 holds them.
    assert EarlyVideo.load(store, answer_id) is None
    assert not any(store.exists(p.key) for p in state.parts)
    mp4 = tmp_path / "answer.mp4"
    mp4.write_bytes(store.get_bytes(answer.mp4_key))
    whole = transcode(media_dir["long"], tmp_path, probe(media_dir["long"], container="matroska"),
                      preset=app.config["X264_PRESET"], container="matroska")
    assert [t for t, _ in _packets(mp4, "video")] == [t for t, _ in _packets(whole.media_path, "video")]
    assert "python" in answer.transcript["text"].lower()


def _queued_video_passes(row_id: int) -> list[str]:
    from rq import Queue

    from app.queue import MEDIA_QUEUE, redis_conn

    return [j for j in Queue(MEDIA_QUEUE, connection=redis_conn()).job_ids
            if j.startswith(f"early-video-{row_id}-")]


def test_a_video_pass_is_queued_only_once_a_part_can_be_cut_off(
        csrf_client, app, media_dir, run_jobs, tmp_path, monkeypatch):
    """A pass encodes a part of at least EARLY_VIDEO_MIN_PART_SECONDS, leaving a second at the end
    of what has arrived: before the recording can hold that much after the last part (a chunk
    holds at least a second), a pass would fetch and read it only to find nothing to cut."""
    from jobs.early_state import EarlyVideo
    from tests.helpers import split

    monkeypatch.setenv("ONEWAY_SPOOL_DIR", str(tmp_path / "spool"))
    app.config.update(EARLY_VIDEO_CHUNKS=1, EARLY_VIDEO_MIN_PART_SECONDS=2)  # every chunk looks
    cand, token = make_candidate(make_interview(questions=1))
    csrf_client.refresh(f"/i/{token}")
    data = media_dir["long"].read_bytes()
    parts = split(data, len(data) // 12 + 1)
    answer_id, base = _record(csrf_client, token, cand.interview.questions[0].public_id, data, parts, 0)
    row_id = _answer(answer_id).id
    store = current_storage()
    due, expected, until = [], [], 0.0
    for seq, part in enumerate(parts[:10]):
        assert csrf_client.put(f"{base}/chunks/{seq}", data=part).status_code == 200
        due.append(_queued_video_passes(row_id) == [f"early-video-{row_id}-{seq}"])
        expected.append(seq + 1 > until + 2 + 1)  # a 2 s part and the second left at the end
        run_jobs()  # a worker keeping up with the recording
        state = EarlyVideo.load(store, answer_id)
        until = state.until_s if state else 0.0
    assert due == expected, (due, expected)
    assert until > 4, until  # the passes that were queued encoded parts...
    assert 1 < due.count(False) < len(due) - 1, due  # ...and the chunks between queued none


def test_a_lost_video_part_means_the_whole_video_is_encoded_at_the_end(
        csrf_client, app, media_dir, run_jobs, tmp_path, monkeypatch):
    from jobs.early_state import EarlyVideo

    answer_id, base, data, parts = _vp8_recording_under_way(csrf_client, app, media_dir,
                                                            tmp_path, monkeypatch)
    run_jobs()
    store = current_storage()
    state = EarlyVideo.load(store, answer_id)
    assert state and state.parts
    store.delete(state.parts[0].key)  # lost from storage, and the final stage runs
    for kept in (tmp_path / "spool").glob("*.kept"):  # on another machine
        kept.unlink()
    _finish_recording(csrf_client, base, data, parts, 9)
    run_jobs()
    answer = _answer(answer_id)
    assert answer.status == AnswerStatus.READY, answer.failure_reason
    assert "transcode_early" not in answer.stage_seconds
    assert answer.duration_s > 10 and answer.width == 320
    assert EarlyVideo.load(store, answer_id) is None


def test_h264_in_webm_needs_no_pass_while_recording(csrf_client, app, media_dir, run_jobs, tmp_path,
                                                    monkeypatch):
    """Chromium's H.264 is kept as it is. A recorder that does not say which codec it used gets
    one look at the recording, which says so, and no further work."""
    import subprocess

    from jobs.early_state import EarlyVideo
    from tests.helpers import split

    monkeypatch.setenv("ONEWAY_SPOOL_DIR", str(tmp_path / "spool"))
    app.config.update(EARLY_VIDEO_CHUNKS=3, EARLY_VIDEO_MIN_PART_SECONDS=2)
    src = tmp_path / "h264.webm"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(media_dir["long"]), "-c:v", "libx264",
                    "-preset", "ultrafast", "-c:a", "copy", "-f", "matroska", str(src)],
                   check=True, capture_output=True, timeout=120)
    cand, token = make_candidate(make_interview(questions=2))
    csrf_client.refresh(f"/i/{token}")
    data = src.read_bytes()
    parts = split(data, len(data) // 12 + 1)
    first, second = (q.public_id for q in cand.interview.questions)
    declared, _ = _record(csrf_client, token, first, data, parts, 9, "video/webm;codecs=h264,opus")
    run_jobs()
    store = current_storage()
    assert EarlyVideo.load(store, declared) is None  # never even queued
    undeclared, base = _record(csrf_client, token, second, data, parts, 9, "video/webm")
    run_jobs()
    state = EarlyVideo.load(store, undeclared)
    assert state.skip and not state.parts and state.upto_seq == -1
    _finish_recording(csrf_client, base, data, parts, 9)
    # The look said no pass is needed: the last chunks queued none.
    assert _queued_video_passes(_answer(undeclared).id) == []
    run_jobs()
    answer = _answer(undeclared)
    assert answer.status == AnswerStatus.READY, answer.failure_reason
    assert "transcode_early" not in answer.stage_seconds


def test_a_pass_over_a_recording_already_under_way_elsewhere_leaves_it_alone(
        csrf_client, app, media_dir, tmp_path, monkeypatch):
    """Two workers taking passes over one recording at once would encode the same span twice:
    the second leaves it to the next pass."""
    import jobs
    import jobs.early_video
    from jobs.early_state import EarlyVideo, one_pass_at_a_time

    answer_id, *_ = _vp8_recording_under_way(csrf_client, app, media_dir, tmp_path, monkeypatch)
    jobs.use_app(app)
    store = current_storage()
    row_id = _answer(answer_id).id
    with app.app_context(), one_pass_at_a_time("early-video", row_id) as mine:
        assert mine
        with one_pass_at_a_time("early-video", row_id) as also_mine:
            assert not also_mine
        jobs.early_video.run(row_id, 8)
        assert EarlyVideo.load(store, answer_id) is None
    jobs.early_video.run(row_id, 8)
    assert EarlyVideo.load(store, answer_id).upto_seq == 8


def test_the_final_transcode_waits_for_a_video_pass_still_running_and_uses_its_part(
        csrf_client, app, media_dir, run_jobs, tmp_path, monkeypatch):
    """The last chunks queue a pass that is still encoding when the candidate finishes: the
    final transcode waits for it rather than encoding that span again."""
    import threading

    import jobs
    import jobs.early_video
    import jobs.join
    import jobs.transcode
    from jobs.early_state import EarlyVideo, arrived_chunks, one_pass_at_a_time, recording_so_far

    answer_id, base, data, parts = _vp8_recording_under_way(csrf_client, app, media_dir,
                                                            tmp_path, monkeypatch)
    app.config.update(EARLY_VIDEO_CHUNKS=0)  # no more passes queued: this test runs the last one
    jobs.use_app(app)
    store = current_storage()
    row_id = _answer(answer_id).id
    for seq, part in enumerate(parts[9:], 9):
        assert csrf_client.put(f"{base}/chunks/{seq}", data=part).status_code == 200
    with app.app_context(), one_pass_at_a_time("early-video", row_id) as mine:
        assert mine  # a pass is under way (on another worker, say): it has fetched the chunks
        answer = _answer(answer_id)
        with recording_so_far(store, answer, arrived_chunks(answer, 11)):
            pass
        _finish_recording(csrf_client, base, data, parts, len(parts))  # the candidate finishes
        jobs.join.run(row_id)
        final = threading.Thread(target=jobs.transcode.run, args=(row_id,))
        final.start()
        final.join(1.5)
        assert final.is_alive()  # ... and the final transcode waits for it
        answer = _answer(answer_id)
        assert answer.mp4_key is None
        # The pass ends: it encodes the recording up to a second before its end.
        jobs.early_video._pass(answer, len(parts) - 1, store, app.config)
        state = EarlyVideo.load(store, answer_id)
        assert state.upto_seq == len(parts) - 1 and state.until_s >= 9.0, state
    final.join(60)
    assert not final.is_alive()
    answer = _answer(answer_id)
    assert answer.mp4_key and answer.stage_seconds["transcode_early"] > 0
    run_jobs()
    assert _answer(answer_id).status == AnswerStatus.READY


def test_passes_stop_for_a_recording_whose_keyframes_are_too_far_apart(
        csrf_client, app, run_jobs, tmp_path, monkeypatch):
    import jobs.early_video
    from jobs.early_state import EarlyVideo
    from tests.helpers import split
    from tests.test_transcode import _recording

    monkeypatch.setenv("ONEWAY_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setattr(jobs.early_video, "MAX_PREROLL_S", 3.0)  # 20 s needs a long recording
    app.config.update(EARLY_VIDEO_CHUNKS=3, EARLY_VIDEO_MIN_PART_SECONDS=2)
    data = _recording(tmp_path / "sparse.webm", seconds=10, keyframe_every=1000).read_bytes()
    parts = split(data, len(data) // 12 + 1)
    cand, token = make_candidate(make_interview(questions=1))
    csrf_client.refresh(f"/i/{token}")
    answer_id, base = _record(csrf_client, token, cand.interview.questions[0].public_id,
                              data, parts, 12, between=run_jobs)
    state = EarlyVideo.load(current_storage(), answer_id)
    assert "keyframes are more than 3 s apart" in state.skip, state
    _finish_recording(csrf_client, base, data, parts, len(parts))
    run_jobs()
    answer = _answer(answer_id)
    assert answer.status == AnswerStatus.READY, answer.failure_reason
    assert "transcode_early" not in answer.stage_seconds and answer.duration_s > 9


def test_a_final_transcode_on_another_machine_fetches_the_video_parts(
        csrf_client, app, media_dir, run_jobs, tmp_path, monkeypatch):
    """The passes keep their parts in this machine's spool too; a final transcode elsewhere
    (here: the spool is gone) fetches them from storage and still joins them."""
    from jobs.early_state import EarlyVideo

    answer_id, base, data, parts = _vp8_recording_under_way(csrf_client, app, media_dir,
                                                            tmp_path, monkeypatch, run_jobs)
    run_jobs()
    state = EarlyVideo.load(current_storage(), answer_id)
    assert len(state.parts) >= 2
    kept = list((tmp_path / "spool").glob("*-video-part-*.kept"))
    assert len(kept) == len(state.parts)
    for path in kept:
        path.unlink()
    _finish_recording(csrf_client, base, data, parts, 9)
    run_jobs()
    answer = _answer(answer_id)
    assert answer.status == AnswerStatus.READY, answer.failure_reason
    assert answer.stage_seconds["transcode_early"] > 0
