"""Prompt videos: a hiring manager records (chunk by chunk) or uploads a video of themselves asking a
question, or welcoming candidates; the real jobs make its MP4 and captions; candidates of that
interview, and staff who may see it, get it; bad files are refused at once with a clear 4xx, with
nothing stored; replacing or removing one removes its objects."""

from __future__ import annotations

import hashlib

import pytest
from flask import current_app

from app.extensions import db
from app.models import Candidate, Interview, PromptMedia
from app.services import authoring, interviews
from app.states import AnswerStatus
from app.storage import current_storage
from tests.factories import make_candidate, make_interview, make_media_answer, make_user
from tests.helpers import CsrfClient, split

JSON = {"Accept": "application/json"}  # as the page's scripts ask (app/static/js/api.js)


def _objects(prefix: str = "prompts/") -> set[str]:
    store = current_storage()
    return {o.object_name for o in store.client.list_objects(store.bucket, prefix=prefix, recursive=True)}


def _rows() -> list[PromptMedia]:
    db.session.expire_all()
    return list(db.session.execute(db.select(PromptMedia).order_by(PromptMedia.id)).scalars())


def _author(app, user) -> CsrfClient:
    cc = CsrfClient(app.test_client())
    cc.login(user.email)
    return cc


def _upload(cc: CsrfClient, iv, slot: str, data: bytes, name: str, mimetype: str):
    from io import BytesIO

    return cc.post(f"/interviews/{iv.public_id}/prompts/{slot}/upload",
                   data={"file": (BytesIO(data), name, mimetype)}, content_type="multipart/form-data")


def _record(cc: CsrfClient, iv, slot: str, data: bytes, content_type: str = "video/webm") -> str:
    """What the editing page's recorder does: open a recording, PUT its chunks, finalize."""
    resp = cc.post(f"/interviews/{iv.public_id}/prompts/{slot}/recordings",
                   json={"content_type": content_type})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    media_id = resp.get_json()["media_id"]
    # The most one chunk may carry: the recorder joins its pieces up to it.
    assert resp.get_json()["max_chunk_bytes"] == current_app.config["MAX_CONTENT_LENGTH"]
    base = f"/interviews/{iv.public_id}/prompt-media/{media_id}"
    chunks = split(data, 64 * 1024)
    for seq, chunk in enumerate(chunks):
        assert cc.put(f"{base}/chunks/{seq}", data=chunk).status_code == 200
    resp = cc.post(f"{base}/finalize",
                   json={"chunks": len(chunks), "sha256": hashlib.sha256(data).hexdigest()})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return media_id


@pytest.fixture
def setup(app):
    current_storage().delete(*_objects())  # the bucket outlives each test: start with no prompts in it
    owner = make_user(role="owner")
    iv = make_interview(owner, questions=2, think=5)
    return owner, iv, _author(app, owner)


def test_a_recorded_prompt_is_processed_and_played_to_that_interviews_candidates(app, setup, media_dir,
                                                                                 run_jobs):
    owner, iv, cc = setup
    question = iv.questions[0]
    media_id = _record(cc, iv, question.public_id, media_dir["webm"].read_bytes())
    media = _rows()[0]
    assert media.status == AnswerStatus.UPLOADED and media.org_id == owner.org_id
    assert _objects() == {f"prompts/{media_id}/original.webm"}  # the chunks went once joined
    run_jobs()
    media = _rows()[0]
    assert media.status == AnswerStatus.READY, media.failure_reason
    assert {"python", "language"} & set(media.transcript["text"].lower().replace(".", "").split())
    assert f"prompts/{media_id}/prompt.mp4" in _objects() and media.poster_key and media.captions_key

    _candidate, token = make_candidate(iv)
    client = app.test_client()
    state = client.get(f"/i/{token}/state").get_json()
    assert state["questions"][0]["video"] == {"id": media_id, "picture": True, "lang": "en"}
    assert state["questions"][1]["video"] is None  # text prompts stay the default
    whole = client.get(f"/i/{token}/prompts/{media_id}/video")
    assert whole.status_code == 200 and whole.mimetype == "video/mp4" and len(whole.data) == media.mp4_size
    part = client.get(f"/i/{token}/prompts/{media_id}/video", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.data) == 100
    vtt = client.get(f"/i/{token}/prompts/{media_id}/captions.vtt")
    assert vtt.status_code == 200 and vtt.data.startswith(b"WEBVTT") and b"-->" in vtt.data
    record = client.get(f"/i/{token}/record").get_data(as_text=True)
    assert 'id="prompt-video"' in record and "Skip to the thinking time" in record
    # The interview's page marks the question asked on video.
    show = cc.get(f"/interviews/{iv.public_id}").get_data(as_text=True)
    assert show.count('data-prompt-video="ready"') == 1

    # Another interview's candidate, of the same organisation, gets nothing of it.
    _other, other_token = make_candidate(make_interview(owner, questions=1))
    assert client.get(f"/i/{other_token}/prompts/{media_id}/video").status_code == 404
    assert client.get(f"/i/{other_token}/prompts/{media_id}/captions.vtt").status_code == 404
    # Staff who may see the interview play it; another organisation's owner finds nothing.
    assert cc.get(f"/interviews/{iv.public_id}/prompt-media/{media_id}/video").status_code == 200
    stranger = _author(app, make_user(role="owner"))
    assert stranger.get(f"/interviews/{iv.public_id}/prompt-media/{media_id}/video").status_code == 404
    other_iv = make_interview(stranger_user := make_user(role="owner"), questions=1)
    theirs = _author(app, stranger_user)
    assert theirs.get(f"/interviews/{other_iv.public_id}/prompt-media/{media_id}/video").status_code == 404


def test_a_candidate_gets_only_the_prompt_of_the_pool_question_they_drew(app, setup):
    owner, iv, _cc = setup
    for q in iv.questions:
        limits = {"think_seconds": "5", "answer_seconds": "30", "max_takes": "2"}
        authoring.edit_question(owner, iv, q.public_id, {"prompt": q.prompt, "pool": "A", **limits})
    ids = {}
    for q in iv.questions:
        media = PromptMedia(org_id=iv.org_id, interview_id=iv.id, question_id=q.id, content_type="video/webm",
                            status=AnswerStatus.READY, mp4_key=f"prompts/x{q.id}/answer.mp4", mp4_size=4,
                            transcript={"text": "", "segments": []})
        db.session.add(media)
        db.session.commit()
        current_storage().put_bytes(media.mp4_key, b"mp4!", "video/mp4")
        ids[q.id] = media.public_id
    candidate, token = make_candidate(iv)
    drawn = db.session.get(Candidate, candidate.id).questions[0]
    client = app.test_client()
    assert client.get(f"/i/{token}/prompts/{ids[drawn.id]}/video").status_code == 200
    other = next(q for q in iv.questions if q.id != drawn.id)
    assert client.get(f"/i/{token}/prompts/{ids[other.id]}/video").status_code == 404


def test_a_welcome_video_is_on_the_landing_page_with_captions(app, setup, media_dir, run_jobs):
    _owner, iv, cc = setup
    resp = _upload(cc, iv, "welcome", media_dir["mp4"].read_bytes(), "hello.mp4", "video/mp4")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    run_jobs()
    media = _rows()[0]
    assert media.status == AnswerStatus.READY and media.question_id is None, media.failure_reason
    _cand, token = make_candidate(iv, consent=False)
    page = app.test_client().get(f"/i/{token}").get_data(as_text=True)
    assert f"/i/{token}/prompts/{media.public_id}/video" in page
    assert '<track kind="captions" default' in page and "captions.vtt" in page
    # The editing page shows it too, with what its captions read.
    edit = cc.get(f"/interviews/{iv.public_id}/edit").get_data(as_text=True)
    assert 'data-prompt-status="ready"' in edit and "data-prompt-transcript" in edit


@pytest.mark.parametrize("data,name,mimetype,status,said", [
    (b"just some words\n" * 40, "notes.txt", "text/plain", 415, "cannot be a question"),
    (b"\x00\x01not a video at all" * 100, "question.mp4", "video/mp4", 422, "cannot be used"),
    (b"", "empty.webm", "video/webm", 422, "empty"),
])
def test_a_bad_upload_is_refused_at_once_and_nothing_is_stored(app, setup, data, name, mimetype, status,
                                                               said):
    _owner, iv, cc = setup
    resp = _upload(cc, iv, iv.questions[0].public_id, data, name, mimetype)
    assert resp.status_code == status
    text = resp.get_data(as_text=True)
    assert said in text and 'aria-invalid="true"' in text  # beside the file field, on the page again
    assert _rows() == [] and _objects() == set()


def test_a_text_file_named_as_a_video_is_refused(app, setup, media_dir):
    _owner, iv, cc = setup
    resp = _upload(cc, iv, "welcome", media_dir["not_media"].read_bytes(), "question.webm", "video/webm")
    assert resp.status_code == 422 and "not a readable WebM file" in resp.get_data(as_text=True)
    assert _rows() == [] and _objects() == set()


def test_an_upload_too_large_or_too_long_is_refused(app, setup, media_dir):
    _owner, iv, cc = setup
    data = media_dir["webm"].read_bytes()
    app.config["PROMPT_MAX_BYTES"] = len(data) - 1
    resp = _upload(cc, iv, "welcome", data, "question.webm", "video/webm")
    assert resp.status_code == 413 and "at most" in resp.get_data(as_text=True)
    app.config["PROMPT_MAX_BYTES"] = 10 * len(data)
    app.config["PROMPT_MAX_SECONDS"] = 1
    resp = _upload(cc, iv, "welcome", data, "question.webm", "video/webm")
    assert resp.status_code == 422 and "at most 1 seconds" in resp.get_data(as_text=True)
    assert _rows() == [] and _objects() == set()


def test_the_recording_api_refuses_bad_input_with_clear_4xx(app, setup):
    _owner, iv, cc = setup
    slot = iv.questions[0].public_id
    base = f"/interviews/{iv.public_id}/prompts/{slot}/recordings"
    resp = cc.post(base, json={"content_type": "text/html"}, headers=JSON)
    assert resp.status_code == 415 and "cannot be a question" in resp.get_json()["error"]
    media_id = cc.post(base, json={"content_type": "video/webm"}).get_json()["media_id"]
    url = f"/interviews/{iv.public_id}/prompt-media/{media_id}"
    assert cc.put(f"{url}/chunks/1", data=b"late").status_code == 409  # out of order
    assert cc.put(f"{url}/chunks/0", data=b"first").status_code == 200
    assert cc.put(f"{url}/chunks/0", data=b"first").get_json()["duplicate"] is True
    assert cc.put(f"{url}/chunks/0", data=b"other").status_code == 409
    resp = cc.post(f"{url}/finalize", json={"chunks": 1, "sha256": "0" * 64}, headers=JSON)
    assert resp.status_code == 422 and "checksum" in resp.get_json()["error"]
    assert cc.post(f"{url}/finalize", json={"chunks": 2, "sha256": "0" * 64}).status_code == 409
    assert cc.post(f"{url}/finalize", json={"chunks": "x"}).status_code == 400
    infinite = cc.client.post(f"{url}/finalize", data='{"chunks": 1e999, "sha256": "%s"}' % ("0" * 64),
                              headers={**JSON, "Content-Type": "application/json", "X-CSRFToken": cc.token})
    assert infinite.status_code == 400 and "whole number" in infinite.get_json()["error"]
    app.config["PROMPT_MAX_BYTES"] = 8
    resp = cc.put(f"{url}/chunks/1", data=b"too many bytes", headers=JSON)
    assert resp.status_code == 413 and "at most" in resp.get_json()["error"]
    assert _rows() == [] and _objects() == set()  # a recording past the limit is let go whole


def test_replacing_and_removing_a_prompt_deletes_its_objects(app, setup, media_dir):
    owner, iv, cc = setup
    slot = iv.questions[0].public_id
    first = _record(cc, iv, slot, media_dir["webm"].read_bytes())
    second = _record(cc, iv, slot, media_dir["silent"].read_bytes())
    assert [m.public_id for m in _rows()] == [second]
    assert _objects() == {f"prompts/{second}/original.webm"} and first != second
    assert cc.post(f"/interviews/{iv.public_id}/prompts/{slot}/delete", data={}).status_code == 302
    assert _rows() == [] and _objects() == set()
    # Removing the question removes its video too.
    _record(cc, iv, slot, media_dir["webm"].read_bytes())
    interviews.delete_question(owner, iv, slot)
    assert _rows() == [] and _objects() == set()


def test_a_prompt_is_frozen_once_candidates_answered_the_question(app, setup, media_dir):
    _owner, iv, cc = setup
    question = iv.questions[0]
    slot = question.public_id
    _record(cc, iv, slot, media_dir["webm"].read_bytes())
    candidate, _token = make_candidate(iv)
    make_media_answer(candidate, question)
    resp = cc.post(f"/interviews/{iv.public_id}/prompts/{slot}/recordings",
                   json={"content_type": "video/webm"}, headers=JSON)
    assert resp.status_code == 409 and "can no longer be changed" in resp.get_json()["error"]
    resp = _upload(cc, iv, slot, media_dir["webm"].read_bytes(), "q.webm", "video/webm")
    assert resp.status_code == 409
    cc.post(f"/interviews/{iv.public_id}/prompts/{slot}/delete", data={})
    assert len(_rows()) == 1 and len(_objects()) == 1
    page = cc.get(f"/interviews/{iv.public_id}/questions/{slot}/edit").get_data(as_text=True)
    assert "its video can no longer be changed" in page and "data-prompt-recorder" not in page


def test_reviewers_may_watch_but_not_change_prompts(app, setup, media_dir):
    owner, iv, cc = setup
    reviewer = make_user(org=owner.organisation, role="reviewer")
    rc = _author(app, reviewer)
    resp = _upload(rc, iv, "welcome", media_dir["webm"].read_bytes(), "q.webm", "video/webm")
    assert resp.status_code == 403 and _rows() == []
    media_id = _record(cc, iv, "welcome", media_dir["webm"].read_bytes())
    media = _rows()[0]
    media.mp4_key, media.mp4_size = media.original_key, media.original_size  # as if converted
    db.session.commit()
    assert rc.get(f"/interviews/{iv.public_id}/prompt-media/{media_id}/video").status_code == 200


def test_a_recorded_prompt_that_is_not_media_fails_with_its_reason_and_is_never_shown(app, setup, media_dir,
                                                                                        run_jobs):
    _owner, iv, cc = setup
    slot = iv.questions[0].public_id
    _record(cc, iv, slot, media_dir["not_media"].read_bytes())
    run_jobs()
    media = _rows()[0]
    assert media.status == AnswerStatus.FAILED and "not a readable WebM file" in media.failure_reason
    page = cc.get(f"/interviews/{iv.public_id}/questions/{slot}/edit").get_data(as_text=True)
    assert 'data-prompt-status="failed"' in page and "not a readable WebM file" in page
    _cand, token = make_candidate(iv)
    assert app.test_client().get(f"/i/{token}/state").get_json()["questions"][0]["video"] is None
    assert app.test_client().get(f"/i/{token}/prompts/{media.public_id}/video").status_code == 404


def test_a_prompt_whose_job_was_lost_is_queued_again_and_one_stuck_for_long_is_failed(app, setup):
    from datetime import timedelta

    from rq.job import Job

    from app.models import utcnow
    from app.queue import job_alive, redis_conn
    from app.services import prompt_media

    _owner, iv, _cc = setup
    rows = [PromptMedia(org_id=iv.org_id, interview_id=iv.id, content_type="video/webm", status=status,
                        original_key="prompts/nothing/original.webm", mp4_key=mp4)
            for status, mp4 in ((AnswerStatus.UPLOADED, None), (AnswerStatus.PROCESSING, "prompts/x/p.mp4"),
                                (AnswerStatus.PROCESSING, None))]
    db.session.add_all(rows)
    db.session.commit()
    lost, half, stuck = rows
    for media, age in ((lost, 60), (half, 60), (stuck, prompt_media.GIVE_UP_S + 60)):
        media.updated_at = utcnow() - timedelta(seconds=age)
    db.session.commit()
    acted = prompt_media.reconcile(min_age_s=30)
    assert sorted(acted) == sorted(m.public_id for m in rows)
    assert job_alive(f"prompt-convert-{lost.id}") and job_alive(f"prompt-transcribe-{half.id}")
    assert not job_alive(f"prompt-convert-{stuck.id}")
    assert _rows()[2].status == AnswerStatus.FAILED and "interrupted" in _rows()[2].failure_reason
    assert prompt_media.reconcile(min_age_s=30) == []  # their jobs are alive now
    for job_id in (f"prompt-convert-{lost.id}", f"prompt-transcribe-{half.id}"):
        Job.fetch(job_id, connection=redis_conn()).delete()  # rows of this test only


def test_a_copy_and_a_template_carry_the_prompt_videos_as_objects_of_their_own(app, setup, media_dir,
                                                                              run_jobs):
    owner, iv, cc = setup
    _upload(cc, iv, "welcome", media_dir["mp4"].read_bytes(), "hello.mp4", "video/mp4")
    _upload(cc, iv, iv.questions[1].public_id, media_dir["mp4"].read_bytes(), "q2.mp4", "video/mp4")
    run_jobs()
    source = {m.question_id: m for m in _rows()}
    assert all(m.status == AnswerStatus.READY for m in source.values())
    resp = cc.post(f"/interviews/{iv.public_id}/duplicate", data={})
    assert resp.status_code == 302
    copy = db.session.execute(db.select(Interview).where(Interview.id != iv.id)).scalar_one()
    copied = {m.question_id: m for m in _rows() if m.interview_id == copy.id}
    # The welcome, and the second question's video on the copy's second question; none for the first.
    assert set(copied) == {None, copy.questions[1].id}
    pairs = ((source[None], copied[None]), (source[iv.questions[1].id], copied[copy.questions[1].id]))
    for old, new in pairs:
        assert new.public_id != old.public_id and new.org_id == owner.org_id
        assert new.status == AnswerStatus.READY
        assert new.mp4_key.startswith(f"prompts/{new.public_id}/") and new.transcript == old.transcript
        assert current_storage().get_bytes(new.mp4_key) == current_storage().get_bytes(old.mp4_key)
    # A candidate of the copy is played the copy's own video, which outlives the source's removal.
    cc.post(f"/interviews/{iv.public_id}/prompts/welcome/delete", data={})
    assert not any(k.startswith(f"prompts/{source[None].public_id}/") for k in _objects())
    _cand, token = make_candidate(copy, consent=False)
    page = app.test_client().get(f"/i/{token}").get_data(as_text=True)
    assert f"/i/{token}/prompts/{copied[None].public_id}/video" in page
    video = app.test_client().get(f"/i/{token}/prompts/{copied[None].public_id}/video")
    assert video.status_code == 200 and len(video.get_data()) == copied[None].mp4_size
    # Saving as a template copies them too.
    assert cc.post(f"/interviews/{iv.public_id}/template", data={}).status_code == 302
    template = db.session.execute(db.select(Interview).where(Interview.is_template.is_(True))).scalar_one()
    assert {m.question_id for m in _rows() if m.interview_id == template.id} == {template.questions[1].id}


def test_recorded_chunks_are_named_by_their_checksum_and_go_once_joined(app, setup):
    """A prompt's chunks are stored under their number and checksum, as an answer's are, so a copy
    with other bytes racing under one number cannot overwrite the one recorded; the join reads the
    recorded ones (and those of a recording begun before the upgrade, under their number alone)
    and then removes the chunks' folder, a refused copy included."""
    _owner, iv, cc = setup
    slot = iv.questions[0].public_id
    media_id = cc.post(f"/interviews/{iv.public_id}/prompts/{slot}/recordings",
                       json={"content_type": "video/webm"}).get_json()["media_id"]
    url = f"/interviews/{iv.public_id}/prompt-media/{media_id}"
    parts = [b"\x1a\x45\xdf\xa3 first", b"second", b"third"]
    for seq, part in enumerate(parts):
        assert cc.put(f"{url}/chunks/{seq}", data=part).status_code == 200
    folder = f"prompts/{media_id}/chunks/"
    names = {f"{folder}{seq:06d}-{hashlib.sha256(p).hexdigest()[:16]}" for seq, p in enumerate(parts)}
    assert _objects(folder) == names
    store = current_storage()
    store.put_bytes(f"{folder}000001-{'0' * 16}", b"a refused copy", "application/octet-stream")
    old = f"{folder}{0:06d}-{hashlib.sha256(parts[0]).hexdigest()[:16]}"
    store.copy(old, f"{folder}000000")  # chunk 0 as the version before stored it
    store.delete(old)
    data = b"".join(parts)
    resp = cc.post(f"{url}/finalize", json={"chunks": 3, "sha256": hashlib.sha256(data).hexdigest()})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    media = _rows()[-1]
    assert store.get_bytes(media.original_key) == data and _objects(folder) == set()
