"""Bad input on every candidate endpoint: a clear 4xx with a readable message, never a 500, and
nothing stored half-way (database rows and storage objects counted before and after)."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import Answer, AnswerChunk, Candidate, utcnow
from app.states import AnswerStatus
from app.storage import answer_key, current_storage
from tests.factories import make_candidate, make_interview, mark_completed
from tests.helpers import CsrfClient, chunk_name, stored_chunks

FIRST = b"\x1a\x45\xdf\xa3 first chunk of a recording"
SECOND = b"second chunk of a recording"

# Every route of the candidate blueprint: endpoint, method, path, and what kind of answer it gives.
ROUTES = [
    ("candidate.landing", "GET", "/i/{t}", "page"),
    ("candidate.consent", "POST", "/i/{t}/consent", "form"),
    ("candidate.record", "GET", "/i/{t}/record", "page"),
    ("candidate.state", "GET", "/i/{t}/state", "api"),
    ("candidate.start_take", "POST", "/i/{t}/questions/{q}/takes", "api"),
    ("candidate.put_chunk", "PUT", "/i/{t}/answers/{a}/chunks/1", "api"),
    ("candidate.finalize", "POST", "/i/{t}/answers/{a}/finalize", "api"),
    ("candidate.finish", "POST", "/i/{t}/finish", "api"),
    ("candidate.done", "GET", "/i/{t}/done", "page"),
    ("candidate.data", "GET", "/i/{t}/data", "page"),
    ("candidate.decline", "GET", "/i/{t}/decline", "page"),
    ("candidate.decline", "GET", "/i/{t}/decline", "page"),
    ("candidate.accommodation", "POST", "/i/{t}/accommodation", "form"),
    ("candidate.later_deadline", "POST", "/i/{t}/later-deadline", "form"),
    ("candidate.written", "POST", "/i/{t}/answers/{a}/written", "api"),
    ("candidate.abandon", "POST", "/i/{t}/answers/{a}/abandon", "api"),
    ("candidate.language", "POST", "/i/{t}/language", "form"),
    ("candidate.time_zone", "POST", "/i/{t}/time-zone", "api"),
    ("candidate.export_zip", "GET", "/i/{t}/export.zip", "page"),
    ("candidate.about_you", "GET", "/i/{t}/about-you", "page"),
    ("candidate.about_you", "POST", "/i/{t}/about-you", "form"),
    ("candidate.ask_deletion", "POST", "/i/{t}/deletion", "form"),
    ("candidate.cancel_deletion", "POST", "/i/{t}/deletion/cancel", "form"),
    ("candidate.withdraw", "POST", "/i/{t}/withdraw", "form"),
    ("candidate.ask_rereview", "POST", "/i/{t}/rereview", "form"),
    ("candidate.prompt_video", "GET", "/i/{t}/prompts/{a}/video", "page"),
    ("candidate.prompt_captions", "GET", "/i/{t}/prompts/{a}/captions.vtt", "page"),
]
FORM_DATA = {"/consent": {"consent": "yes"}, "/accommodation": {"factor": "1.5", "note": ""},
             "/later-deadline": {"days": "3", "note": ""},
             "/language": {"locale": "en_XA", "page": "landing"}, "/about-you": {"sex": "", "race": ""},
             "/deletion": {"confirm": "yes"}, "/cancel": {}, "/withdraw": {"confirm": "yes"},
             "/rereview": {"reason": "Please look again."}}
# A candidate's rights over their own data do not expire with the interview link.
OWN_DATA = {"candidate.data", "candidate.done", "candidate.export_zip", "candidate.about_you",
            "candidate.ask_deletion", "candidate.cancel_deletion", "candidate.withdraw",
            "candidate.ask_rereview"}
FORGED = ["A" * 43, "short", "x" * 300, "not a token!", "%2e%2e"]


class World:
    """A candidate part-way through an answer (one chunk sent), seen through a browser-like client."""

    def __init__(self, app, client):
        self.app = app
        self.interview = make_interview(questions=1)
        self.candidate, self.token = make_candidate(self.interview)
        self.question = self.interview.questions[0].public_id
        self.cc = CsrfClient(client)
        self.cc.refresh(f"/i/{self.token}")
        resp = self.cc.post(f"/i/{self.token}/questions/{self.question}/takes",
                            json={"content_type": "video/webm"})
        self.answer = resp.get_json()["answer_id"]
        assert self.cc.put(self.chunk_url(0), data=FIRST).status_code == 200

    def chunk_url(self, seq, token=None, answer=None) -> str:
        return f"/i/{token or self.token}/answers/{answer or self.answer}/chunks/{seq}"

    def finalize_url(self, token=None, answer=None) -> str:
        return f"/i/{token or self.token}/answers/{answer or self.answer}/finalize"

    def send(self, method: str, path: str, kind: str, client=None):
        """What the candidate's browser would send to this route, all of it valid but the link."""
        cc = client or self.cc
        if method == "GET":
            return cc.get(path)
        if kind == "form":
            return cc.post(path, data=FORM_DATA["/" + path.rsplit("/", 1)[1]])
        if method == "PUT":
            return cc.put(path, data=SECOND)
        if path.endswith("/takes"):
            body = {"content_type": "video/webm"}
        elif path.endswith("/written"):
            body = {"text": "A written answer."}
        else:
            body = {"chunks": 2, "sha256": hashlib.sha256(FIRST + SECOND).hexdigest(),
                    "duration_ms": 2000}
        return cc.post(path, json=body)

    def stored(self):
        """Everything a request could have written: rows, candidate fields, objects in storage."""
        db.session.expire_all()
        count = lambda model: db.session.execute(  # noqa: E731
            db.select(db.func.count()).select_from(model)).scalar_one()
        store = current_storage()
        objects = {o.object_name for o in store.client.list_objects(store.bucket, recursive=True)}
        answers = db.session.execute(
            db.select(Answer.public_id, Answer.status, Answer.chunk_count, Answer.received_bytes,
                      Answer.original_key).order_by(Answer.id)).all()
        candidates = db.session.execute(
            db.select(Candidate.id, Candidate.status, Candidate.consent_at, Candidate.completed_at)
            .order_by(Candidate.id)).all()
        return count(Answer), count(AnswerChunk), answers, candidates, objects


@pytest.fixture
def world(app, client):
    return World(app, client)


def _error_text(resp, kind: str) -> str:
    assert resp.status_code < 500, resp.get_data(as_text=True)
    if kind == "api":
        assert resp.is_json, (resp.status_code, resp.get_data(as_text=True)[:300])
        return resp.get_json()["error"]
    assert resp.mimetype == "text/html", resp.mimetype
    return resp.get_data(as_text=True)


def _require(app, endpoint: str) -> None:
    assert endpoint in app.view_functions, f"{endpoint} is listed here but the app has no such route"


def test_every_candidate_route_is_covered_here(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules() if r.endpoint.startswith("candidate.")}
    assert endpoints <= {r[0] for r in ROUTES}, "add the new route to ROUTES"


@pytest.mark.parametrize("endpoint,method,path,kind", ROUTES, ids=[r[0] for r in ROUTES])
def test_forged_link_is_404_on_every_route_and_writes_nothing(world, endpoint, method, path, kind):
    _require(world.app, endpoint)
    before = world.stored()
    url = path.format(t="A" * 43, q=world.question, a=world.answer)
    resp = world.send(method, url, kind)
    assert resp.status_code == 404
    assert "not valid" in _error_text(resp, kind)
    assert world.stored() == before


@pytest.mark.parametrize("endpoint,method,path,kind", ROUTES, ids=[r[0] for r in ROUTES])
def test_expired_link_is_410_on_every_route_and_writes_nothing(world, endpoint, method, path, kind):
    _require(world.app, endpoint)
    fresh, fresh_token = make_candidate(world.interview, consent=False)
    # Expired longer ago than the grace in which a take begun before expiry may still be sent.
    for cand in (world.candidate, fresh):
        cand.expires_at = utcnow() - timedelta(hours=world.app.config["EXPIRY_GRACE_HOURS"] + 1)
    db.session.commit()
    # Forms are tried with a link never used, so a write would show; the rest with the one in use.
    token = fresh_token if kind == "form" else world.token
    before = world.stored()
    resp = world.send(method, path.format(t=token, q=world.question, a=world.answer), kind)
    if endpoint in ("candidate.data", "candidate.done"):  # a candidate may always read their own data
        assert resp.status_code == 200
    elif endpoint in OWN_DATA:  # and act on it: whatever the answer, never "expired"
        assert resp.status_code != 410 and resp.status_code < 500
    else:
        assert resp.status_code == 410
        assert "expired" in _error_text(resp, kind)
    assert world.stored() == before


def test_take_begun_before_the_link_expired_can_still_be_sent(world):
    answer = db.session.execute(db.select(Answer).filter_by(public_id=world.answer)).scalar_one()
    answer.created_at = utcnow() - timedelta(minutes=10)  # the take began; then the link expired
    world.candidate.expires_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    assert world.cc.get(f"/i/{world.token}/record").status_code == 410  # no new takes
    assert world.cc.put(world.chunk_url(1), data=SECOND).status_code == 200
    good = hashlib.sha256(FIRST + SECOND).hexdigest()
    resp = world.cc.post(world.finalize_url(), json={"chunks": 2, "sha256": good})
    assert resp.status_code == 200 and resp.get_json()["bytes"] == len(FIRST + SECOND)
    assert world.cc.post(f"/i/{world.token}/finish", json={}).status_code == 200


@pytest.mark.parametrize("endpoint,method,path,kind", ROUTES, ids=[r[0] for r in ROUTES])
def test_after_too_many_forged_links_every_route_is_429_even_for_a_valid_link(world, endpoint, method,
                                                                               path, kind):
    _require(world.app, endpoint)
    world.app.config["TOKEN_FAILURES_PER_WINDOW"] = 2
    _fresh, fresh_token = make_candidate(world.interview, consent=False)
    token = fresh_token if kind == "form" else world.token
    for forged in FORGED[:2]:
        assert world.cc.get(f"/i/{forged}/state").status_code == 404
    before = world.stored()
    resp = world.send(method, path.format(t=token, q=world.question, a=world.answer), kind)
    assert resp.status_code == 429
    assert 0 < int(resp.headers["Retry-After"]) <= world.app.config["TOKEN_FAILURE_WINDOW_SECONDS"]
    assert "Too many links that do not work" in _error_text(resp, kind)
    assert world.stored() == before


@pytest.mark.parametrize("token", FORGED)
def test_malformed_links_are_404(world, token):
    before = world.stored()
    for method, path, kind in [("GET", "/i/{t}", "page"), ("GET", "/i/{t}/state", "api"),
                               ("PUT", "/i/{t}/answers/{a}/chunks/1", "api")]:
        resp = world.send(method, path.format(t=token, a=world.answer), kind)
        assert resp.status_code == 404
        assert _error_text(resp, kind)
    assert world.stored() == before


def test_every_link_token_has_the_one_shape_new_token_makes():
    from app.security import invite_token, join_token, looks_like_token, new_token, reset_token

    assert all(looks_like_token(new_token()) for _ in range(200))
    # The derived ones (invites, team invites, password resets: app.security) have the same shape.
    assert all(looks_like_token(derive("secret", f"id{n}")) for n in range(100)
               for derive in (join_token, reset_token, lambda s, i: invite_token(s, i, 3)))
    for text in ["A" * 42, "A" * 44, "A" * 42 + "=", "A" * 42 + "/", "", None]:
        assert not looks_like_token(text), text


UNSAFE = [r for r in ROUTES if r[1] != "GET"]


@pytest.mark.parametrize("csrf", ["missing", "forged"])
@pytest.mark.parametrize("endpoint,method,path,kind", UNSAFE, ids=[r[0] for r in UNSAFE])
def test_missing_or_forged_csrf_token_is_refused(world, client, endpoint, method, path, kind, csrf):
    _require(world.app, endpoint)
    _fresh, fresh_token = make_candidate(world.interview, consent=False)
    token = fresh_token if kind == "form" else world.token
    before = world.stored()
    bare = CsrfClient(client)
    bare.token = "" if csrf == "missing" else "forged-token"
    resp = world.send(method, path.format(t=token, q=world.question, a=world.answer), kind, bare)
    assert resp.status_code == 400
    assert "expired" in _error_text(resp, kind)
    assert world.stored() == before


def test_chunk_numbers_must_be_whole_and_not_negative(world):
    before = world.stored()
    resp = world.cc.put(world.chunk_url(-1), data=SECOND)
    assert resp.status_code == 400 and "negative" in _error_text(resp, "api")
    resp = world.cc.put(world.chunk_url("one"), data=SECOND)
    assert resp.status_code == 404 and _error_text(resp, "api")
    assert world.stored() == before


def test_out_of_order_and_replayed_chunks_never_change_what_is_stored(world):
    before = world.stored()
    assert world.cc.put(world.chunk_url(2), data=SECOND).status_code == 409
    resp = world.cc.put(world.chunk_url(0), data=b"other bytes under the same number")
    assert resp.status_code == 409 and "different content" in _error_text(resp, "api")
    assert world.stored() == before
    assert stored_chunks(world.answer) == {chunk_name(0, FIRST): FIRST}


def test_a_chunk_larger_than_a_request_may_be_is_413_with_a_message(world):
    world.app.config["MAX_CONTENT_LENGTH"] = 1024
    before = world.stored()
    resp = world.cc.put(world.chunk_url(1), data=b"x" * 4096)
    assert resp.status_code == 413 and "larger than allowed" in _error_text(resp, "api")
    resp = world.cc.post(f"/i/{world.token}/questions/{world.question}/takes",
                         json={"content_type": "video/webm", "padding": "x" * 4096})
    assert resp.status_code == 413 and _error_text(resp, "api")
    assert world.stored() == before
    # The take goes on: the next chunk of an allowed size is taken.
    assert world.cc.put(world.chunk_url(1), data=SECOND).status_code == 200


def test_a_recording_over_the_answer_limit_is_413_and_nothing_of_it_is_kept(world):
    world.app.config["MAX_ANSWER_BYTES"] = len(FIRST) + 4
    resp = world.cc.put(world.chunk_url(1), data=SECOND)
    assert resp.status_code == 413 and "larger than allowed" in _error_text(resp, "api")
    # It can never be finished, so it is let go at once, costing no take: nothing of it is kept.
    answers, chunks, _, _, objects = world.stored()
    assert (answers, chunks) == (0, 0)
    assert not [o for o in objects if o.startswith(answer_key(world.answer, ""))]


def test_chunks_and_finalize_for_another_candidates_answer_are_404(world, client):
    other = World(world.app, world.app.test_client())
    before = world.stored()
    resp = world.cc.put(world.chunk_url(1, answer=other.answer), data=SECOND)
    assert resp.status_code == 404 and "not part of your interview" in _error_text(resp, "api")
    resp = world.cc.post(world.finalize_url(answer=other.answer),
                         json={"chunks": 1, "sha256": hashlib.sha256(FIRST).hexdigest()})
    assert resp.status_code == 404 and "not part of your interview" in _error_text(resp, "api")
    assert world.stored() == before


@pytest.mark.parametrize("body,content_type,status", [
    ("{not json", "application/json", 400),
    ("[1, 2]", "application/json", 400),
    ("", None, 400),
    ("chunks=1&sha256=abc", "application/x-www-form-urlencoded", 400),
    (json.dumps({"chunks": None, "sha256": "0" * 64}), "application/json", 400),
    (json.dumps({"chunks": "1"}), "application/json", 400),
    (json.dumps({"chunks": 1, "sha256": "not-a-checksum"}), "application/json", 400),
    (json.dumps({"chunks": 1, "sha256": "0" * 64, "duration_ms": "soon"}), "application/json", 400),
    (json.dumps({"chunks": 0, "sha256": "0" * 64}), "application/json", 409),
    (json.dumps({"chunks": -3, "sha256": "0" * 64}), "application/json", 409),
    (json.dumps({"chunks": 10 ** 30, "sha256": "0" * 64}), "application/json", 409),
    # JSON allows numbers past a float's range: Python reads them as infinity.
    ('{"chunks": 1e999, "sha256": "%s"}' % ("0" * 64), "application/json", 400),
    ('{"chunks": 1, "sha256": "%s", "duration_ms": -1e999}' % ("0" * 64), "application/json", 400),
], ids=["malformed-json", "json-list", "empty", "form", "null-count", "no-checksum", "bad-checksum",
        "bad-duration", "zero-chunks", "negative-chunks", "huge-count", "infinite-count",
        "infinite-duration"])
def test_malformed_finalize_is_refused_and_nothing_is_assembled(world, body, content_type, status):
    before = world.stored()
    headers = {"X-CSRFToken": world.cc.token}
    if content_type:
        headers["Content-Type"] = content_type
    resp = world.cc.client.post(world.finalize_url(), data=body, headers=headers)
    assert resp.status_code == status
    assert _error_text(resp, "api")
    assert world.stored() == before


def test_a_checksum_that_does_not_match_fails_the_answer_visibly_and_keeps_every_chunk(world, app):
    """Finalize only counts the chunks; the join job finds that they do not make the recording the
    browser described: the answer fails with a reason staff can read, no joined object is left,
    and every chunk stays as received."""
    import jobs
    import jobs.join

    assert world.cc.put(world.chunk_url(1), data=SECOND).status_code == 200
    resp = world.cc.post(world.finalize_url(), json={"chunks": 2, "sha256": "f" * 64})
    assert resp.status_code == 200 and resp.get_json()["bytes"] == len(FIRST + SECOND)
    _count, chunks, _answers, _candidates, objects = world.stored()
    row = db.session.execute(db.select(Answer).filter_by(public_id=world.answer)).scalar_one()
    jobs.use_app(app)
    try:
        jobs.join.run(row.id)
    finally:
        jobs.use_app(None)
    _count, chunks_after, answers, _candidates, objects_after = world.stored()
    db.session.refresh(row)
    assert row.status == "failed" and "f" * 64 in row.failure_reason
    assert hashlib.sha256(FIRST + SECOND).hexdigest() in row.failure_reason
    assert "nothing was deleted" in row.failure_reason
    assert chunks_after == chunks == 2 and objects_after == objects
    assert answer_key(world.answer, "original.webm") not in objects_after
    assert answers[0].original_key is None


@pytest.mark.parametrize("question,body,status", [
    ("unknown", {"content_type": "video/webm"}, 404),
    ("other-interview", {"content_type": "video/webm"}, 404),
    ("mine", {}, 415),
    ("mine", {"content_type": ""}, 415),
    ("mine", {"content_type": 123}, 415),
    ("mine", {"content_type": "text/html"}, 415),
    ("mine", "{not json", 415),
], ids=["unknown-question", "other-interview", "no-type", "empty-type", "number-type", "html-type",
        "malformed-json"])
def test_bad_take_requests_open_no_take(world, question, body, status):
    other, _ = make_candidate()
    qid = {"unknown": "q" * 22, "other-interview": other.interview.questions[0].public_id,
           "mine": world.question}[question]
    before = world.stored()
    url = f"/i/{world.token}/questions/{qid}/takes"
    if isinstance(body, dict):
        resp = world.cc.post(url, json=body)
    else:
        resp = world.cc.client.post(url, data=body, headers={"X-CSRFToken": world.cc.token,
                                                            "Content-Type": "application/json"})
    assert resp.status_code == status
    assert _error_text(resp, "api")
    assert world.stored() == before


def test_nothing_can_be_recorded_after_the_interview_is_finished(world):
    mark_completed(world.candidate)
    before = world.stored()
    resp = world.cc.post(f"/i/{world.token}/questions/{world.question}/takes",
                         json={"content_type": "video/webm"})
    assert resp.status_code == 409 and "already finished" in _error_text(resp, "api")
    resp = world.cc.post(f"/i/{world.token}/finish", json={})
    assert resp.status_code == 409 and _error_text(resp, "api")
    assert world.stored() == before
    answer = db.session.execute(db.select(Answer).filter_by(public_id=world.answer)).scalar_one()
    assert answer.status == AnswerStatus.RECORDING


def test_a_take_left_open_cannot_be_completed_after_the_interview_is_finished(world):
    mark_completed(world.candidate)
    before = world.stored()
    resp = world.cc.put(world.chunk_url(1), data=SECOND)
    assert resp.status_code == 409
    good = hashlib.sha256(FIRST).hexdigest()
    assert world.cc.post(world.finalize_url(), json={"chunks": 1, "sha256": good}).status_code == 409
    assert world.stored() == before
