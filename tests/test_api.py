"""The public API, /api/v1, through the test client: keys, scopes, organisations apart, anonymity,
idempotent invites, the cursor, decisions, signed media, erasure, and refusals as problems."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import pytest

from app.extensions import db
from app.models import ApiIdempotency, AuditEvent, Candidate
from app.services import api_keys
from tests.factories import make_candidate, make_interview, make_media_answer, make_scores, make_user


def make_key(user, scopes="read,invite,decide,erase", name="ATS"):
    _key, token = api_keys.create(user, name, scopes)
    return token


def auth(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def owner(app):
    return make_user(role="owner")


def test_openapi_document_is_3_1_and_lists_every_operation(client):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    spec = resp.get_json()
    assert spec["openapi"] == "3.1.0"
    assert "/api/v1/candidates" in spec["paths"]
    assert "/api/v1/ats/send_test" in spec["paths"]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200 and b"/api/v1/candidates" in docs.data
    assert b"cdn" not in docs.data.lower()


def test_no_key_or_a_bad_key_is_401_problem(client, owner):
    for headers in ({}, auth("ow_" + "x" * 43), auth("nonsense"), {"Authorization": "Basic abc"}):
        resp = client.get("/api/v1/interviews", headers=headers)
        assert resp.status_code == 401
        assert resp.mimetype == "application/problem+json"
        assert resp.get_json()["status"] == 401
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_signed_in_cookie_does_not_authenticate_the_api(login_as, owner):
    cc = login_as(owner)
    assert cc.client.get("/api/v1/interviews").status_code == 401


def test_key_lists_and_reads_its_organisation_only(client, owner):
    mine = make_interview(owner)
    other_owner = make_user(role="owner")
    other = make_interview(other_owner)
    token = make_key(owner)
    listed = client.get("/api/v1/interviews", headers=auth(token)).get_json()["data"]
    assert [i["id"] for i in listed] == [mine.public_id]
    assert client.get(f"/api/v1/interviews/{other.public_id}", headers=auth(token)).status_code == 404
    theirs, _ = make_candidate(other)
    for path in (f"/api/v1/candidates/{theirs.public_id}", f"/api/v1/candidates/{theirs.public_id}/answers",
                 f"/api/v1/candidates/{theirs.public_id}/reviews",
                 f"/api/v1/candidates/{theirs.public_id}/decisions",
                 f"/api/v1/ats/test_status?partner_interview_id={theirs.public_id}"):
        assert client.get(path, headers=auth(token)).status_code == 404, path
    assert client.delete(f"/api/v1/candidates/{theirs.public_id}", headers=auth(token)).status_code == 404
    assert client.post(f"/api/v1/candidates/{theirs.public_id}/decisions", headers=auth(token),
                       json={"decision": "advance"}).status_code == 404
    assert client.post(f"/api/v1/interviews/{other.public_id}/candidates", headers=auth(token),
                       json={"candidates": [{"name": "X", "email": "x@example.com"}]}).status_code == 404
    listed = client.get("/api/v1/candidates", headers=auth(token)).get_json()["data"]
    assert theirs.public_id not in [c["id"] for c in listed]
    answer = make_media_answer(theirs, other.questions[0])
    for suffix in ("", "/transcript", "/captions", "/media"):
        resp = client.get(f"/api/v1/answers/{answer.public_id}{suffix}", headers=auth(token))
        assert resp.status_code == 404, suffix
    assert client.put(f"/api/v1/candidates/{theirs.public_id}/deadline", headers=auth(token),
                      json={"deadline": "2099-01-01T00:00:00Z"}).status_code == 404
    their_key = make_key(other_owner)
    erasure = client.delete(f"/api/v1/candidates/{theirs.public_id}", headers=auth(their_key)).get_json()
    assert client.get(f"/api/v1/erasures/{erasure['id']}", headers=auth(token)).status_code == 404
    assert client.get(f"/api/v1/erasures/{erasure['id']}", headers=auth(their_key)).status_code == 200


def test_scopes_are_enforced_before_input_is_read(client, owner):
    interview = make_interview(owner)
    token = make_key(owner, scopes="read")
    resp = client.post(f"/api/v1/interviews/{interview.public_id}/candidates", headers=auth(token),
                       json={"candidates": [{"name": "Ada", "email": "ada@example.com"}]})
    assert resp.status_code == 403 and "invite" in resp.get_json()["detail"]
    assert client.post("/api/v1/interviews", headers=auth(token), json={}).status_code == 403
    candidate, _ = make_candidate(interview)
    assert client.post(f"/api/v1/candidates/{candidate.public_id}/decisions", headers=auth(token),
                       json={"decision": "advance"}).status_code == 403
    assert client.delete(f"/api/v1/candidates/{candidate.public_id}", headers=auth(token)).status_code == 403
    invite_only = make_key(owner, scopes="invite")
    assert client.get("/api/v1/candidates", headers=auth(invite_only)).status_code == 403


def test_a_revoked_key_stops_at_once(client, owner):
    token = make_key(owner)
    assert client.get("/api/v1/interviews", headers=auth(token)).status_code == 200
    key = api_keys.keys_of(owner)[0]
    api_keys.revoke(owner, key.public_id)
    assert client.get("/api/v1/interviews", headers=auth(token)).status_code == 401


def test_a_removed_owners_keys_stop(client, owner):
    token = make_key(owner)
    owner.active = False
    db.session.commit()
    assert client.get("/api/v1/interviews", headers=auth(token)).status_code == 401


def test_every_call_is_audited_with_the_keys_name_and_last_use_shown(client, owner):
    token = make_key(owner, name="Greenhouse sync")
    client.get("/api/v1/interviews", headers=auth(token))
    client.get("/api/v1/candidates/nope", headers=auth(token))
    rows = db.session.execute(db.select(AuditEvent).filter_by(action="api.called")
                              .order_by(AuditEvent.id)).scalars().all()
    assert [(r.actor_label, r.detail["status"]) for r in rows] == [
        ("API key “Greenhouse sync”", 200), ("API key “Greenhouse sync”", 404)]
    assert api_keys.keys_of(owner)[0].last_used_at is not None


def test_create_interview_then_invite_many_with_idempotency(client, owner):
    token = make_key(owner)
    resp = client.post("/api/v1/interviews", headers=auth(token), json={
        "title": "Support engineer", "questions": [{"prompt": "Why support?"}, {"prompt": "A hard case?",
                                                                                "kind": "written"}]})
    assert resp.status_code == 201, resp.get_json()
    interview = resp.get_json()
    assert [q["prompt"] for q in interview["questions"]] == ["Why support?", "A hard case?"]
    body = {"candidates": [{"name": "Ada", "email": "ada@example.com"},
                           {"name": "Bo", "email": "bo@example.com"}]}
    headers = auth(token) | {"Idempotency-Key": "req-1"}
    first = client.post(f"/api/v1/interviews/{interview['id']}/candidates", headers=headers, json=body)
    assert first.status_code == 201 and first.headers["Idempotent-Replayed"] == "false"
    again = client.post(f"/api/v1/interviews/{interview['id']}/candidates", headers=headers, json=body)
    assert again.status_code == 201 and again.get_json()["replayed"] is True
    assert [c["id"] for c in again.get_json()["data"]] == [c["id"] for c in first.get_json()["data"]]
    assert db.session.execute(db.select(db.func.count(Candidate.id))).scalar_one() == 2
    # The replay gives fresh links, and the first ones stop working.
    old, new = first.get_json()["data"][0]["invite_url"], again.get_json()["data"][0]["invite_url"]
    assert old != new and client.get(new.split("localhost", 1)[-1]).status_code == 200
    assert client.get(old.split("localhost", 1)[-1]).status_code in (404, 410)
    other_body = {"candidates": [{"name": "Cy", "email": "cy@example.com"}]}
    clash = client.post(f"/api/v1/interviews/{interview['id']}/candidates", headers=headers, json=other_body)
    assert clash.status_code == 422 and clash.mimetype == "application/problem+json"
    assert db.session.execute(db.select(db.func.count(ApiIdempotency.id))).scalar_one() == 1


def test_bad_input_is_a_problem_naming_the_field(client, owner):
    token = make_key(owner)
    resp = client.post("/api/v1/interviews", headers=auth(token), json={"title": "x", "questions": [],
                                                                        "surprise": 1})
    assert resp.status_code == 422
    problem = resp.get_json()
    assert resp.mimetype == "application/problem+json"
    assert "questions" in problem["errors"] and "surprise" in problem["errors"]
    for bad in ("not json", b"\xff\xfe", "[]", '{"title": "a\\u0000b", "questions": [{"prompt": "p"}]}'):
        resp = client.post("/api/v1/interviews", headers=auth(token) | {"Content-Type": "application/json"},
                           data=bad)
        assert resp.status_code in (400, 422), bad
    assert client.get("/api/v1/candidates?cursor=%%%", headers=auth(token)).status_code == 400
    assert client.get("/api/v1/candidates?limit=0", headers=auth(token)).status_code == 422
    assert client.get("/api/v1/nowhere", headers=auth(token)).mimetype == "application/problem+json"
    assert client.patch("/api/v1/interviews", headers=auth(token)).status_code == 405


def test_candidates_page_by_cursor_and_updated_since(client, owner):
    interview = make_interview(owner)
    made = [make_candidate(interview, owner, consent=False)[0] for _ in range(5)]
    token = make_key(owner)
    seen, cursor = [], None
    while True:
        url = "/api/v1/candidates?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=auth(token)).get_json()
        seen += [c["id"] for c in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(c.public_id for c in made) and len(seen) == 5
    later = made[2]
    later.expires_at = later.expires_at + timedelta(days=1)
    db.session.commit()
    since = (later.updated_at - timedelta(microseconds=1)).isoformat()
    page = client.get("/api/v1/candidates", headers=auth(token),
                      query_string={"updated_since": since}).get_json()
    assert [c["id"] for c in page["data"]] == [later.public_id]


def test_deadline_moves_for_an_unfinished_candidate_only(client, owner):
    candidate, _ = make_candidate(make_interview(owner), owner)
    token = make_key(owner)
    when = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
    resp = client.put(f"/api/v1/candidates/{candidate.public_id}/deadline", headers=auth(token),
                      json={"deadline": when.isoformat()})
    assert resp.status_code == 200 and resp.get_json()["deadline"].startswith(when.strftime("%Y-%m-%dT%H:%M"))
    past = client.put(f"/api/v1/candidates/{candidate.public_id}/deadline", headers=auth(token),
                      json={"deadline": "2001-01-01T00:00:00Z"})
    assert past.status_code == 422


def test_anonymised_interviews_stay_anonymised(client, owner):
    interview = make_interview(owner)
    interview.anonymous = True
    db.session.commit()
    candidate, _ = make_candidate(interview, owner)
    make_media_answer(candidate, interview.questions[0], poster_key="answers/x/poster.jpg", poster_size=3)
    token = make_key(owner)
    one = client.get(f"/api/v1/candidates/{candidate.public_id}", headers=auth(token)).get_json()
    assert one["name"] == "Candidate 1" and one["email"] is None
    listed = client.get("/api/v1/candidates", headers=auth(token)).get_json()["data"]
    assert "Ada" not in str(listed) and "ada@" not in str(listed)
    answer = client.get(f"/api/v1/candidates/{candidate.public_id}/answers", headers=auth(token)).get_json()
    media = client.get(f"/api/v1/answers/{answer['data'][0]['id']}/media", headers=auth(token)).get_json()
    assert media["poster_url"] is None and media["video_url"] is not None


def test_media_through_a_short_lived_signed_url_that_dies_with_the_key(client, owner):
    candidate, _ = make_candidate(make_interview(owner), owner)
    answer = make_media_answer(candidate, candidate.interview.questions[0], data=b"0123456789")
    token = make_key(owner)
    media = client.get(f"/api/v1/answers/{answer.public_id}/media", headers=auth(token)).get_json()
    path = media["video_url"].split("localhost", 1)[-1]
    part = client.get(path, headers={"Range": "bytes=2-5"})
    assert part.status_code == 206 and part.data == b"2345"
    assert client.get(path[:-3] + "abc").status_code == 404
    transcript = client.get(f"/api/v1/answers/{answer.public_id}/transcript", headers=auth(token)).get_json()
    assert transcript["segments"][0]["words"][1] == {"word": "world", "start": 0.5, "end": 1.0}
    vtt = client.get(f"/api/v1/answers/{answer.public_id}/captions", headers=auth(token))
    assert vtt.mimetype == "text/vtt" and b"hello world" in vtt.data
    api_keys.revoke(owner, api_keys.keys_of(owner)[0].public_id)
    assert client.get(path).status_code == 404


def test_reviews_show_submitted_reviews_only_and_decisions_are_set(client, owner):
    interview = make_interview(owner)
    candidate, _ = make_candidate(interview, owner)
    submitted, drafting = make_user(owner.organisation, role="reviewer"), make_user(owner.organisation,
                                                                                    role="reviewer")
    make_scores(submitted, candidate, [4, 5])
    make_scores(drafting, candidate, [1], submit=None)
    token = make_key(owner)
    reviews = client.get(f"/api/v1/candidates/{candidate.public_id}/reviews", headers=auth(token)).get_json()
    assert [r["grader"] for r in reviews["reviews"]] == [submitted.name]
    assert reviews["rating"] == 4.5
    resp = client.post(f"/api/v1/candidates/{candidate.public_id}/decisions", headers=auth(token),
                       json={"decision": "advance", "note": "Strong"})
    assert resp.status_code == 201 and resp.get_json()["decision"] == "advance"
    status = client.get(f"/api/v1/ats/test_status?partner_interview_id={candidate.public_id}",
                        headers=auth(token)).get_json()
    assert status["partner_score"] == 4.5 and status["decision"] == "advance"
    assert status["partner_profile_url"].endswith(f"/review/candidates/{candidate.public_id}")


def test_ats_send_test_invites_once_per_idempotency_key(client, owner):
    interview = make_interview(owner)
    token = make_key(owner)
    tests = client.get("/api/v1/ats/tests", headers=auth(token)).get_json()
    assert tests == [{"partner_test_id": interview.public_id, "partner_test_name": interview.title}]
    body = {"partner_test_id": interview.public_id,
            "candidate": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}}
    headers = auth(token) | {"Idempotency-Key": "gh-123"}
    first = client.post("/api/v1/ats/send_test", headers=headers, json=body).get_json()
    second = client.post("/api/v1/ats/send_test", headers=headers, json=body).get_json()
    assert first["partner_interview_id"] == second["partner_interview_id"]
    assert db.session.execute(db.select(db.func.count(Candidate.id))).scalar_one() == 1
    status = client.get(f"/api/v1/ats/test_status?partner_interview_id={first['partner_interview_id']}",
                        headers=auth(token)).get_json()
    assert status["partner_status"] == "incomplete"


def test_erasure_runs_in_the_background_with_a_status(client, owner, run_jobs):
    candidate, _ = make_candidate(make_interview(owner), owner)
    public_id = candidate.public_id
    token = make_key(owner)
    resp = client.delete(f"/api/v1/candidates/{public_id}", headers=auth(token))
    assert resp.status_code == 202 and resp.get_json()["status"] == "queued"
    erasure = resp.get_json()["id"]
    run_jobs()
    db.session.expire_all()
    done = client.get(f"/api/v1/erasures/{erasure}", headers=auth(token)).get_json()
    assert done["status"] == "done"
    assert client.get(f"/api/v1/candidates/{public_id}", headers=auth(token)).status_code == 404
    erased = db.session.execute(db.select(AuditEvent).filter_by(action="candidate.erased")).scalar_one()
    assert erased.actor_label == "API key “ATS”"


def test_rate_limited_per_key_with_retry_after(other_app, owner):
    limited = other_app(API_RATE_LIMIT="3/minute")
    with limited.app_context():
        token = make_key(owner)
        other = make_key(owner, name="Other")
    client = limited.test_client()
    codes = [client.get("/api/v1/interviews", headers=auth(token)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    resp = client.get("/api/v1/interviews", headers=auth(token))
    assert resp.mimetype == "application/problem+json" and int(resp.headers["Retry-After"]) >= 1
    assert client.get("/api/v1/interviews", headers=auth(other)).status_code == 200


def test_with_redis_away_calls_still_answer_and_are_still_limited(other_app, owner):
    """The limiter's store is Redis; with Redis down each process limits in its own memory instead
    of answering 500 to every call."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]  # nothing listens here once the socket is closed
    away = other_app(API_RATE_LIMIT="3/minute", REDIS_URL=f"redis://127.0.0.1:{closed}/0")
    with away.app_context():
        token = make_key(owner)
    client = away.test_client()
    codes = [client.get("/api/v1/interviews", headers=auth(token)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_csrf_does_not_apply_to_key_calls(app, owner):
    assert app.config["WTF_CSRF_ENABLED"]
    token = make_key(owner)
    resp = app.test_client().post("/api/v1/interviews", headers=auth(token) | {"Origin": "https://evil.example"},
                                  json={"title": "T", "questions": [{"prompt": "Q"}]})
    assert resp.status_code == 201


def test_owners_make_and_revoke_keys_on_a_page(login_as, owner, client):
    cc = login_as(owner)
    page = cc.post("/team/api-keys", data={"name": "Lever", "scopes": ["read", "invite"]})
    assert page.status_code == 200
    token = page.get_data(as_text=True).split('data-api-key')[0].rsplit('value="', 1)[1].split('"')[0]
    assert token.startswith("ow_")
    assert client.get("/api/v1/interviews", headers=auth(token)).status_code == 200
    listing = cc.get("/team/api-keys").get_data(as_text=True)
    assert "Lever" in listing and token not in listing
    key = api_keys.keys_of(owner)[0]
    cc.post(f"/team/api-keys/{key.public_id}/revoke")
    assert client.get("/api/v1/interviews", headers=auth(token)).status_code == 401
    reviewer = login_as(make_user(owner.organisation, role="reviewer"))
    assert reviewer.get("/team/api-keys").status_code == 403


def test_flask_api_key_create_prints_a_working_key(app, owner):
    result = app.test_cli_runner().invoke(args=["api-key", "create", "--org", owner.organisation.name,
                                                "--scopes", "read,invite", "--name", "script"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert app.test_client().get("/api/v1/interviews", headers=auth(token)).status_code == 200
    bad = app.test_cli_runner().invoke(args=["api-key", "create", "--org", owner.organisation.name,
                                             "--scopes", "read,fly", "--name", "x"])
    assert bad.exit_code != 0 and "fly" in bad.output


def test_an_integration_subscribes_rotates_and_disables_its_webhook_endpoint(client, owner, other_app):
    token = make_key(owner, scopes="read,webhooks")
    made = client.post("/api/v1/webhooks", headers=auth(token),
                       json={"url": "https://ats.example.com/oneway", "events": ["candidate.completed"],
                             "description": "ATS"})
    assert made.status_code == 201
    body = made.get_json()
    assert body["secret"].startswith("whsec_") and body["events"] == ["candidate.completed"]
    assert body["active"]
    endpoint_id = body["id"]
    listed = client.get("/api/v1/webhooks", headers=auth(token)).get_json()["data"]
    assert [e["id"] for e in listed] == [endpoint_id] and "secret" not in listed[0]  # shown once
    assert "secret" not in client.get(f"/api/v1/webhooks/{endpoint_id}", headers=auth(token)).get_json()
    rotated = client.post(f"/api/v1/webhooks/{endpoint_id}/rotate-secret", headers=auth(token)).get_json()
    assert rotated["secret"] != body["secret"]
    from app.models import WebhookEndpoint

    row = db.session.execute(db.select(WebhookEndpoint).filter_by(public_id=endpoint_id)).scalar_one()
    assert row.previous_secret == body["secret"] and row.created_by_id == owner.id  # acting for its owner
    off = client.patch(f"/api/v1/webhooks/{endpoint_id}", headers=auth(token), json={"active": False})
    assert off.status_code == 200 and not off.get_json()["active"]
    assert off.get_json()["disabled_reason"] == "Disabled by API key “ATS”."
    on = client.patch(f"/api/v1/webhooks/{endpoint_id}", headers=auth(token), json={"active": True})
    assert on.get_json()["active"] and on.get_json()["disabled_reason"] is None
    # The scope, other organisations, bad input and private addresses are refused as problems.
    no_scope = client.get("/api/v1/webhooks", headers=auth(make_key(owner, scopes="read", name="R")))
    assert no_scope.status_code == 403 and "webhooks" in no_scope.get_json()["detail"]
    stranger = make_key(make_user(role="owner"), scopes="webhooks", name="S")
    assert client.get(f"/api/v1/webhooks/{endpoint_id}", headers=auth(stranger)).status_code == 404
    assert client.get("/api/v1/webhooks", headers=auth(stranger)).get_json()["data"] == []
    bad = client.post("/api/v1/webhooks", headers=auth(token),
                      json={"url": "https://ats.example.com/x", "events": ["candidate.hired"]})
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert "events" in bad.get_json()["errors"]
    strict = other_app(WEBHOOK_ALLOW_PRIVATE=False)
    private = strict.test_client().post("/api/v1/webhooks", headers=auth(token),
                                        json={"url": "https://127.0.0.1/hook", "events": ["answer.ready"]})
    assert private.status_code == 400 and "private" in private.get_json()["detail"]
