"""Changing an interview after it exists: settings with a confirm step, questions frozen once
answered (but a typo fix), order, removal, copies, templates, closing and archiving."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import Answer, AuditEvent, Candidate, Interview, Question, utcnow
from app.services import ServiceError, recording, sharing
from tests.factories import make_candidate, make_interview, make_ready_answer, make_user


def _settings(interview, **changes) -> dict:
    form = {"title": interview.title, "intro": interview.intro, "language": interview.language or "",
            "interface_language": interview.interface_language,
            "contact_email": interview.contact_email or "",
            "retention_days": str(interview.retention_days), "accommodations": interview.accommodations,
            "deadline_days": "14"}
    return {**form, **changes}


def _fresh(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


def test_settings_with_bad_fields_name_each_field_and_save_nothing(app, login_as):
    owner = make_user()
    iv = make_interview(owner)
    cc = login_as(owner)
    resp = cc.post(f"/interviews/{iv.public_id}/edit",
                   data=_settings(iv, title="", intro="Changed", retention_days="0", deadline_days="x",
                                  contact_email="nope", language="not a code!"))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    for field in ("title", "retention_days", "deadline_days", "contact_email", "language"):
        assert f'id="f-{field}-error"' in html, field
    assert "An interview needs a title." in html and "between 1 and 3650" in html
    iv = _fresh(Interview, iv.id)
    assert iv.intro == "Welcome." and iv.retention_days == 180  # nothing half-saved


def test_settings_save_at_once_while_nobody_is_invited(app, login_as):
    owner = make_user()
    iv = make_interview(owner)
    resp = login_as(owner).post(f"/interviews/{iv.public_id}/edit",
                                data=_settings(iv, title="Backend engineer", intro="Hi", deadline_days="5",
                                               accommodations="auto"))
    assert resp.status_code == 302
    iv = _fresh(Interview, iv.id)
    assert (iv.title, iv.intro, iv.deadline_days, iv.accommodations) == ("Backend engineer", "Hi", 5, "auto")
    candidate, _ = make_candidate(iv, owner, consent=False)
    assert timedelta(days=4, hours=23) < candidate.expires_at - utcnow() <= timedelta(days=5)
    assert db.session.execute(db.select(AuditEvent).filter_by(action="interview.edited")).scalars().first()


def test_a_change_invited_candidates_notice_is_confirmed_first(app, login_as):
    owner = make_user()
    iv = make_interview(owner)
    old, _ = make_candidate(iv, owner)
    old.created_at = utcnow() - timedelta(days=40)
    make_candidate(iv, owner)
    db.session.commit()
    before = old.delete_by
    cc = login_as(owner)
    form = _settings(iv, intro="New intro", retention_days="30")
    resp = cc.post(f"/interviews/{iv.public_id}/edit", data=form)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "data-confirm-changes" in html
    assert "This change affects 2 candidates already invited" in html
    assert "150 days earlier" in html and "data-due-now" in html and "1 candidate is already past" in html
    assert _fresh(Interview, iv.id).intro == "Welcome."  # not saved before the confirmation
    resp = cc.post(f"/interviews/{iv.public_id}/edit", data={**form, "confirmed": "yes"})
    assert resp.status_code == 302
    iv = _fresh(Interview, iv.id)
    assert iv.intro == "New intro" and iv.retention_days == 30
    assert _fresh(Candidate, old.id).delete_by == before - timedelta(days=150)  # deletion moved forward


def test_a_longer_retention_warns_what_candidates_were_told(app, login_as):
    owner = make_user()
    iv = make_interview(owner)
    make_candidate(iv, owner)
    html = login_as(owner).post(f"/interviews/{iv.public_id}/edit",
                                data=_settings(iv, retention_days="365")).get_data(as_text=True)
    assert "were told 180 days" in html and _fresh(Interview, iv.id).retention_days == 180


def test_an_unanswered_question_changes_freely_even_with_candidates_invited(app, login_as):
    owner = make_user()
    iv = make_interview(owner)
    make_candidate(iv, owner)
    q = iv.questions[0]
    resp = login_as(owner).post(f"/interviews/{iv.public_id}/questions/{q.public_id}/edit",
                                data={"prompt": "Something else entirely", "think_seconds": "10",
                                      "answer_seconds": "60", "max_takes": "3", "kind": "audio"})
    assert resp.status_code == 302
    q = _fresh(Question, q.id)
    assert (q.prompt, q.think_seconds, q.answer_seconds, q.max_takes, q.kind) == (
        "Something else entirely", 10, 60, 3, "audio")
    assert q.edited_at is None


def test_question_form_errors_name_each_field(app, login_as):
    owner = make_user()
    iv = make_interview(owner)
    q = iv.questions[0]
    resp = login_as(owner).post(f"/interviews/{iv.public_id}/questions/{q.public_id}/edit",
                                data={"prompt": "", "think_seconds": "-1", "answer_seconds": "abc",
                                      "max_takes": "99", "kind": "hologram"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    for field in ("prompt", "think_seconds", "answer_seconds", "max_takes", "kind"):
        assert f'id="f-{field}-error"' in html, field
    assert _fresh(Question, q.id).prompt.startswith("Question 1")


def test_an_answered_question_is_frozen_but_a_typo_fix_is_marked_edited(app, login_as):
    owner = make_user()
    iv = make_interview(owner, questions=1)
    q = iv.questions[0]
    q.prompt = "Tell us about a projcet you led."
    db.session.commit()
    candidate, _ = make_candidate(iv, owner)
    take = recording.start_take(candidate, q.public_id, "video/webm")
    assert take.prompt_text == "Tell us about a projcet you led."
    assert take.given_limits == {"think_seconds": 1, "answer_seconds": 30, "max_takes": 2, "kind": "video"}
    cc = login_as(owner)
    url = f"/interviews/{iv.public_id}/questions/{q.public_id}/edit"
    page = cc.get(url).get_data(as_text=True)
    assert "data-frozen" in page and "wording and limits are fixed" in page
    limits = {"think_seconds": "1", "answer_seconds": "30", "max_takes": "2", "kind": "video"}
    resp = cc.post(url, data={**limits, "prompt": q.prompt, "answer_seconds": "90"})
    assert resp.status_code == 409 and 'id="f-answer_seconds-error"' in resp.get_data(as_text=True)
    resp = cc.post(url, data={**limits, "prompt": "Why do you want to work here?"})
    assert resp.status_code == 409 and "only a small correction" in resp.get_data(as_text=True)
    assert _fresh(Question, q.id).answer_seconds == 30 and _fresh(Question, q.id).edited_at is None
    resp = cc.post(url, data={**limits, "prompt": "Tell us about a project you led."})
    assert resp.status_code == 302
    q = _fresh(Question, q.id)
    assert q.prompt == "Tell us about a project you led." and q.edited_at is not None
    assert _fresh(Answer, take.id).prompt_text == "Tell us about a projcet you led."  # kept as given
    # Graders see the mark and the words this candidate was given.
    answer = make_ready_answer(candidate, q, take=2, prompt_text="Tell us about a projcet you led.")
    html = cc.get(f"/review/candidates/{candidate.public_id}").get_data(as_text=True)
    assert "data-edited" in html and "This candidate was asked" in html and "projcet" in html
    assert answer.id
    # So do guests through a share link.
    _link, token = sharing.create_link(owner, [candidate.public_id], "view")
    guest = app.test_client().get(f"/s/{token}/c/{candidate.public_id}").get_data(as_text=True)
    assert "data-edited" in guest and "This candidate was asked" in guest and "projcet" in guest


def test_a_take_keeps_the_limits_with_extra_time(app):
    owner = make_user()
    iv = make_interview(owner, questions=1, think=10, answer=40)
    candidate, _ = make_candidate(iv, owner)
    candidate.time_multiplier, candidate.accommodation_status = 1.5, "granted"
    db.session.commit()
    take = recording.start_take(candidate, iv.questions[0].public_id, "video/webm")
    assert take.given_limits["think_seconds"] == 15 and take.given_limits["answer_seconds"] == 60


def test_questions_move_up_and_down_and_reorder_whole(app, login_as):
    owner = make_user()
    iv = make_interview(owner, questions=3)
    a, b, c = (q.public_id for q in iv.questions)
    cc = login_as(owner)
    resp = cc.post(f"/interviews/{iv.public_id}/questions/{a}/move", data={"direction": "down"})
    assert resp.status_code == 302 and f"moved={a}" in resp.headers["Location"]
    assert [q.public_id for q in _fresh(Interview, iv.id).questions] == [b, a, c]
    page = cc.get(resp.headers["Location"]).get_data(as_text=True)
    assert 'data-move="down" autofocus' in page  # focus stays on the moved question's button
    cc.post(f"/interviews/{iv.public_id}/questions/{c}/move", data={"direction": "up"})
    assert [q.public_id for q in _fresh(Interview, iv.id).questions] == [b, c, a]
    resp = cc.post(f"/interviews/{iv.public_id}/questions/{b}/move", data={"direction": "up"})
    assert resp.status_code == 302  # already first: refused, said in a flash
    assert "already at that end" in cc.get(f"/interviews/{iv.public_id}").get_data(as_text=True)
    cc.client.post(f"/interviews/{iv.public_id}/questions/order",
                   data={"csrf_token": cc.token, "question": [a, b, c]})
    assert [q.public_id for q in _fresh(Interview, iv.id).questions] == [a, b, c]


def test_a_reorder_naming_another_interviews_question_is_refused(app, login_as):
    owner = make_user()
    iv, other = make_interview(owner, questions=2), make_interview(owner, questions=1)
    a, b = (q.public_id for q in iv.questions)
    foreign = other.questions[0].public_id
    cc = login_as(owner)
    for order in ([b, foreign], [b, a, foreign], [a, a], [b]):
        resp = cc.client.post(f"/interviews/{iv.public_id}/questions/order",
                              data={"csrf_token": cc.token, "question": order},
                              headers={"Accept": "application/json"})
        assert resp.status_code == 400, order
        assert "exactly once" in resp.get_json()["error"]
    assert [q.public_id for q in _fresh(Interview, iv.id).questions] == [a, b]
    assert _fresh(Question, other.questions[0].id).interview_id == other.id


def test_an_answered_question_cannot_be_removed_but_an_unanswered_one_can(app, login_as):
    owner = make_user()
    iv = make_interview(owner, questions=3)
    candidate, _ = make_candidate(iv, owner)
    answered, spare = iv.questions[0], iv.questions[2]
    make_ready_answer(candidate, answered)
    cc = login_as(owner)
    page = cc.get(f"/interviews/{iv.public_id}").get_data(as_text=True)
    assert "Remove question 1" not in page and "Remove question 3" in page
    cc.post(f"/interviews/{iv.public_id}/questions/{answered.public_id}/delete", data={})
    cc.post(f"/interviews/{iv.public_id}/questions/{spare.public_id}/delete", data={})
    iv = _fresh(Interview, iv.id)
    assert [q.id for q in iv.questions] == [answered.id, iv.questions[1].id] and len(iv.questions) == 2
    assert [q.position for q in iv.questions] == [0, 1]


def test_duplicate_copies_questions_and_rubrics_without_candidates(app, login_as):
    from app.services import interviews

    owner = make_user()
    iv = make_interview(owner, questions=2)
    interviews.set_rubric(owner, iv, iv.questions[0].public_id, "Clear", "Structure\nDepth")
    make_candidate(iv, owner)
    resp = login_as(owner).post(f"/interviews/{iv.public_id}/duplicate", data={})
    assert resp.status_code == 302
    copy = db.session.execute(db.select(Interview).filter(Interview.id != iv.id)).scalar_one()
    assert copy.title == f"Copy of {iv.title}" and not copy.is_template
    assert [(q.prompt, q.ideal_answer, q.criteria) for q in copy.questions] == [
        (q.prompt, q.ideal_answer, q.criteria) for q in _fresh(Interview, iv.id).questions]
    assert {q.id for q in copy.questions}.isdisjoint({q.id for q in iv.questions})
    assert db.session.execute(db.select(Candidate).filter_by(interview_id=copy.id)).first() is None


def test_templates_are_listed_apart_and_take_no_candidates(app, login_as):
    owner = make_user()
    iv = make_interview(owner)
    cc = login_as(owner)
    assert cc.post(f"/interviews/{iv.public_id}/template", data={}).status_code == 302
    template = db.session.execute(db.select(Interview).filter_by(is_template=True)).scalar_one()
    assert template.title in cc.get("/templates").get_data(as_text=True)
    assert template.title in cc.get("/interviews/new").get_data(as_text=True)
    index = cc.get("/").get_data(as_text=True)
    assert f"/interviews/{template.public_id}\"" not in index
    resp = cc.post(f"/interviews/{template.public_id}/candidates",
                   data={"name": "N", "email": "n@example.com"})
    assert resp.status_code == 302
    assert db.session.execute(db.select(Candidate).filter_by(interview_id=template.id)).first() is None
    resp = cc.post(f"/templates/{template.public_id}/use", data={})
    made = db.session.execute(db.select(Interview).filter(
        Interview.id.not_in([iv.id, template.id]))).scalar_one()
    assert resp.headers["Location"].endswith(f"/interviews/{made.public_id}/edit")
    assert not made.is_template and len(made.questions) == len(iv.questions)


def test_closing_stops_new_starts_but_lets_started_candidates_finish(app, login_as):
    owner = make_user()
    iv = make_interview(owner, questions=1)
    started, _ = make_candidate(iv, owner)
    _, waiting_token = make_candidate(iv, owner, consent=False)
    cc = login_as(owner)
    cc.post(f"/interviews/{iv.public_id}/status", data={"action": "close"})
    assert _fresh(Interview, iv.id).closed_at is not None
    page = cc.get(f"/interviews/{iv.public_id}").get_data(as_text=True)
    assert "data-closed-note" in page and "Create invite link" not in page
    resp = cc.post(f"/interviews/{iv.public_id}/candidates", data={"name": "N", "email": "n@example.com"})
    assert resp.status_code == 302  # refused with a flash
    assert "closed to new candidates" in cc.get(f"/interviews/{iv.public_id}").get_data(as_text=True)
    guest = app.test_client()
    landing = guest.get(f"/i/{waiting_token}").get_data(as_text=True)
    assert "data-closed" in landing and 'name="consent"' not in landing
    take = recording.start_take(_fresh(Candidate, started.id), iv.questions[0].public_id, "video/webm")
    assert take.id  # the one who started may go on
    cc.post(f"/interviews/{iv.public_id}/status", data={"action": "reopen"})
    assert _fresh(Interview, iv.id).closed_at is None
    assert 'name="consent"' in guest.get(f"/i/{waiting_token}").get_data(as_text=True)


def test_consent_is_refused_while_closed(app):
    owner = make_user()
    iv = make_interview(owner, questions=1)
    candidate, _ = make_candidate(iv, owner, consent=False)
    iv.closed_at = utcnow()
    db.session.commit()
    with pytest.raises(ServiceError) as refused:
        recording.give_consent(_fresh(Candidate, candidate.id))
    assert refused.value.status == 409
    assert _fresh(Candidate, candidate.id).consent_at is None


def test_archived_interviews_leave_the_default_list_and_keep_their_data(app, login_as):
    owner = make_user()
    iv, kept = make_interview(owner), make_interview(owner)
    make_candidate(iv, owner)
    cc = login_as(owner)
    cc.post(f"/interviews/{iv.public_id}/status", data={"action": "archive"})
    iv = _fresh(Interview, iv.id)
    assert iv.archived_at is not None and iv.closed_at is not None
    index = cc.get("/").get_data(as_text=True)
    assert iv.title not in index and kept.title in index
    assert iv.title in cc.get("/?archived=1").get_data(as_text=True)
    assert db.session.execute(db.select(Candidate).filter_by(interview_id=iv.id)).first() is not None
    cc.post(f"/interviews/{iv.public_id}/status", data={"action": "unarchive"})
    iv = _fresh(Interview, iv.id)
    assert iv.archived_at is None and iv.closed_at is not None  # back in the list, still closed


def test_reviewers_cannot_change_anything(app, login_as):
    owner = make_user()
    iv = make_interview(owner)
    reviewer = make_user(org=owner.organisation, role="reviewer")
    cc = login_as(reviewer)
    q = iv.questions[0].public_id
    assert cc.get(f"/interviews/{iv.public_id}/edit").status_code == 403
    assert cc.post(f"/interviews/{iv.public_id}/edit", data=_settings(iv, title="X")).status_code == 403
    move = cc.post(f"/interviews/{iv.public_id}/questions/{q}/move", data={"direction": "down"})
    assert move.status_code == 403
    assert cc.post(f"/interviews/{iv.public_id}/status", data={"action": "close"}).status_code == 403
    page = cc.get(f"/interviews/{iv.public_id}").get_data(as_text=True)
    assert "data-move" not in page and "Edit settings" not in page
    assert _fresh(Interview, iv.id).title == iv.title


def test_the_new_interview_form_names_every_bad_field_and_creates_nothing(app, login_as):
    owner = make_user()
    resp = login_as(owner).post("/interviews/new", data={
        "title": "", "retention_days": "0", "contact_email": "nope", "prompt": "Why us?",
        "think_seconds": "x", "answer_seconds": "60", "max_takes": "2"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    for field in ("title", "retention_days", "contact_email", "think_seconds"):
        assert f'id="f-{field}-error"' in html, field
    assert db.session.execute(db.select(Interview)).first() is None


def test_a_new_interviews_spoken_language_starts_set_so_transcription_does_not_guess(app, login_as):
    """Detection on a short or accented answer can pick the wrong language (issue 20): the form starts
    with the author's browser's language, else English; clearing it still means detect."""
    cc = login_as(make_user())
    french = cc.client.get("/interviews/new", headers={"Accept-Language": "fr-CA,fr;q=0.9,en;q=0.5"})
    assert re.search(r'name="language"[^>]*value="fr"', french.get_data(as_text=True))
    plain = cc.client.get("/interviews/new", headers={"Accept-Language": "*"})
    assert re.search(r'name="language"[^>]*value="en"', plain.get_data(as_text=True))
