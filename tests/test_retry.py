"""Processing an answer again: only owners and recruiters may, since the answer is hidden from every
grader until it is done, and each time is recorded in the audit log."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import Answer, AuditEvent
from app.states import AnswerStatus
from tests.factories import make_candidate, make_interview, make_media_answer, make_user


def _events(org_id: int) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.execute(sa.select(AuditEvent).filter_by(org_id=org_id)
                                   .order_by(AuditEvent.id)).scalars())


def test_hardening_only_owners_and_recruiters_process_an_answer_again(app, login_as):
    owner = make_user(role="owner")
    recruiter = make_user(org=owner.organisation, role="recruiter")
    reviewer = make_user(org=owner.organisation, role="reviewer")
    interview = make_interview(owner, questions=1)
    cand, _ = make_candidate(interview)
    answer = make_media_answer(cand, interview.questions[0], original_key="answers/x/original.webm")
    url = f"/review/answers/{answer.public_id}/retry"
    before = len(_events(owner.org_id))

    rc = login_as(reviewer)
    assert url not in rc.get(f"/review/candidates/{cand.public_id}").get_data(as_text=True)
    refused = rc.post(url)
    assert refused.status_code == 403
    assert "Only owners and recruiters" in refused.get_data(as_text=True)
    assert len(_events(owner.org_id)) == before
    assert db.session.get(Answer, answer.id).status == AnswerStatus.READY  # still there for every grader

    oc = login_as(recruiter)
    assert url in oc.get(f"/review/candidates/{cand.public_id}").get_data(as_text=True)
    assert oc.post(url).status_code == 302
    assert db.session.get(Answer, answer.id).status == AnswerStatus.UPLOADED
    event = _events(owner.org_id)[-1]
    assert (event.action, event.actor_id, event.subject_kind, event.subject_id) == (
        "answer.retried", recruiter.id, "candidate", cand.public_id)
    assert event.detail == {"answer": answer.public_id, "question": 1}

    # The operator's command line may too, and is recorded as such.
    other = make_media_answer(cand, interview.questions[0], take=2, original_key="answers/y/original.webm")
    result = app.test_cli_runner().invoke(args=["retry-answer", other.public_id])
    assert result.exit_code == 0, result.output
    event = _events(owner.org_id)[-1]
    assert (event.action, event.actor_id, event.actor_label, event.detail["answer"]) == (
        "answer.retried", None, "Operator (command line)", other.public_id)


def test_public_ids_never_start_with_a_dash_which_command_lines_read_as_an_option():
    from app.models.base import new_public_id

    ids = [new_public_id() for _ in range(5000)]  # about 78 would start with "-" if nothing stopped it
    assert not [i for i in ids if i.startswith("-")]
    assert len(set(ids)) == len(ids) and {len(i) for i in ids} == {16}
