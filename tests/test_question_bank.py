"""The organisation's question bank: save from an interview, write one, search, insert, remove; each
organisation sees only its own."""

from __future__ import annotations

from app.extensions import db
from app.models import BankQuestion, Interview
from app.services import interviews
from tests.factories import make_interview, make_user

FORM = {"prompt": "Describe a hard bug you fixed.", "think_seconds": "20", "answer_seconds": "90",
        "max_takes": "3", "kind": "audio"}


def test_save_search_and_insert_a_question_with_its_rubric(app, login_as):
    owner = make_user()
    source, target = make_interview(owner, questions=1), make_interview(owner, questions=1)
    q = source.questions[0]
    interviews.set_rubric(owner, source, q.public_id, "Names the trade-off", "Clarity\nDepth")
    cc = login_as(owner)
    assert cc.post(f"/interviews/{source.public_id}/questions/{q.public_id}/bank", data={}).status_code == 302
    cc.post(f"/interviews/{source.public_id}/questions/{q.public_id}/bank", data={})  # again: refused
    assert "in the bank already" in cc.get(f"/interviews/{source.public_id}").get_data(as_text=True)
    assert db.session.execute(db.select(db.func.count(BankQuestion.id))).scalar_one() == 1
    saved = db.session.execute(db.select(BankQuestion)).scalar_one()
    page = cc.get(f"/bank?q=TELL+us&into={target.public_id}").get_data(as_text=True)
    assert q.prompt in page and "Add to the interview" in page
    assert q.prompt not in cc.get("/bank?q=%25").get_data(as_text=True)  # "%" is a character, not a wildcard
    assert q.prompt not in cc.get("/bank?q=nothing+like+it").get_data(as_text=True)
    resp = cc.post(f"/interviews/{target.public_id}/bank/{saved.public_id}/insert", data={})
    assert resp.status_code == 302
    db.session.expire_all()
    added = db.session.get(Interview, target.id).questions[-1]
    assert (added.prompt, added.ideal_answer, added.criteria, added.position) == (
        q.prompt, "Names the trade-off", ["Clarity", "Depth"], 1)
    assert cc.post(f"/bank/{saved.public_id}/delete", data={}).status_code == 302
    assert db.session.get(Interview, target.id).questions[-1].prompt == q.prompt  # the copy stays


def test_writing_a_bank_question_checks_each_field(app, login_as):
    owner = make_user()
    cc = login_as(owner)
    resp = cc.post("/bank", data={"prompt": "", "think_seconds": "x", "answer_seconds": "2",
                                  "max_takes": "1"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    for field in ("prompt", "think_seconds", "answer_seconds"):
        assert f'id="f-{field}-error"' in html
    assert db.session.execute(db.select(BankQuestion)).first() is None
    assert cc.post("/bank", data=FORM).status_code == 302
    saved = db.session.execute(db.select(BankQuestion)).scalar_one()
    assert (saved.think_seconds, saved.answer_seconds, saved.max_takes, saved.kind) == (20, 90, 3, "audio")


def test_another_organisation_sees_nothing_of_the_bank(app, login_as):
    owner, stranger = make_user(), make_user()
    login_as(owner).post("/bank", data=FORM)
    saved = db.session.execute(db.select(BankQuestion)).scalar_one()
    theirs = make_interview(stranger, questions=1)
    cc = login_as(stranger)
    assert FORM["prompt"] not in cc.get("/bank").get_data(as_text=True)
    insert = cc.post(f"/interviews/{theirs.public_id}/bank/{saved.public_id}/insert", data={})
    assert insert.status_code == 404
    assert cc.post(f"/bank/{saved.public_id}/delete", data={}).status_code == 404
    assert len(db.session.get(Interview, theirs.id).questions) == 1


def test_reviewers_have_no_bank(app, login_as):
    owner = make_user()
    reviewer = make_user(org=owner.organisation, role="reviewer")
    cc = login_as(reviewer)
    assert cc.get("/bank").status_code == 403
    assert cc.post("/bank", data=FORM).status_code == 403
