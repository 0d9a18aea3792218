"""What one invite link cannot do (issue 14, items 8 and 9): make the server read anything but the
recording it declared, record past its takes, its time or its bytes, or leave takes it abandoned
in storage."""

from __future__ import annotations

import hashlib
import subprocess
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Answer, AnswerChunk, utcnow
from app.states import AnswerStatus
from app.storage import answer_prefix, chunk_key, current_storage
from tests.factories import make_candidate, make_interview, mark_completed
from tests.helpers import upload_answer


def _answer(public_id: str) -> Answer:
    db.session.expire_all()
    return db.session.execute(db.select(Answer).filter_by(public_id=public_id)).scalar_one()


def _objects(app, prefix: str = "") -> set[str]:
    store = current_storage()
    return {o.object_name for o in store.client.list_objects(store.bucket, prefix=prefix,
                                                             recursive=True)}


@pytest.mark.parametrize("target", ["local media file", "system file"])
def test_hardening_an_hls_playlist_sent_as_webm_fails_and_reads_no_local_file(
        csrf_client, app, media_dir, run_jobs, tmp_path, target):
    """ffmpeg left to guess takes a text file that begins "#EXTM3U" for an HLS playlist and reads
    the files it names: a candidate could have any media file on the worker (or worse) turned
    into their answer. Read as the WebM the take declared, it is refused with a clear reason."""
    secret = tmp_path / "secret.ts"  # HLS's own kind of segment: read whole if it is named
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(media_dir["mp4"]), "-c", "copy", "-f", "mpegts",
                    str(secret)], check=True, timeout=60)
    entry = secret.as_uri() if target == "local media file" else "file:///etc/passwd"
    playlist = ("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n"
                f"#EXTINF:3.0,\n{entry}\n#EXT-X-ENDLIST\n").encode()
    cand, token = make_candidate(make_interview(questions=1))
    csrf_client.refresh(f"/i/{token}")
    before = _objects(app)
    receipt = upload_answer(csrf_client, token, cand.interview.questions[0].public_id, playlist,
                            content_type="video/webm;codecs=vp8,opus")
    run_jobs()
    answer = _answer(receipt["answer_id"])
    assert answer.status == AnswerStatus.FAILED
    assert "not a readable WebM file" in answer.failure_reason, answer.failure_reason
    assert (answer.mp4_key, answer.audio_key, answer.poster_key, answer.transcript) == (None,) * 4
    # Nothing was made from what the playlist names: the upload itself is all there is.
    assert _objects(app) - before == {answer.original_key}
    assert _objects(app, answer_prefix(answer.public_id)) == {answer.original_key}


def _chunk(answer_id: str, seq: int, data: bytes) -> str:
    """Where chunk `seq` of the answer, holding `data`, is stored."""
    return chunk_key(answer_id, seq, hashlib.sha256(data).hexdigest())


def _start(cc, token: str, question_id: str, content_type: str = "video/webm"):
    return cc.post(f"/i/{token}/questions/{question_id}/takes", json={"content_type": content_type})


def _put(cc, token: str, answer_id: str, seq: int, data: bytes):
    return cc.put(f"/i/{token}/answers/{answer_id}/chunks/{seq}", data=data)


def _finalize(cc, token: str, answer_id: str, data: bytes, chunks: int):
    return cc.post(f"/i/{token}/answers/{answer_id}/finalize",
                   json={"chunks": chunks, "sha256": hashlib.sha256(data).hexdigest()})


def _takes(candidate) -> list[tuple[str, str, int]]:
    db.session.expire_all()
    return [tuple(r) for r in db.session.execute(
        db.select(Answer.public_id, Answer.status, Answer.chunk_count)
        .filter_by(candidate_id=candidate.id).order_by(Answer.id)).all()]


def _chunk_rows(public_id: str) -> int:
    return db.session.execute(db.select(db.func.count(AnswerChunk.id)).join(Answer).filter(
        Answer.public_id == public_id)).scalar_one()


def test_hardening_a_take_starts_only_while_kept_and_open_takes_leave_one(csrf_client, app):
    """An open take counts against the question's takes from its start (its chunks take space
    already), and at most two takes of a question are open at once: one link can no longer
    open takes without end and upload them side by side."""
    one = make_interview(questions=1, takes=1)
    cand, token = make_candidate(one)
    csrf_client.refresh(f"/i/{token}")
    qid = one.questions[0].public_id
    assert _start(csrf_client, token, qid).status_code == 201
    resp = _start(csrf_client, token, qid)
    assert resp.status_code == 409, resp.get_json()
    assert "has not been sent completely" in resp.get_json()["error"]
    assert len(_takes(cand)) == 1

    three = make_interview(questions=1, takes=3)
    cand3, token3 = make_candidate(three)
    qid3 = three.questions[0].public_id
    assert [_start(csrf_client, token3, qid3).status_code for _ in range(3)] == [201, 201, 409]
    resp = _start(csrf_client, token3, qid3)
    assert "2 takes of this question are open" in resp.get_json()["error"]
    assert len(_takes(cand3)) == 2

    # A written answer stores nothing until it is sent: only the cap on open takes holds it.
    written = make_interview(questions=1, takes=1)
    written.questions[0].kind = "written"
    db.session.commit()
    cand_w, token_w = make_candidate(written)
    qid_w = written.questions[0].public_id
    starts = [_start(csrf_client, token_w, qid_w, "text/plain") for _ in range(3)]
    assert [r.status_code for r in starts] == [201, 201, 409]
    first, second = (r.get_json()["answer_id"] for r in starts[:2])
    sent = csrf_client.post(f"/i/{token_w}/answers/{first}/written", json={"text": "One answer."})
    assert sent.status_code == 200
    late = csrf_client.post(f"/i/{token_w}/answers/{second}/written", json={"text": "Another."})
    assert late.status_code == 409 and "every take" in late.get_json()["error"]
    assert [s for _, s, _ in _takes(cand_w)] == [AnswerStatus.READY, AnswerStatus.RECORDING]


def test_hardening_a_finalize_past_the_takes_is_409_and_keeps_the_take_as_it_was(csrf_client, app):
    """Two takes open at once (as two starts racing each other could leave them) cannot both be
    kept when the question allows one: the second finalize is refused, writes no original and
    leaves the take's chunks and status as they were."""
    interview = make_interview(questions=1, takes=2)
    cand, token = make_candidate(interview)
    csrf_client.refresh(f"/i/{token}")
    qid = interview.questions[0].public_id
    first, second = (_start(csrf_client, token, qid).get_json()["answer_id"] for _ in range(2))
    data = {a: b"\x1a\x45\xdf\xa3 take " + a.encode() for a in (first, second)}
    for answer_id in (first, second):
        assert _put(csrf_client, token, answer_id, 0, data[answer_id]).status_code == 200
    interview.questions[0].max_takes = 1
    db.session.commit()
    assert _finalize(csrf_client, token, first, data[first], 1).status_code == 200
    before = _objects(app, answer_prefix(second))
    resp = _finalize(csrf_client, token, second, data[second], 1)
    assert resp.status_code == 409 and "every take" in resp.get_json()["error"]
    assert _takes(cand) == [(first, AnswerStatus.UPLOADED, 1), (second, AnswerStatus.RECORDING, 1)]
    assert _objects(app, answer_prefix(second)) == before == {_chunk(second, 0, data[second])}
    assert _answer(second).original_key is None and _chunk_rows(second) == 1


def test_hardening_a_take_the_browser_dropped_is_let_go_and_costs_no_take(csrf_client, app):
    """A reload cuts a recording off; the browser drops it and says so, and the server lets it go
    at once (rows and objects), so the only take is there to record again."""
    interview = make_interview(questions=1, takes=1)
    cand, token = make_candidate(interview)
    csrf_client.refresh(f"/i/{token}")
    qid = interview.questions[0].public_id
    cut = _start(csrf_client, token, qid).get_json()["answer_id"]
    assert _put(csrf_client, token, cut, 0, b"\x1a\x45\xdf\xa3 cut off").status_code == 200
    resp = csrf_client.post(f"/i/{token}/answers/{cut}/abandon", json={})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert _takes(cand) == [] and _objects(app, answer_prefix(cut)) == set()
    assert csrf_client.post(f"/i/{token}/answers/{cut}/abandon", json={}).status_code == 404
    data = b"\x1a\x45\xdf\xa3 kept"
    kept = _start(csrf_client, token, qid).get_json()["answer_id"]
    assert _put(csrf_client, token, kept, 0, data).status_code == 200
    assert _finalize(csrf_client, token, kept, data, 1).status_code == 200
    resp = csrf_client.post(f"/i/{token}/answers/{kept}/abandon", json={})
    assert resp.status_code == 409 and "already finished" in resp.get_json()["error"]
    assert _takes(cand) == [(kept, AnswerStatus.UPLOADED, 1)]


def test_hardening_a_take_holds_no_more_bytes_than_its_time_allows(csrf_client, app):
    """The bytes of a take are capped by its allowed time (with extra time) at a generous
    bitrate; the chunk past it is refused with a 413 that says what to do, and the take, which
    can never be finished, is let go at once and costs no take."""
    app.config.update(MAX_ANSWER_BITRATE=8000, ANSWER_BYTES_ALLOWANCE=1000)  # 1 kB/s + 1 kB
    interview = make_interview(questions=1, takes=1, answer=5)  # 8 s with the grace: 9,000 bytes
    cand, token = make_candidate(interview)
    csrf_client.refresh(f"/i/{token}")
    qid = interview.questions[0].public_id
    big = _start(csrf_client, token, qid).get_json()["answer_id"]
    assert [_put(csrf_client, token, big, s, b"x" * 4000).status_code for s in (0, 1)] == [200, 200]
    resp = _put(csrf_client, token, big, 2, b"x" * 4000)
    assert resp.status_code == 413
    message = resp.get_json()["error"]
    assert "larger than allowed for a 5-second answer" in message and "record" in message
    assert _takes(cand) == [] and _objects(app, answer_prefix(big)) == set()
    assert _start(csrf_client, token, qid).status_code == 201  # it cost no take

    slow, slow_token = make_candidate(interview)  # twice the time: 13 s, 14,000 bytes
    slow.time_multiplier = 2.0
    db.session.commit()
    take = _start(csrf_client, slow_token, qid).get_json()["answer_id"]
    sizes = [_put(csrf_client, slow_token, take, s, b"x" * 4000).status_code for s in range(4)]
    assert sizes == [200, 200, 200, 413]

    app.config.update(MAX_ANSWER_BITRATE=16_000_000, MAX_ANSWER_BYTES=6000)  # never above it
    _capped, capped_token = make_candidate(interview)
    take = _start(csrf_client, capped_token, qid).get_json()["answer_id"]
    assert [_put(csrf_client, capped_token, take, s, b"x" * 4000).status_code
            for s in (0, 1)] == [200, 413]


def test_hardening_a_recording_longer_than_allowed_fails_before_it_is_converted(
        csrf_client, app, media_dir, run_jobs, tmp_path, monkeypatch):
    """A browser's WebM says nothing of its length in its header; the recording's real length
    (its last packet's time, read without decoding) is checked before the costly conversion."""
    from app.media import transcode as media

    live = tmp_path / "live.webm"  # as a browser writes it: no duration, no index
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(media_dir["long"]), "-c", "copy",
                    "-live", "1", "-f", "webm", str(live)], check=True, timeout=60)
    from app.media.probe import probe

    info = probe(live, container="matroska")
    assert info.duration_s is None
    converted = []
    for name in ("transcode", "transcode_from_parts", "encode_part"):
        monkeypatch.setattr(media, name, lambda *a, name=name, **kw: converted.append(name))
    app.config.update(EARLY_VIDEO_CHUNKS=0, EARLY_TRANSCRIBE_CHUNKS=0)
    cand, token = make_candidate(make_interview(questions=1, answer=5))  # 8 s with the grace
    csrf_client.refresh(f"/i/{token}")
    receipt = upload_answer(csrf_client, token, cand.interview.questions[0].public_id,
                            live.read_bytes(), duration_ms=5000)
    run_jobs()
    answer = _answer(receipt["answer_id"])
    assert answer.status == AnswerStatus.FAILED
    assert "more than the 8 s allowed" in answer.failure_reason, answer.failure_reason
    assert converted == [] and answer.mp4_key is None and answer.audio_key is None


def test_hardening_takes_nobody_can_finish_are_let_go_within_a_day_and_cost_no_take(csrf_client,
                                                                                   app):
    """The hourly pass lets go of takes that nothing reached for a day, and of takes whose
    candidate can send nothing more (finished; link expired past its grace): their chunks and
    rows go, and the take is free again. A take still within its day, and kept takes, stay."""
    from app.queue import redis_conn
    from jobs.worker import purge_pass

    def take(candidate, token, question, hours_silent: float) -> str:
        answer_id = _start(csrf_client, token, question.public_id).get_json()["answer_id"]
        assert _put(csrf_client, token, answer_id, 0, b"\x1a\x45\xdf\xa3 " + answer_id.encode()
                    ).status_code == 200
        db.session.execute(sa.update(Answer).where(Answer.public_id == answer_id).values(
            updated_at=utcnow() - timedelta(hours=hours_silent)))
        db.session.commit()
        return answer_id

    interview = make_interview(questions=2, takes=1)
    q1, q2 = interview.questions
    cand, token = make_candidate(interview)
    csrf_client.refresh(f"/i/{token}")
    silent = take(cand, token, q1, 24.5)
    recent = take(cand, token, q2, 23)
    finished, finished_token = make_candidate(interview)
    left_open = take(finished, finished_token, q1, 0)
    kept = upload_answer(csrf_client, finished_token, q2.public_id, b"\x1a\x45\xdf\xa3 kept")
    mark_completed(finished)
    expired, expired_token = make_candidate(interview)
    past_grace = take(expired, expired_token, q1, 1)
    expired.expires_at = utcnow() - timedelta(hours=app.config["EXPIRY_GRACE_HOURS"] + 1)
    db.session.commit()

    assert purge_pass(app, redis_conn()) is True
    gone, stay = [silent, left_open, past_grace], [recent, kept["answer_id"]]
    db.session.expire_all()
    found = set(db.session.execute(db.select(Answer.public_id)).scalars())
    assert found.isdisjoint(gone) and set(stay) <= found
    assert all(_objects(app, answer_prefix(a)) == set() for a in gone)
    assert _objects(app, answer_prefix(recent)) == {_chunk(recent, 0, b"\x1a\x45\xdf\xa3 " + recent.encode())}
    # No chunk row is left without its answer: only the open take's and the kept one's remain.
    assert db.session.execute(db.select(db.func.count(AnswerChunk.id))).scalar_one() == 2
    assert _chunk_rows(recent) == _chunk_rows(kept["answer_id"]) == 1
    resp = _start(csrf_client, token, q1.public_id)  # the take let go cost nothing
    assert resp.status_code == 201, resp.get_json()


def test_hardening_two_finalizes_racing_past_the_takes_keep_only_one(csrf_client, app):
    """Two tabs finalize a take each at the same moment, with one take left: both pass the early
    check, but under the candidate's lock only one is kept; the other is 409, with no original."""
    import re
    import threading

    import requests

    from tests.browser import live_server

    interview = make_interview(questions=1, takes=2)
    cand, token = make_candidate(interview)
    csrf_client.refresh(f"/i/{token}")
    qid = interview.questions[0].public_id
    takes = [_start(csrf_client, token, qid).get_json()["answer_id"] for _ in range(2)]
    data = {a: b"\x1a\x45\xdf\xa3" + a.encode() * 200_000 for a in takes}  # joining takes a while
    for answer_id in takes:
        assert _put(csrf_client, token, answer_id, 0, data[answer_id]).status_code == 200
    interview.questions[0].max_takes = 1
    db.session.commit()
    codes, start = {}, threading.Barrier(2)

    def finalize(base: str, answer_id: str) -> None:
        tab = requests.Session()
        page = tab.get(f"{base}/i/{token}/record", timeout=30).text
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        start.wait()
        codes[answer_id] = tab.post(
            f"{base}/i/{token}/answers/{answer_id}/finalize", headers={"X-CSRFToken": csrf},
            json={"chunks": 1, "sha256": hashlib.sha256(data[answer_id]).hexdigest()},
            timeout=60).status_code

    with live_server(app) as base:
        tabs = [threading.Thread(target=finalize, args=(base, a)) for a in takes]
        for tab in tabs:
            tab.start()
        for tab in tabs:
            tab.join(90)
    assert sorted(codes.values()) == [200, 409], codes
    refused = next(a for a, code in codes.items() if code == 409)
    assert sorted(s for _, s, _ in _takes(cand)) == [AnswerStatus.RECORDING, AnswerStatus.UPLOADED]
    assert _answer(refused).status == AnswerStatus.RECORDING and _answer(refused).original_key is None
    assert _objects(app, answer_prefix(refused)) == {_chunk(refused, 0, data[refused])}


def test_hardening_passes_queued_for_a_take_let_go_do_nothing(csrf_client, app, media_dir,
                                                              run_jobs):
    """The passes that chunks queued while the candidate recorded find their take let go: they
    end quietly, and write nothing where it was."""
    from rq import Queue
    from rq.registry import FailedJobRegistry

    from app.queue import QUEUES, redis_conn

    app.config.update(EARLY_VIDEO_CHUNKS=1, EARLY_TRANSCRIBE_CHUNKS=1, EARLY_GRACE_SECONDS=0.2)
    interview = make_interview(questions=1, takes=1)
    _cand, token = make_candidate(interview)
    csrf_client.refresh(f"/i/{token}")
    cut = _start(csrf_client, token, interview.questions[0].public_id).get_json()["answer_id"]
    data = media_dir["long"].read_bytes()
    for seq in range(2):
        assert _put(csrf_client, token, cut, seq, data[seq * 65536:(seq + 1) * 65536]).status_code == 200
    assert csrf_client.post(f"/i/{token}/answers/{cut}/abandon", json={}).status_code == 200
    run_jobs()
    conn = redis_conn()
    assert [FailedJobRegistry(queue=Queue(q, connection=conn)).count for q in QUEUES] == [0] * len(QUEUES)
    assert _objects(app, answer_prefix(cut)) == set()


@pytest.mark.slow
@pytest.mark.parametrize("content_type,make", [
    ("audio/ogg;codecs=opus", ["-c:a", "libopus", "-f", "ogg"]),  # the recorder's last resort
    ("audio/mp4", ["-c:a", "aac", "-f", "mp4"]),  # Safari's sound-only answer
])
def test_sound_only_answers_are_read_as_the_container_declared(csrf_client, app, media_dir, run_jobs,
                                                               tmp_path, content_type, make):
    """A guard for the forced containers: the kinds no other end-to-end test sends still become
    ready (Ogg read as -f ogg, an M4A as -f mov)."""
    sound = tmp_path / "answer"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(media_dir["speech"]), *make, str(sound)],
                   check=True, timeout=60)
    interview = make_interview(questions=1)
    interview.questions[0].kind = "audio"
    db.session.commit()
    _cand, token = make_candidate(interview)
    csrf_client.refresh(f"/i/{token}")
    receipt = upload_answer(csrf_client, token, interview.questions[0].public_id,
                            sound.read_bytes(), content_type=content_type)
    run_jobs()
    answer = _answer(receipt["answer_id"])
    assert answer.status == AnswerStatus.READY, answer.failure_reason
    assert answer.mp4_key.endswith(".m4a") and answer.transcript["text"]
