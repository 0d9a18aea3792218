"""What candidates do themselves: the voluntary form after finishing, withdrawal, deletion on a
countdown they can cancel (erased by the retention pass at the end, every object and row), a
rejection's message and a request for a new review; and the landing page's "How you are assessed"."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent, Candidate, SelfIdentification, utcnow
from app.services import grading, retention
from app.storage import current_storage
from tests.factories import (
    make_candidate,
    make_interview,
    make_media_answer,
    make_scores,
    make_user,
    mark_completed,
)
from tests.test_retention import _keys, _rows


def _finished(owner=None, questions=1):
    owner = owner or make_user(role="owner")
    iv = make_interview(owner, questions=questions)
    cand, token = make_candidate(iv)
    return owner, cand, token


def test_the_voluntary_form_opens_only_after_finishing_and_defaults_to_prefer_not_to_say(app, csrf_client):
    _owner, cand, token = _finished()
    # Before finishing: no form, and a post is refused without storing anything.
    assert csrf_client.get(f"/i/{token}/about-you").status_code == 302
    csrf_client.refresh(f"/i/{token}")
    assert csrf_client.post(f"/i/{token}/about-you", data={"sex": "female"}).status_code == 302
    assert db.session.execute(sa.select(SelfIdentification)).first() is None
    mark_completed(cand)
    done = csrf_client.get(f"/i/{token}/done").get_data(as_text=True)
    assert f"/i/{token}/about-you" in done
    form = csrf_client.get(f"/i/{token}/about-you").get_data(as_text=True)
    assert 'id="sex-none" name="sex" value="" checked' in form
    assert 'id="race-none" name="race" value="" checked' in form
    assert "Hispanic or Latino" in form
    bad = csrf_client.post(f"/i/{token}/about-you", data={"sex": "robot", "race": ""})
    assert bad.status_code == 400 and "Choose one of the options" in bad.get_data(as_text=True)
    # Nothing chosen is "prefer not to say": stored as unknown.
    assert csrf_client.post(f"/i/{token}/about-you", data={"sex": "", "race": ""}).status_code == 302
    row = db.session.execute(sa.select(SelfIdentification)).scalar_one()
    assert (row.sex, row.race) == (None, None)
    chosen = csrf_client.post(f"/i/{token}/about-you", data={"sex": "female", "race": "asian"})
    assert chosen.status_code == 302
    db.session.refresh(row)
    assert (row.sex, row.race) == ("female", "asian")
    data = csrf_client.get(f"/i/{token}/data").get_data(as_text=True)
    assert "Asian (not Hispanic or Latino)" in data


def test_a_deletion_request_counts_down_can_be_cancelled_and_then_erases_everything(
        app, csrf_client, login_as):
    owner, cand, token = _finished()
    cand.interview.organisation.deletion_countdown_days = 10
    answer = make_media_answer(cand, cand.interview.questions[0])
    mark_completed(cand)
    make_scores(owner, cand, [4])
    db.session.add(SelfIdentification(candidate_id=cand.id, sex="male", race="white"))
    db.session.commit()
    cand_id, public_id, answer_id = cand.id, cand.public_id, answer.public_id
    csrf_client.refresh(f"/i/{token}/data")
    unconfirmed = csrf_client.post(f"/i/{token}/deletion", data={})
    assert unconfirmed.status_code == 400 and "Tick the box" in unconfirmed.get_data(as_text=True)
    assert csrf_client.post(f"/i/{token}/deletion", data={"confirm": "yes"}).status_code == 302
    db.session.refresh(cand)
    assert cand.deletion_due_at - cand.deletion_requested_at == timedelta(days=10)
    page = csrf_client.get(f"/i/{token}/data").get_data(as_text=True)
    assert "10 days left" in page and f"/i/{token}/deletion/cancel" in page
    # The owner is told, in the list of requests and on the candidate's page, with the button.
    home = login_as(owner).get("/").get_data(as_text=True)
    assert 'data-request="deletion"' in home
    queue = login_as(owner).get(f"/interviews/{cand.interview.public_id}/queue").get_data(as_text=True)
    assert "data-deletion-asked" in queue
    staff_page = login_as(owner).get(f"/review/candidates/{public_id}").get_data(as_text=True)
    assert f"/review/candidates/{public_id}/erase" in staff_page and "unless they cancel" in staff_page
    # Cancelled: nothing is due; asked again: due again.
    assert csrf_client.post(f"/i/{token}/deletion/cancel", data={}).status_code == 302
    db.session.refresh(cand)
    assert cand.deletion_due_at is None
    assert retention.purge_expired(utcnow() + timedelta(days=11)) == []
    assert csrf_client.post(f"/i/{token}/deletion", data={"confirm": "yes"}).status_code == 302
    db.session.refresh(cand)
    due = cand.deletion_due_at
    # A clock we control: a minute before the date nothing goes; at the date, everything.
    assert retention.purge_expired(due - timedelta(minutes=1)) == []
    before = _rows(cand_id)
    assert before["candidates"] == before["self_identifications"] == before["scores"] == 1
    assert current_storage().exists(answer.mp4_key)
    purged = retention.purge_expired(due)
    assert [p.candidate for p in purged] == [public_id]
    assert not any(_rows(cand_id).values()), _rows(cand_id)
    assert _keys(app, f"answers/{answer_id}/") == [] and _keys(app, f"candidates/{public_id}/") == []
    assert db.session.execute(sa.select(sa.func.count()).select_from(SelfIdentification)).scalar_one() == 0
    gone = app.test_client().get(f"/i/{token}/data")
    assert gone.status_code == 404
    actions = set(db.session.execute(sa.select(AuditEvent.action)).scalars())
    assert {"candidate.deletion_requested", "candidate.deletion_cancelled",
            "candidate.purged_on_request"} <= actions


def test_withdrawing_keeps_the_data_and_stops_the_recording(app, csrf_client, login_as):
    owner = make_user(role="owner")
    iv = make_interview(owner)
    cand, token = make_candidate(iv)
    csrf_client.refresh(f"/i/{token}/data")
    assert csrf_client.post(f"/i/{token}/withdraw", data={}).status_code == 400
    assert csrf_client.post(f"/i/{token}/withdraw", data={"confirm": "yes"}).status_code == 302
    db.session.refresh(cand)
    assert cand.withdrawn_at is not None and db.session.get(Candidate, cand.id) is not None
    assert csrf_client.get(f"/i/{token}/record").headers["Location"].endswith(f"/i/{token}/data")
    assert "You withdrew" in csrf_client.get(f"/i/{token}/data").get_data(as_text=True)
    page = login_as(owner).get(f"/review/candidates/{cand.public_id}").get_data(as_text=True)
    assert 'data-request="withdrawn"' in page
    # The queue says so beside the candidate's status, to graders too, and only for that candidate.
    other, _ = make_candidate(iv)
    reviewer = login_as(make_user(org=owner.organisation, role="reviewer"))
    html = reviewer.get(f"/interviews/{iv.public_id}/queue").get_data(as_text=True)
    rows = {row.split('"')[0]: row for row in html.split('<tr data-candidate="')[1:]}
    assert "data-withdrawn" in rows[cand.public_id] and "data-withdrawn" not in rows[other.public_id]


def test_a_rejection_message_is_shown_and_a_new_review_reaches_the_owner(app, csrf_client, login_as):
    owner, cand, token = _finished()
    mark_completed(cand)
    csrf_client.refresh(f"/i/{token}/data")
    # No decision told yet: nothing to ask about.
    assert csrf_client.post(f"/i/{token}/rereview", data={"reason": "x"}).status_code == 409
    browser = login_as(owner)
    refused = browser.post(f"/review/candidates/{cand.public_id}/decision",
                           data={"value": "advance", "candidate_message": "Welcome"}, follow_redirects=True)
    assert "with a rejection only" in refused.get_data(as_text=True)
    browser.post(f"/review/candidates/{cand.public_id}/decision",
                 data={"value": "reject", "note": "internal: weak on Q1",
                       "candidate_message": "Thank you; we chose others this time."})
    page = csrf_client.get(f"/i/{token}/data").get_data(as_text=True)
    assert "we chose others this time" in page and "internal: weak on Q1" not in page
    assert csrf_client.post(f"/i/{token}/rereview", data={"reason": "My sound failed."}).status_code == 302
    assert csrf_client.post(f"/i/{token}/rereview", data={"reason": "again"}).status_code == 409
    home = browser.get("/").get_data(as_text=True)
    assert 'data-request="rereview"' in home
    staff_page = browser.get(f"/review/candidates/{cand.public_id}").get_data(as_text=True)
    assert "My sound failed." in staff_page
    reviewer = login_as(make_user(org=owner.organisation, role="reviewer"))
    graders_page = reviewer.get(f"/review/candidates/{cand.public_id}").get_data(as_text=True)
    assert "My sound failed." not in graders_page
    assert browser.post(f"/review/candidates/{cand.public_id}/rereview/answered", data={}).status_code == 302
    assert 'data-request="rereview"' not in browser.get("/").get_data(as_text=True)
    assert grading.decisions(cand)[0].candidate_message.startswith("Thank you")


def test_how_you_are_assessed_follows_the_interviews_settings(app, client):
    owner = make_user(role="owner")
    iv = make_interview(owner)
    _cand, token = make_candidate(iv, consent=False)
    page = client.get(f"/i/{token}").get_data(as_text=True)
    assert 'data-section="assessed"' in page and "watch your answers" in page
    assert "no analysis of your face, your emotions or your voice" in page
    assert "A person decides" in page and "Privacy notice version 2026-12" in page
    iv.review_media, iv.anonymous = "transcript", True
    db.session.commit()
    page = client.get(f"/i/{token}").get_data(as_text=True)
    assert "read a transcript" in page and "without your name" in page


def test_the_own_download_holds_scores_with_graders_unnamed_only_where_the_organisation_shares_them(
        app, client, login_as):
    import csv
    import io
    import json
    import zipfile

    owner, cand, token = _finished(questions=2)
    grader = make_user(org=owner.organisation, role="reviewer")
    grader.name = "Grace Hopper-Grader"
    for q in cand.interview.questions:
        make_media_answer(cand, q)
    mark_completed(cand)
    make_scores(grader, cand, [4, 2])
    grading.decide(owner, cand, "reject", "internal note", "We chose others.")

    def files():
        body = client.get(f"/i/{token}/export.zip").get_data()
        with zipfile.ZipFile(io.BytesIO(body)) as zf:
            return {n: zf.read(n).decode("utf-8", "replace") for n in zf.namelist()
                    if not n.endswith(".mp4")}

    hidden = files()
    assert not any(n.startswith("outcome/") for n in hidden)
    assert "Grace Hopper-Grader" not in "".join(hidden.values())
    assert json.loads(hidden["your-details.json"])["message_from_the_company"] == "We chose others."
    cand.interview.organisation.share_outcome = True
    db.session.commit()
    shared = files()
    rows = list(csv.DictReader(io.StringIO(shared["outcome/scores.csv"])))
    found = [(r["question"], r["grader"], r["score"]) for r in rows]
    assert found == [("1", "Grader 1", "4"), ("2", "Grader 1", "2")]
    assert json.loads(shared["outcome/decision.json"])["decision"] == "reject"
    everything = "".join(shared.values())
    assert "Grace Hopper-Grader" not in everything and "internal note" not in everything
    assert "comment 4" not in everything  # graders' comments are written for the team


def test_a_rejection_message_and_a_deletion_request_are_emailed_in_the_candidates_language(
        app, csrf_client, login_as, mailbox, run_jobs):
    owner, cand, token = _finished()
    cand.locale = "fr"
    mark_completed(cand)
    db.session.commit()
    browser = login_as(owner)
    browser.post(f"/review/candidates/{cand.public_id}/decision", data={"value": "hold", "note": "maybe"})
    browser.post(f"/review/candidates/{cand.public_id}/decision",
                 data={"value": "reject", "note": "internal: weak on Q1",
                       "candidate_message": "Merci ; nous avons choisi d'autres profils cette fois."})
    run_jobs()
    [told] = mailbox.messages()  # the hold and the note say nothing to the candidate
    assert told["To"].addresses[0].addr_spec == cand.email
    assert told["Subject"] == f"À propos de votre candidature pour {cand.interview.title}"
    text = told.get_body(("plain",)).get_content()
    assert "nous avons choisi d'autres profils" in text and "internal" not in text
    link = re.search(r"https?://\S+/i/(\S+)/data", text)
    assert link and link.group(1) == token  # the stored row held no working link; the sent one works
    assert "autres profils cette fois" in csrf_client.get(f"/i/{token}/data").get_data(as_text=True)

    csrf_client.refresh(f"/i/{token}/data")
    assert csrf_client.post(f"/i/{token}/deletion", data={"confirm": "yes"}).status_code == 302
    run_jobs()
    deletion = mailbox.messages()[-1]
    db.session.refresh(cand)
    day = f"{cand.deletion_due_at.day} "
    assert deletion["Subject"].strip().startswith("Vos données pour") and day in deletion["Subject"]
    text = deletion.get_body(("plain",)).get_content()
    assert f"/i/{token}/data" in text and "annuler" in text
    assert len(mailbox.messages()) == 2
