"""The candidate's link, consent, chunked uploads and finalize: idempotent, ordered, checked."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from app.extensions import db
from app.models import Answer, AnswerChunk, utcnow
from app.states import AnswerStatus
from tests.factories import make_candidate, make_interview
from tests.helpers import chunk_name, split, stored_chunks, upload_answer


def _take(cc, token, question_id, content_type="video/webm"):
    resp = cc.post(f"/i/{token}/questions/{question_id}/takes", json={"content_type": content_type})
    return resp


def test_link_reaches_only_its_candidate(csrf_client, app):
    _cand_a, token_a = make_candidate()
    cand_b, token_b = make_candidate()
    csrf_client.refresh(f"/i/{token_a}")
    qid_b = cand_b.interview.questions[0].public_id
    resp = _take(csrf_client, token_a, qid_b)
    assert resp.status_code == 404 and "not part of your interview" in resp.get_json()["error"]
    # An answer id of another candidate is not reachable with this link either.
    answer_b = _take(csrf_client, token_b, qid_b).get_json()["answer_id"]
    resp = csrf_client.put(f"/i/{token_a}/answers/{answer_b}/chunks/0", data=b"x")
    assert resp.status_code == 404


def test_forged_and_expired_links_are_refused(client, app):
    assert client.get("/i/" + "A" * 43).status_code == 404
    assert client.get("/i/short").status_code == 404
    cand, token = make_candidate()
    cand.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    resp = client.get(f"/i/{token}")
    assert resp.status_code == 410 and "expired" in resp.get_data(as_text=True)


def test_recording_needs_consent(csrf_client, app):
    cand, token = make_candidate(consent=False)
    csrf_client.refresh(f"/i/{token}")
    resp = _take(csrf_client, token, cand.interview.questions[0].public_id)
    assert resp.status_code == 403
    assert csrf_client.get(f"/i/{token}/record").status_code == 302
    resp = csrf_client.post(f"/i/{token}/consent", data={})
    assert resp.status_code == 400
    resp = csrf_client.post(f"/i/{token}/consent", data={"consent": "yes"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/record")
    assert _take(csrf_client, token, cand.interview.questions[0].public_id).status_code == 201


def test_chunks_are_idempotent_ordered_and_assembled(csrf_client, app, media_dir):
    cand, token = make_candidate()
    csrf_client.refresh(f"/i/{token}")
    qid = cand.interview.questions[0].public_id
    data = media_dir["webm"].read_bytes()
    parts = split(data, 16 * 1024)
    answer_id = _take(csrf_client, token, qid).get_json()["answer_id"]
    base = f"/i/{token}/answers/{answer_id}"
    assert csrf_client.put(f"{base}/chunks/0", data=parts[0]).status_code == 200
    # A replay of chunk 0 is acknowledged again, and stored once.
    again = csrf_client.put(f"{base}/chunks/0", data=parts[0])
    assert again.status_code == 200 and again.get_json()["duplicate"] is True
    # Same number, other bytes: refused.
    assert csrf_client.put(f"{base}/chunks/0", data=b"other").status_code == 409
    # A gap: refused, naming the chunk expected.
    gap = csrf_client.put(f"{base}/chunks/2", data=parts[2])
    assert gap.status_code == 409 and "chunk 1 is expected" in gap.get_json()["error"]
    assert csrf_client.put(f"{base}/chunks/0", data=b"").status_code == 400
    for seq, part in enumerate(parts[1:], 1):
        assert csrf_client.put(f"{base}/chunks/{seq}", data=part).status_code == 200
    sha = hashlib.sha256(data).hexdigest()
    # Wrong count: refused, nothing marked uploaded.
    wrong = csrf_client.post(f"{base}/finalize", json={"chunks": len(parts) + 1, "sha256": sha})
    assert wrong.status_code == 409
    answer = db.session.execute(db.select(Answer).filter_by(public_id=answer_id)).scalar_one()
    assert answer.status == AnswerStatus.RECORDING and answer.original_key is None
    ok = csrf_client.post(f"{base}/finalize", json={"chunks": len(parts), "sha256": sha,
                                                    "duration_ms": 3100})
    assert ok.status_code == 200
    receipt = ok.get_json()
    assert receipt["bytes"] == len(data) and receipt["sha256"] == sha
    db.session.refresh(answer)
    assert answer.status == AnswerStatus.UPLOADED and answer.client_duration_ms == 3100
    # Joined by a job (tests/test_join.py), not in the request: the chunks are all still there.
    assert answer.original_key is None and answer.original_size == len(data)
    assert stored_chunks(answer_id) == {chunk_name(seq, part): part for seq, part in enumerate(parts)}
    assert db.session.execute(
        db.select(db.func.count()).select_from(AnswerChunk).filter_by(answer_id=answer.id)
    ).scalar_one() == len(parts)
    # Finalize replayed (a lost response): the same receipt, no second job.
    replay = csrf_client.post(f"{base}/finalize", json={"chunks": len(parts), "sha256": sha})
    assert replay.status_code == 200 and replay.get_json()["duplicate"] is True
    # Chunks after finalize are refused; replays of old ones still acknowledged.
    assert csrf_client.put(f"{base}/chunks/{len(parts)}", data=b"late").status_code == 409
    assert csrf_client.put(f"{base}/chunks/1", data=parts[1]).status_code == 200


def test_finalize_queues_the_join_job(csrf_client, app, media_dir):
    from rq import Queue

    from app.queue import redis_conn

    cand, token = make_candidate()
    csrf_client.refresh(f"/i/{token}")
    upload_answer(csrf_client, token, cand.interview.questions[0].public_id,
                  media_dir["webm"].read_bytes())
    answer = db.session.execute(db.select(Answer)).scalar_one()
    jobs = Queue("media", connection=redis_conn()).jobs
    assert [j.id for j in jobs] == [f"join-{answer.id}"]
    assert jobs[0].func_name == "jobs.join.run" and jobs[0].args == (answer.id,)


def test_a_chunk_that_differs_from_its_checksum_is_refused_and_not_stored(csrf_client, app):
    cand, token = make_candidate()
    csrf_client.refresh(f"/i/{token}")
    answer_id = _take(csrf_client, token, cand.interview.questions[0].public_id).get_json()["answer_id"]
    url = f"/i/{token}/answers/{answer_id}/chunks/0"
    damaged = csrf_client.put(url, data=b"recorded bytes", headers={
        "X-Chunk-SHA256": hashlib.sha256(b"recorded bytez").hexdigest()})
    assert damaged.status_code == 422 and "damaged" in damaged.get_json()["error"]
    answer = db.session.execute(db.select(Answer).filter_by(public_id=answer_id)).scalar_one()
    assert answer.chunk_count == 0 and stored_chunks(answer_id) == {}
    # Sent again as recorded: kept.
    ok = csrf_client.put(url, data=b"recorded bytes", headers={
        "X-Chunk-SHA256": hashlib.sha256(b"recorded bytes").hexdigest().upper()})
    assert ok.status_code == 200 and ok.get_json()["sha256"] == hashlib.sha256(b"recorded bytes").hexdigest()


def test_takes_are_limited_and_unfinished_takes_cost_nothing(csrf_client, app, media_dir):
    interview = make_interview(questions=1, takes=1)
    _cand, token = make_candidate(interview)
    csrf_client.refresh(f"/i/{token}")
    qid = interview.questions[0].public_id
    # A take cut off (never finalized) counts while it is open, and not once it is let go.
    cut = _take(csrf_client, token, qid)
    assert cut.status_code == 201
    assert _take(csrf_client, token, qid).status_code == 409
    abandon = f"/i/{token}/answers/{cut.get_json()['answer_id']}/abandon"
    assert csrf_client.post(abandon, json={}).status_code == 200
    upload_answer(csrf_client, token, qid, media_dir["webm"].read_bytes())
    resp = _take(csrf_client, token, qid)
    assert resp.status_code == 409 and "every take" in resp.get_json()["error"]


def test_unsupported_type_and_bad_finalize_body(csrf_client, app):
    cand, token = make_candidate()
    csrf_client.refresh(f"/i/{token}")
    qid = cand.interview.questions[0].public_id
    assert _take(csrf_client, token, qid, "application/pdf").status_code == 415
    answer_id = _take(csrf_client, token, qid).get_json()["answer_id"]
    resp = csrf_client.post(f"/i/{token}/answers/{answer_id}/finalize", json={"chunks": "x"})
    assert resp.status_code == 400
    resp = csrf_client.post(f"/i/{token}/answers/{answer_id}/finalize",
                            json={"chunks": 1, "sha256": "a" * 64})
    assert resp.status_code == 409


def test_finish_needs_every_answer(csrf_client, app, media_dir):
    cand, token = make_candidate(make_interview(questions=2))
    csrf_client.refresh(f"/i/{token}")
    resp = csrf_client.post(f"/i/{token}/finish")
    assert resp.status_code == 409 and "2 questions still need an answer" in resp.get_json()["error"]
    for q in cand.interview.questions:
        upload_answer(csrf_client, token, q.public_id, media_dir["webm"].read_bytes())
    resp = csrf_client.post(f"/i/{token}/finish", json={})
    assert resp.status_code == 200 and resp.get_json()["next"].endswith("/done")
    db.session.refresh(cand)
    assert cand.status == "completed"
    done = csrf_client.get(f"/i/{token}/done").get_data(as_text=True)
    assert done.count("data-receipt") == 2


def test_the_take_names_the_largest_chunk_and_chunks_of_any_size_up_to_it_are_kept(csrf_client, app):
    """The recorder joins the pieces made while a chunk is on its way (app/static/js/uploader.js),
    up to the limit the take names: chunks of one piece, of several, and of exactly the limit are
    kept in order; one byte more is refused clearly, and the take goes on."""
    limit = 64 * 1024
    app.config["MAX_CONTENT_LENGTH"], plain = limit, app.config["MAX_CONTENT_LENGTH"]
    try:
        cand, token = make_candidate()
        csrf_client.refresh(f"/i/{token}")
        resp = _take(csrf_client, token, cand.interview.questions[0].public_id)
        assert resp.status_code == 201 and resp.get_json()["max_chunk_bytes"] == limit
        base = f"/i/{token}/answers/{resp.get_json()['answer_id']}"
        piece = bytes(range(256)) * 40  # 10 kB, about a second of the recorder's audio and video
        chunks = [piece, piece * 3, piece * 2, (piece * 7)[:limit]]
        for seq, chunk in enumerate(chunks):
            assert csrf_client.put(f"{base}/chunks/{seq}", data=chunk).status_code == 200
        over = csrf_client.put(f"{base}/chunks/4", data=b"x" * (limit + 1))
        assert over.status_code == 413 and "larger than allowed" in over.get_json()["error"]
        assert csrf_client.put(f"{base}/chunks/4", data=piece).status_code == 200
        data = b"".join(chunks) + piece
        sha256 = hashlib.sha256(data).hexdigest()
        done = csrf_client.post(f"{base}/finalize", json={"chunks": 5, "sha256": sha256})
        assert done.status_code == 200 and done.get_json()["bytes"] == len(data)
    finally:
        app.config["MAX_CONTENT_LENGTH"] = plain


def _closing(chunks, sha256, duration_ms=None) -> dict:
    """The finalize as the recorder sends it with the last chunk (app/static/js/uploader.js)."""
    headers = {"X-Recording-Chunks": str(chunks), "X-Recording-SHA256": sha256}
    if duration_ms is not None:
        headers["X-Recording-Duration-Ms"] = str(duration_ms)
    return headers


def test_the_last_chunk_can_carry_the_finalize(csrf_client, app, media_dir):
    """The recorder sends the finalize with the last chunk (one request fewer when a room of
    candidates stops at once): the chunk is stored and the take kept as sent in one go, the
    receipt is the whole recording's, the join is queued, and a resend of that chunk (its
    answer lost on the way) gets the same receipt. A standalone finalize afterwards is a repeat."""
    from rq import Queue

    from app.queue import redis_conn

    cand, token = make_candidate()
    csrf_client.refresh(f"/i/{token}")
    data = media_dir["webm"].read_bytes()
    parts = split(data, 16 * 1024)
    answer_id = _take(csrf_client, token, cand.interview.questions[0].public_id).get_json()["answer_id"]
    base = f"/i/{token}/answers/{answer_id}"
    for seq, part in enumerate(parts[:-1]):
        resp = csrf_client.put(f"{base}/chunks/{seq}", data=part)
        assert resp.status_code == 200 and resp.get_json()["finalized"] is False
    sha = hashlib.sha256(data).hexdigest()
    last = len(parts) - 1
    resp = csrf_client.put(f"{base}/chunks/{last}", data=parts[-1],
                           headers={"X-Chunk-SHA256": hashlib.sha256(parts[-1]).hexdigest(),
                                    **_closing(len(parts), sha.upper(), 4200)})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == {"answer_id": answer_id, "bytes": len(data), "sha256": sha,
                               "chunks": len(parts), "duplicate": False, "finalized": True}
    answer = db.session.execute(db.select(Answer).filter_by(public_id=answer_id)).scalar_one()
    assert answer.status == AnswerStatus.UPLOADED and answer.uploaded_at is not None
    assert (answer.original_size, answer.original_sha256, answer.client_duration_ms) == (len(data), sha, 4200)
    assert (answer.chunk_count, answer.received_bytes) == (len(parts), len(data))
    assert db.session.execute(
        db.select(db.func.count()).select_from(AnswerChunk).filter_by(answer_id=answer.id)
    ).scalar_one() == len(parts)
    assert stored_chunks(answer_id) == {chunk_name(seq, part): part for seq, part in enumerate(parts)}
    assert f"join-{answer.id}" in [j.id for j in Queue("media", connection=redis_conn()).jobs]
    # The same chunk sent again (its answer was lost): the same whole receipt, nothing new.
    again = csrf_client.put(f"{base}/chunks/{last}", data=parts[-1], headers=_closing(len(parts), sha))
    assert again.status_code == 200
    assert again.get_json() | {"duplicate": False} == resp.get_json() and again.get_json()["duplicate"]
    other = csrf_client.put(f"{base}/chunks/{last}", data=parts[-1], headers=_closing(len(parts), "b" * 64))
    assert other.status_code == 409 and "different content" in other.get_json()["error"]
    # A finalize of its own, after (a page that did not see the receipt): a repeat.
    replay = csrf_client.post(f"{base}/finalize", json={"chunks": len(parts), "sha256": sha})
    assert replay.status_code == 200 and replay.get_json()["duplicate"] is True
    assert replay.get_json()["finalized"] is True
    # Without the finalize, the last chunk sent again is a chunk's receipt, as before.
    plain = csrf_client.put(f"{base}/chunks/{last}", data=parts[-1])
    assert plain.status_code == 200 and plain.get_json()["finalized"] is False


def test_a_finalize_on_a_chunk_that_cannot_be_the_last_is_refused_and_nothing_is_stored(csrf_client, app):
    cand, token = make_candidate()
    csrf_client.refresh(f"/i/{token}")
    answer_id = _take(csrf_client, token, cand.interview.questions[0].public_id).get_json()["answer_id"]
    base = f"/i/{token}/answers/{answer_id}"
    assert csrf_client.put(f"{base}/chunks/0", data=b"first").status_code == 200
    sha = hashlib.sha256(b"firstsecond").hexdigest()
    for headers, words in [
        (_closing(3, sha), "cannot finish a recording of 3 chunks"),  # chunk 1 of 3 is not the last
        (_closing(2, "not-a-checksum"), "SHA-256"),
        ({"X-Recording-SHA256": sha}, "whole numbers"),  # no count
        (_closing("two", sha), "whole numbers"),
        (_closing("1e999", sha), "whole numbers"),
        (_closing(2, sha, "soon"), "whole numbers"),
    ]:
        resp = csrf_client.put(f"{base}/chunks/1", data=b"second", headers=headers)
        assert resp.status_code == 400 and words in resp.get_json()["error"], (headers, resp.get_json())
    answer = db.session.execute(db.select(Answer).filter_by(public_id=answer_id)).scalar_one()
    assert (answer.status, answer.chunk_count) == (AnswerStatus.RECORDING, 1)
    assert stored_chunks(answer_id) == {chunk_name(0, b"first"): b"first"}
    # An empty duration is no duration: the server measures the recording itself.
    resp = csrf_client.put(f"{base}/chunks/1", data=b"second", headers=_closing(2, sha, ""))
    assert resp.status_code == 200 and resp.get_json()["finalized"] is True
    db.session.refresh(answer)
    assert answer.status == AnswerStatus.UPLOADED and answer.client_duration_ms is None


def test_a_last_chunk_whose_take_cannot_be_kept_is_stored_and_the_finalize_says_why(csrf_client, app):
    """The question's takes were cut while this one was recorded: its last chunk is still kept
    (nothing the candidate sent is lost) and its receipt is a chunk's, not the recording's, so
    the recorder sends the finalize on its own, which is refused with the reason."""
    interview = make_interview(questions=1, takes=2)
    _cand, token = make_candidate(interview)
    csrf_client.refresh(f"/i/{token}")
    question = interview.questions[0]
    upload_answer(csrf_client, token, question.public_id, b"the first take")
    answer_id = _take(csrf_client, token, question.public_id).get_json()["answer_id"]
    question.max_takes = 1  # staff allow one take from now on
    db.session.commit()
    base = f"/i/{token}/answers/{answer_id}"
    sha = hashlib.sha256(b"second take").hexdigest()
    resp = csrf_client.put(f"{base}/chunks/0", data=b"second take", headers=_closing(1, sha, 1000))
    assert resp.status_code == 200
    assert resp.get_json()["finalized"] is False and resp.get_json()["chunks"] == 1
    answer = db.session.execute(db.select(Answer).filter_by(public_id=answer_id)).scalar_one()
    assert (answer.status, answer.chunk_count) == (AnswerStatus.RECORDING, 1)
    assert stored_chunks(answer_id) == {chunk_name(0, b"second take"): b"second take"}
    refused = csrf_client.post(f"{base}/finalize", json={"chunks": 1, "sha256": sha})
    assert refused.status_code == 409 and "every take" in refused.get_json()["error"]
