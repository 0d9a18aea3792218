"""Retention and erasure: everything about a candidate goes on the date they were given, or at once
when an owner erases it; nobody else's data is touched, and a second purge does nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import locale_format
from app.extensions import db
from app.models import (
    AIEvaluation,
    AISummary,
    Answer,
    Candidate,
    Interview,
    ReReviewRequest,
    SelfIdentification,
    ShareLink,
    ShareView,
    utcnow,
)
from app.services import grading, retention, sharing
from app.storage import answer_key, current_storage
from tests.factories import make_candidate, make_interview, make_media_answer, make_scores, make_user
from tests.helpers import upload_answer


def _keys(app, prefix: str) -> list[str]:
    store = current_storage()
    return sorted(o.object_name for o in store.client.list_objects(store.bucket, prefix=prefix,
                                                                   recursive=True))


def _rows(candidate_id: int) -> dict[str, int]:
    """Rows about one candidate in every table that points at a candidate or at an answer, so a
    table added later and forgotten by the purge shows up here."""
    db.session.expire_all()
    answers = sa.select(Answer.id).where(Answer.candidate_id == candidate_id)
    found = {"candidates": db.session.execute(
        sa.select(sa.func.count()).select_from(Candidate).where(Candidate.id == candidate_id)).scalar_one()}
    for table in db.metadata.sorted_tables:
        about = [table.c.candidate_id == candidate_id] if "candidate_id" in table.c else []
        about += [table.c.answer_id.in_(answers)] if "answer_id" in table.c else []
        if about:
            found[table.name] = db.session.execute(
                sa.select(sa.func.count()).select_from(table).where(sa.or_(*about))).scalar_one()
    return found


def _age(candidate, days: float) -> None:
    candidate.created_at = utcnow() - timedelta(days=days)
    db.session.commit()


def _graded_and_shared(owner, grader, candidates, answer):
    """Scores, a review and a decision on the first candidate, their voluntary self-identification,
    a request for a new review and an AI evaluation and summary; a score link holding all of them,
    with a guest's score and the views logged of the first candidate's page and answer."""
    first = candidates[0]
    make_scores(grader, first, [4])
    grading.decide(owner, first, "advance", "strong answer")
    db.session.add_all([SelfIdentification(candidate_id=first.id, sex="female", race="asian"),
                        ReReviewRequest(candidate_id=first.id, reason="Please look again."),
                        AIEvaluation(answer_id=answer.id, candidate_id=first.id,
                                     question_id=answer.question_id, status="done",
                                     result={"summary": "S", "quotes": [], "scores": {}}, mean=3),
                        AISummary(candidate_id=first.id, status="done", text="An AI summary.")])
    db.session.commit()
    link, token = sharing.create_link(owner, [c.public_id for c in candidates], "score")
    guest = sharing.register_guest(link, "Guest Grader")
    sharing.save_guest_score(link, guest, first, first.interview.questions[0].public_id, "5", "great")
    sharing.log_view(link, "/s/…/c/x", "192.0.2.1", "test", first, guest)
    sharing.log_view(link, "/s/…/media/x/video", "192.0.2.1", "test", first, guest, answer, "video")
    sharing.log_view(link, "/s/…", "192.0.2.1", "test", None, guest)  # the list page: no candidate
    return link, token


@pytest.mark.slow
def test_owner_erasure_removes_every_object_and_row_of_that_candidate_only(
        csrf_client, app, media_dir, run_jobs, login_as):
    owner = make_user(role="owner")
    grader = make_user(org=owner.organisation, role="reviewer")
    interview = make_interview(owner, questions=1)
    cand, token = make_candidate(interview)
    csrf_client.refresh(f"/i/{token}")
    receipt = upload_answer(csrf_client, token, interview.questions[0].public_id,
                            media_dir["webm"].read_bytes())
    assert csrf_client.post(f"/i/{token}/finish", json={}).status_code == 200
    run_jobs()
    run_jobs()  # the candidate package, once the answer is ready
    answer = db.session.execute(db.select(Answer).filter_by(public_id=receipt["answer_id"])).scalar_one()
    assert answer.status == "ready", answer.failure_reason
    store = current_storage()
    # What the early passes leave under the answer, should any remain there.
    for name in ("early-transcript.json", "early-video.json", "video-part-0000.ts", "chunks/000000"):
        store.put_bytes(answer_key(answer.public_id, name), b"{}", "application/octet-stream")
    stored = _keys(app, f"answers/{answer.public_id}/")
    for key in (answer.original_key, answer.mp4_key, answer.poster_key, answer.captions_key):
        assert key in stored
    db.session.refresh(cand)
    assert cand.package_key and store.exists(cand.package_key)
    # Another candidate of the same interview, and one of another organisation.
    other, other_token = make_candidate(interview)
    other_answer = make_media_answer(other, interview.questions[0])
    make_scores(grader, other, [3])
    stranger_owner = make_user(role="owner")
    far, _ = make_candidate(make_interview(stranger_owner, questions=1))
    far_answer = make_media_answer(far, far.interview.questions[0])
    link, share_token = _graded_and_shared(owner, grader, [cand, other], answer)
    before = _rows(cand.id)
    assert all(before.values()), before
    others_before = (_rows(other.id), _rows(far.id))
    cand_id, cand_public_id, interview_id = cand.id, cand.public_id, interview.public_id

    browser = login_as(owner)
    page = browser.get(f"/review/candidates/{cand_public_id}")
    assert f"/review/candidates/{cand_public_id}/erase" in page.get_data(as_text=True)
    confirm = browser.get(f"/review/candidates/{cand_public_id}/erase")
    text = " ".join(confirm.get_data(as_text=True).split())
    assert confirm.status_code == 200
    assert "cannot be undone" in text and "1 recording " in text and "1 decision" in text
    # Without the box ticked nothing happens, and the page says why.
    refused = browser.post(f"/review/candidates/{cand_public_id}/erase", data={})
    assert refused.status_code == 400 and "Tick the box" in refused.get_data(as_text=True)
    assert _rows(cand_id) == before
    done = browser.post(f"/review/candidates/{cand_public_id}/erase", data={"confirm": "yes"})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/interviews/{interview_id}")

    assert _keys(app, f"answers/{receipt['answer_id']}/") == []
    assert _keys(app, f"candidates/{cand_public_id}/") == []
    assert not any(_rows(cand_id).values()), _rows(cand_id)
    # Nobody else's objects or rows were touched; the shared link still holds the other candidate.
    assert (_rows(other.id), _rows(far.id)) == others_before
    for a in (other_answer, far_answer):
        assert store.exists(a.mp4_key)
    assert [c.public_id for c in db.session.get(ShareLink, link.id).candidates] == [other.public_id]
    assert db.session.execute(sa.select(sa.func.count()).select_from(ShareView)
                              .where(ShareView.candidate_id.is_(None))).scalar_one() == 1

    # The candidate's links now say the data is gone (never a 500); staff pages are 404.
    for path in (f"/i/{token}", f"/i/{token}/data"):
        gone = app.test_client().get(path)
        assert gone.status_code == 404 and "data has been deleted" in gone.get_data(as_text=True)
    guest = app.test_client()
    assert guest.get(f"/s/{share_token}/c/{cand_public_id}").status_code == 404
    assert guest.get(f"/s/{share_token}/c/{other.public_id}").status_code == 200
    assert app.test_client().get(f"/i/{other_token}").status_code == 200
    assert browser.get(f"/review/candidates/{cand_public_id}").status_code == 404
    # A second erasure or purge does nothing.
    assert browser.post(f"/review/candidates/{cand_public_id}/erase",
                        data={"confirm": "yes"}).status_code == 404
    assert retention.purge_candidate(cand) is None
    assert retention.purge_expired(utcnow()) == []
    assert _rows(other.id)["answers"] == _rows(far.id)["answers"] == 1


def test_only_an_owner_of_the_organisation_may_erase(app, login_as):
    owner = make_user(role="owner")
    interview = make_interview(owner, questions=1)
    cand, _ = make_candidate(interview)
    answer = make_media_answer(cand, interview.questions[0])
    url = f"/review/candidates/{cand.public_id}/erase"
    for role in ("recruiter", "reviewer"):
        member = login_as(make_user(org=owner.organisation, role=role))
        assert member.get(url).status_code == 403
        refused = member.post(url, data={"confirm": "yes"})
        assert refused.status_code == 403 and "Only owners" in refused.get_data(as_text=True)
        page = member.get(f"/review/candidates/{cand.public_id}").get_data(as_text=True)
        assert url not in page  # no button they may not use
    stranger = login_as(make_user(role="owner"))
    assert stranger.get(url).status_code == 404
    assert stranger.post(url, data={"confirm": "yes"}).status_code == 404
    # A form without its CSRF token is refused with a readable page.
    bare = app.test_client()
    assert login_as(owner).client.post(url, data={"confirm": "yes"}).status_code == 400
    assert bare.post(url, data={"confirm": "yes"}).status_code in (302, 400)
    assert _rows(cand.id)["candidates"] == 1 and current_storage().exists(answer.mp4_key)


def test_flask_purge_expired_purges_only_candidates_past_their_date(app):
    owner = make_user(role="owner")
    short = make_interview(owner, questions=1)
    short.retention_days = 30
    long = make_interview(owner, questions=1)  # 180 days, the default
    made = {name: make_candidate(iv)[0] for name, iv in (("old", short), ("fresh", short), ("kept", long))}
    media = {name: make_media_answer(c, c.interview.questions[0]).mp4_key for name, c in made.items()}
    _age(made["old"], 30.01)
    _age(made["kept"], 31)
    pid = {name: c.public_id for name, c in made.items()}
    ids = {name: c.id for name, c in made.items()}
    store = current_storage()
    runner = app.test_cli_runner()

    dry = runner.invoke(args=["purge-expired", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert pid["old"] in dry.output and "1 candidate(s) due" in dry.output
    assert _rows(ids["old"])["candidates"] == 1 and store.exists(media["old"])

    result = runner.invoke(args=["purge-expired"])
    assert result.exit_code == 0, result.output
    assert f"Purged candidate {pid['old']}: 1 answer(s), 1 stored object(s)" in result.output
    assert "Purged 1 candidate(s)" in result.output
    assert "Ada Lovelace" not in result.output and "@" not in result.output  # ids and counts only
    assert not any(_rows(ids["old"]).values()) and not store.exists(media["old"])
    for name in ("fresh", "kept"):
        assert _rows(ids[name])["answers"] == 1 and store.exists(media[name])

    again = runner.invoke(args=["purge-expired"])
    assert again.exit_code == 0 and "Purged 0 candidate(s)" in again.output

    # Lowering an interview's retention brings its candidates' date forward.
    db.session.get(Interview, long.id).retention_days = 30
    db.session.commit()
    lowered = runner.invoke(args=["purge-expired"])
    assert pid["kept"] in lowered.output and pid["fresh"] not in lowered.output
    assert _rows(ids["kept"])["candidates"] == 0 and _rows(ids["fresh"])["candidates"] == 1
    assert store.exists(media["fresh"])


def test_the_worker_purges_at_most_once_an_hour_and_never_after_the_date(app):
    from app.queue import redis_conn
    from jobs.worker import purge_pass

    interview = make_interview(questions=1)
    interview.retention_days = 10
    db.session.commit()
    # Due in half an hour: the next pass is an hour away, so this one deletes it.
    soon, later, expired = (make_candidate(interview)[0] for _ in range(3))
    _age(soon, 10 - 1 / 48)
    _age(later, 9)
    ids = {"soon": soon.id, "later": later.id, "expired": expired.id}
    conn = redis_conn()
    assert purge_pass(app, conn, 20) is True
    assert _rows(ids["soon"])["candidates"] == 0 and _rows(ids["later"])["candidates"] == 1
    _age(db.session.get(Candidate, ids["expired"]), 11)
    assert purge_pass(app, conn, 20) is False  # another pass ran within the hour
    assert _rows(ids["expired"])["candidates"] == 1
    assert 3500 < conn.ttl("oneway:retention:pass") <= 3600
    conn.delete("oneway:retention:pass")
    assert purge_pass(app, conn, 20) is True
    assert _rows(ids["expired"])["candidates"] == 0 and _rows(ids["later"])["candidates"] == 1


def test_objects_a_running_job_writes_after_the_purge_are_swept_by_the_next_pass(app):
    interview = make_interview(questions=1)
    cand, _ = make_candidate(interview)
    answer = make_media_answer(cand, interview.questions[0])
    public_id = answer.public_id
    purged = retention.purge_candidate(cand)
    assert purged is not None and purged.answers == 1 and purged.objects == 1
    store = current_storage()
    late = answer_key(public_id, "poster.jpg")
    store.put_bytes(late, b"\xff\xd8late", "image/jpeg")
    assert retention.purge_expired(utcnow()) == []
    assert not store.exists(late)


def test_a_purge_cut_short_after_the_objects_went_is_finished_by_the_next_pass(app):
    interview = make_interview(questions=1)
    cand, _ = make_candidate(interview)
    answer = make_media_answer(cand, interview.questions[0])
    _age(cand, 181)
    cand_id, cand_public_id = cand.id, cand.public_id
    # The first step of a purge whose process was then killed: the objects are gone, the rows stay.
    assert current_storage().delete_prefix(f"answers/{answer.public_id}/") == 1
    assert _rows(cand_id)["candidates"] == 1
    purged = retention.purge_expired(utcnow())
    assert [(p.candidate, p.answers, p.objects) for p in purged] == [(cand_public_id, 1, 0)]
    assert not any(_rows(cand_id).values())


def test_delete_prefix_takes_one_folder_and_nothing_beside_it(app):
    store = current_storage()
    for key in ("answers/abc/x", "answers/abc/chunks/000001", "answers/abcd/y", "candidates/abc/z"):
        store.put_bytes(key, b"1", "application/octet-stream")
    for bad in ("", "/", "answers/", "answers/abc", "answers/../abc/", "other/abc/", "answers/a/b/",
                "answers/abc/\n"):
        with pytest.raises(ValueError):
            store.delete_prefix(bad)
    assert store.delete_prefix("answers/abc/") == 2
    assert store.delete_prefix("answers/abc/") == 0
    assert _keys(app, "answers/abcd/") == ["answers/abcd/y"] and store.exists("candidates/abc/z")


def test_candidate_pages_give_the_real_date_and_follow_a_lowered_retention(app):
    interview = make_interview(questions=1)
    interview.retention_days = 90
    db.session.commit()
    cand, token = make_candidate(interview, consent=False)
    client = app.test_client()

    def shown(path: str) -> str:
        return " ".join(client.get(path).get_data(as_text=True).split())

    def day(moment) -> str:  # as the pages write a date: the page's language (English), UTC
        with app.test_request_context(f"/i/{token}"):
            return locale_format.format_day(moment)

    date = day(cand.created_at + timedelta(days=90))
    assert f"deleted by {date}" in shown(f"/i/{token}")
    assert f"Your answers are deleted by {date}" in shown(f"/i/{token}/data")
    interview.retention_days = 5
    db.session.commit()
    date = day(cand.created_at + timedelta(days=5))
    assert f"deleted by {date}" in shown(f"/i/{token}")
    assert f"Your answers are deleted by {date}" in shown(f"/i/{token}/data")


def test_a_share_link_whose_candidates_were_all_erased_says_so(app, login_as):
    owner = make_user(role="owner")
    interview = make_interview(owner, questions=1)
    cand, _ = make_candidate(interview)
    make_media_answer(cand, interview.questions[0])
    link, token = sharing.create_link(owner, [cand.public_id], "view")
    browser = login_as(owner)
    assert browser.post(f"/review/candidates/{cand.public_id}/erase",
                        data={"confirm": "yes"}).status_code == 302
    gone = app.test_client().get(f"/s/{token}")
    assert gone.status_code == 410 and "have been deleted" in gone.get_data(as_text=True)
    staff_page = browser.get(f"/shares/{link.public_id}")
    assert staff_page.status_code == 200 and "None left" in staff_page.get_data(as_text=True)
