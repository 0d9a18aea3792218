"""Question kinds (video, audio only, written), extra time, limits held by the server, consent."""

from __future__ import annotations

from datetime import timedelta

from app.extensions import db
from app.models import Answer, Candidate, Question
from app.services.recording import NOTICE_VERSION
from app.states import AnswerStatus
from tests.factories import make_candidate, make_interview, make_user
from tests.helpers import redis_away, upload_answer


def _kinds(interview, *kinds):
    for q, kind in zip(interview.questions, kinds, strict=True):
        q.kind = kind
    db.session.commit()


def test_a_written_answer_and_the_finish_while_redis_is_away_are_kept_and_queued_later(csrf_client, app):
    """Both are committed before anything is queued: Redis failing then is no 500, and the workers'
    pass queues the AI evaluation left waiting."""
    from app.models import AIEvaluation
    from app.services import ai_evaluation

    interview = make_interview(questions=1, takes=1)
    interview.ai_evaluation = True
    _kinds(interview, "written")
    _cand, token = make_candidate(interview)
    csrf_client.refresh(f"/i/{token}")
    qid = interview.questions[0].public_id
    take = csrf_client.post(f"/i/{token}/questions/{qid}/takes", json={"content_type": "text/plain"})
    answer_id = take.get_json()["answer_id"]
    with redis_away(app):
        ok = csrf_client.post(f"/i/{token}/answers/{answer_id}/written", json={"text": "I like Python."})
        assert ok.status_code == 200, ok.get_data(as_text=True)
        assert csrf_client.post(f"/i/{token}/finish", json={}).status_code == 200
    row = db.session.execute(db.select(AIEvaluation)).scalar_one()
    assert row.status == "queued" and ai_evaluation.reconcile(min_age_s=0) == 1


def test_a_package_whose_job_was_lost_at_the_finish_is_queued_by_the_workers_pass(csrf_client, app):
    """The finish while Redis is away commits the interview as complete but cannot queue its
    package; the workers' pass queues it once (not again while it waits), and it is built."""
    from rq import Queue

    import jobs
    import jobs.package
    from app.queue import MEDIA_QUEUE, redis_conn
    from app.services import pipeline

    interview = make_interview(questions=1, takes=1)
    _kinds(interview, "written")
    cand, token = make_candidate(interview)
    other, _token = make_candidate(interview)  # completed, but its answer failed: no package
    csrf_client.refresh(f"/i/{token}")
    qid = interview.questions[0].public_id
    take = csrf_client.post(f"/i/{token}/questions/{qid}/takes", json={"content_type": "text/plain"})
    answer_id = take.get_json()["answer_id"]
    written = csrf_client.post(f"/i/{token}/answers/{answer_id}/written", json={"text": "Hello."})
    assert written.status_code == 200
    with redis_away(app):
        assert csrf_client.post(f"/i/{token}/finish", json={}).status_code == 200
    db.session.add(Answer(candidate_id=other.id, question_id=interview.questions[0].id, take=1,
                          status=AnswerStatus.FAILED, content_type="video/webm"))
    other.status, other.completed_at = "completed", cand.completed_at
    db.session.commit()
    media = Queue(MEDIA_QUEUE, connection=redis_conn())
    assert not [j for j in media.job_ids if j.startswith("package-")]
    app.config["RECONCILE_MIN_AGE_SECONDS"], age = 0, app.config["RECONCILE_MIN_AGE_SECONDS"]
    try:  # `flask reconcile` runs the workers' pass once
        out = app.test_cli_runner().invoke(args=["reconcile"]).output
    finally:
        app.config["RECONCILE_MIN_AGE_SECONDS"] = age
    assert f"Queued 1 candidate package(s): {cand.public_id}" in out, out
    assert pipeline.reconcile_packages(min_age_s=0) == []  # queued: not twice
    packages = [j for j in media.job_ids if j.startswith("package-")]
    assert packages == [f"package-{cand.id}-{cand.answers[0].id}"]
    jobs.use_app(app)
    try:
        jobs.package.run(cand.id)
    finally:
        jobs.use_app(None)
    db.session.expire_all()
    assert db.session.get(Candidate, cand.id).package_key
    assert pipeline.reconcile_packages(min_age_s=0) == []


def test_written_answer_is_ready_at_once_and_counts_a_take(csrf_client, app):
    interview = make_interview(questions=1, takes=1)
    _kinds(interview, "written")
    _cand, token = make_candidate(interview)
    csrf_client.refresh(f"/i/{token}")
    qid = interview.questions[0].public_id
    assert csrf_client.post(f"/i/{token}/questions/{qid}/takes",
                            json={"content_type": "video/webm"}).status_code == 409
    take = csrf_client.post(f"/i/{token}/questions/{qid}/takes", json={"content_type": "text/plain"})
    answer_id = take.get_json()["answer_id"]
    empty = csrf_client.post(f"/i/{token}/answers/{answer_id}/written", json={"text": "  "})
    assert empty.status_code == 400 and "Write your answer" in empty.get_json()["error"]
    chunk = csrf_client.put(f"/i/{token}/answers/{answer_id}/chunks/0", data=b"x")
    assert chunk.status_code == 409
    ok = csrf_client.post(f"/i/{token}/answers/{answer_id}/written", json={"text": "I like Python."})
    assert ok.status_code == 200 and ok.get_json()["bytes"] == len("I like Python.")
    answer = db.session.execute(db.select(Answer).filter_by(public_id=answer_id)).scalar_one()
    assert answer.status == AnswerStatus.READY and answer.transcript["text"] == "I like Python."
    again = csrf_client.post(f"/i/{token}/answers/{answer_id}/written", json={"text": "changed"})
    assert again.status_code == 409
    more = csrf_client.post(f"/i/{token}/questions/{qid}/takes", json={"content_type": "text/plain"})
    assert more.status_code == 409  # the only take is used
    assert csrf_client.post(f"/i/{token}/finish", json={}).status_code == 200


def test_written_answer_after_its_time_is_refused(csrf_client, app):
    interview = make_interview(questions=1, answer=60)
    _kinds(interview, "written")
    _cand, token = make_candidate(interview)
    csrf_client.refresh(f"/i/{token}")
    qid = interview.questions[0].public_id
    answer_id = csrf_client.post(f"/i/{token}/questions/{qid}/takes",
                                 json={"content_type": "text/plain"}).get_json()["answer_id"]
    answer = db.session.execute(db.select(Answer).filter_by(public_id=answer_id)).scalar_one()
    answer.created_at = answer.created_at - timedelta(seconds=120)
    db.session.commit()
    late = csrf_client.post(f"/i/{token}/answers/{answer_id}/written", json={"text": "Too late"})
    assert late.status_code == 422 and "ran out" in late.get_json()["error"]
    db.session.refresh(answer)
    assert answer.status == AnswerStatus.RECORDING and answer.written_text is None


def test_audio_question_takes_sound_recordings(csrf_client, app, media_dir):
    interview = make_interview(questions=1)
    _kinds(interview, "audio")
    _cand, token = make_candidate(interview)
    csrf_client.refresh(f"/i/{token}")
    qid = interview.questions[0].public_id
    assert csrf_client.post(f"/i/{token}/questions/{qid}/takes",
                            json={"content_type": "text/plain"}).status_code == 409
    receipt = upload_answer(csrf_client, token, qid, media_dir["webm"].read_bytes(),
                            content_type="audio/webm;codecs=opus")
    assert receipt["bytes"] > 0


def test_extra_time_granted_at_once_doubles_every_limit(csrf_client, app):
    owner = make_user()
    interview = make_interview(owner, questions=2, think=10, answer=30)
    interview.accommodations = "auto"
    db.session.commit()
    _cand, token = make_candidate(interview, owner, consent=False)
    csrf_client.refresh(f"/i/{token}")
    bad = csrf_client.post(f"/i/{token}/accommodation", data={"factor": "5"})
    assert bad.status_code == 400 and "1.5 times or 2 times" in bad.get_data(as_text=True)
    assert 'id="extra-error"' in bad.get_data(as_text=True)  # shown at the form it is about
    resp = csrf_client.post(f"/i/{token}/accommodation", data={"factor": "2", "note": "dyslexia"})
    assert resp.status_code == 302
    page = csrf_client.get(f"/i/{token}").get_data(as_text=True)
    assert 'data-accommodation="granted"' in page and "2 times the time" in page
    state = csrf_client.get(f"/i/{token}/state").get_json()
    assert [(q["think_seconds"], q["answer_seconds"]) for q in state["questions"]] == [(20, 60)] * 2


def test_extra_time_reviewed_by_the_owner(csrf_client, app):
    from tests.helpers import CsrfClient

    owner = make_user()
    interview = make_interview(owner, questions=1, answer=30)
    cand, token = make_candidate(interview, owner, consent=False)
    csrf_client.refresh(f"/i/{token}")
    csrf_client.post(f"/i/{token}/accommodation", data={"factor": "1.5"})
    assert 'data-accommodation="requested"' in csrf_client.get(f"/i/{token}").get_data(as_text=True)
    staff = CsrfClient(app.test_client())
    staff.login(owner.email)
    page = staff.get(f"/interviews/{interview.public_id}").get_data(as_text=True)
    assert "data-extra-time-requests" in page and "Ada Lovelace asks for 1.5× the time" in page
    resp = staff.post(f"/interviews/{interview.public_id}/candidates/{cand.public_id}/extra-time",
                      data={"decision": "grant"})
    assert resp.status_code == 302
    cand = db.session.get(Candidate, cand.id)
    db.session.refresh(cand)
    assert cand.accommodation_status == "granted" and cand.time_multiplier == 1.5
    state = csrf_client.get(f"/i/{token}/state").get_json()
    assert state["questions"][0]["answer_seconds"] == 45
    # Another organisation cannot decide on it.
    other = CsrfClient(app.test_client())
    other.login(make_user().email)
    resp = other.post(f"/interviews/{interview.public_id}/candidates/{cand.public_id}/extra-time",
                      data={"decision": "decline"})
    assert resp.status_code == 404


def test_extra_time_must_be_asked_before_the_first_answer(csrf_client, app, media_dir):
    cand, token = make_candidate(make_interview(questions=2))
    csrf_client.refresh(f"/i/{token}")
    upload_answer(csrf_client, token, cand.interview.questions[0].public_id,
                  media_dir["webm"].read_bytes())
    resp = csrf_client.post(f"/i/{token}/accommodation", data={"factor": "2"})
    assert resp.status_code == 409


def test_recording_longer_than_allowed_is_refused_with_its_reason(csrf_client, app, media_dir,
                                                                  run_jobs):
    interview = make_interview(questions=1, answer=5)
    _cand, token = make_candidate(interview)
    csrf_client.refresh(f"/i/{token}")
    receipt = upload_answer(csrf_client, token, interview.questions[0].public_id,
                            media_dir["long"].read_bytes(), duration_ms=12500)
    run_jobs()
    db.session.expire_all()
    answer = db.session.execute(db.select(Answer).filter_by(public_id=receipt["answer_id"])).scalar_one()
    assert answer.status == AnswerStatus.FAILED
    assert "more than the 8 s allowed" in answer.failure_reason


def test_consent_records_the_notice_version_and_landing_shows_retention(csrf_client, app):
    interview = make_interview(questions=1)
    interview.retention_days, interview.contact_email = 90, "talent@example.com"
    db.session.commit()
    cand, token = make_candidate(interview, consent=False)
    page = csrf_client.get(f"/i/{token}").get_data(as_text=True)
    assert "kept for\n     90 days" in page or "kept for 90 days" in " ".join(page.split())
    assert "talent@example.com" in page and NOTICE_VERSION in page
    csrf_client.refresh(f"/i/{token}")
    csrf_client.post(f"/i/{token}/consent", data={"consent": "yes"})
    db.session.refresh(cand)
    assert cand.consent_notice_version == NOTICE_VERSION


def test_authoring_sets_kind_retention_and_policy(csrf_client, app):
    from app.models import Interview

    owner = make_user()
    csrf_client.login(owner.email)
    resp = csrf_client.post("/interviews/new", data={
        "title": "Writer", "prompt": "Write a haiku", "think_seconds": "5", "answer_seconds": "120",
        "max_takes": "1", "kind": "written", "retention_days": "30", "accommodations": "auto",
        "contact_email": "hr@example.com"})
    assert resp.status_code == 302
    interview = db.session.execute(db.select(Interview).filter_by(title="Writer")).scalar_one()
    assert (interview.retention_days, interview.accommodations, interview.contact_email) == (
        30, "auto", "hr@example.com")
    kind = db.select(Question.kind).filter_by(interview_id=interview.id)
    assert db.session.execute(kind).scalar_one() == "written"
    bad = csrf_client.post("/interviews/new", data={"title": "X", "retention_days": "0"})
    assert bad.status_code == 400


def test_declining_says_whom_to_contact_and_records_nothing(client, app):
    interview = make_interview(questions=1)
    interview.contact_email = "talent@example.com"
    db.session.commit()
    cand, token = make_candidate(interview, consent=False)
    assert f"/i/{token}/decline" in client.get(f"/i/{token}").get_data(as_text=True)
    page = client.get(f"/i/{token}/decline").get_data(as_text=True)
    assert 'data-contact' in page and "talent@example.com" in page
    db.session.refresh(cand)
    assert cand.consent_at is None and cand.status == "invited"
