"""Outreach through the routes and a real SMTP server: the invitation's template and preview, e-mail
in the candidate's language, inviting a list (and every kind of bad list), a new link, moving
deadlines, reminders on a clock the test controls, staff notifications that respect anonymity, and
the queue's outreach statuses."""

from __future__ import annotations

import html
import io
import re
from datetime import timedelta

from app.extensions import db
from app.models import Candidate, Interview, MailKind, OutboxMessage, User, utcnow
from app.services import reminders
from app.states import MailStatus
from tests.factories import make_interview, make_user

LINK = re.compile(r"https?://\S+/i/([A-Za-z0-9_-]{43})")


def _setup(login_as, **kw):
    owner = make_user()
    interview = make_interview(owner, **kw)
    return owner, interview, login_as(owner)


def _rows(**where):
    return list(db.session.execute(db.select(OutboxMessage).filter_by(**where)
                                   .order_by(OutboxMessage.id)).scalars())


def _body(msg) -> str:
    return msg.get_body(("plain",)).get_content()


def test_the_template_is_previewed_checked_and_used(app, login_as, mailbox, run_jobs):
    _, interview, cc = _setup(login_as)
    base = f"/interviews/{interview.public_id}/outreach"
    page = cc.get(base).get_data(as_text=True)
    assert "{candidate_name}" in page and "Ada Lovelace" in page  # the default, and its preview
    bad = cc.post(base + "/template", data={"action": "save", "subject": "Hi", "body": "No link {name}"})
    assert bad.status_code == 400 and "{name}" in bad.get_data(as_text=True)
    preview = cc.post(base + "/template", data={"action": "preview", "subject": "Join {company}",
                                                "body": "Dear {candidate_name}, go to {link} by {deadline}."})
    assert preview.status_code == 200 and "Dear Ada Lovelace, go to http" in preview.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Interview, interview.id).invitation_body is None  # a preview saves nothing
    cc.post(base + "/template", data={"action": "save", "subject": "Join {company}",
                                      "body": "Dear {candidate_name}, go to {link} by {deadline}. {unused"})
    resp = cc.post(f"/interviews/{interview.public_id}/candidates",
                   data={"name": "Grace Hopper", "email": "grace@example.com", "send_email": "on"})
    token = re.search(r'value="http://localhost/i/([^"]+)"', resp.get_data(as_text=True)).group(1)
    run_jobs()
    [msg] = mailbox.messages()
    assert msg["Subject"] == f"Join {interview.organisation.name}"
    body = _body(msg)
    assert body.startswith("Dear Grace Hopper, go to http://localhost/i/") and "{unused" in body
    assert LINK.search(body).group(1) == token
    assert "What to expect: 2 questions" in body and "Privacy:" in body


def test_candidate_email_is_in_the_interviews_language(app, login_as, mailbox, run_jobs):
    _, interview, cc = _setup(login_as)
    db.session.get(Interview, interview.id).interface_language = "en_XA"  # the pseudo-locale (tests)
    db.session.commit()
    cc.post(f"/interviews/{interview.public_id}/candidates",
            data={"name": "Pseudo Person", "email": "pp@example.com", "send_email": "on"})
    run_jobs()
    [msg] = mailbox.messages()
    subject = str(msg["Subject"]).strip()  # (a long encoded subject is folded after "Subject:")
    assert subject.startswith("[") and "Interview" in subject  # the pseudo-locale, the title intact
    assert msg["Content-Language"] == "en-XA" and "Pseudo Person" in _body(msg)
    assert 'lang="en-XA"' in msg.get_body(("html",)).get_content()


def test_inviting_without_email_still_gives_the_link(app, login_as, mailbox, run_jobs):
    _, interview, cc = _setup(login_as)
    resp = cc.post(f"/interviews/{interview.public_id}/candidates",
                   data={"name": "Copy", "email": "c@example.com"})
    assert resp.status_code == 200 and "/i/" in resp.get_data(as_text=True)
    run_jobs()
    assert mailbox.messages() == [] and _rows() == []


def test_a_list_is_previewed_with_each_rows_problem_then_made_in_one_go(app, login_as, mailbox, run_jobs):
    _, interview, cc = _setup(login_as)
    cc.post(f"/interviews/{interview.public_id}/candidates", data={"name": "Old", "email": "old@example.com"})
    soon = (utcnow() + timedelta(days=3)).date().isoformat()
    csv_bytes = ("\ufeffName;Email;Deadline\n"
                 "Ada Lovelace;ada@example.com;\n"
                 f"Grace Hopper;Grace <GRACE@example.com>;{soon}\n"
                 "=HYPERLINK(\"http://x\");evil@example.com;\n"
                 "Dup;ada@Example.com;\n"
                 "Nobody;not-an-address;\n"
                 "Old Again;old@example.com;\n"
                 "Late;late@example.com;2001-01-01\n").encode()
    resp = cc.post(f"/interviews/{interview.public_id}/bulk",
                   data={"file": (io.BytesIO(csv_bytes), "list.csv")}, content_type="multipart/form-data")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'data-bulk-summary="2/5"' in page
    for line, words in ((4, "formula"), (5, "same address as line 2"), (6, "Not a valid e-mail address"),
                        (7, "Already invited"), (8, "in the future")):
        assert f'data-problem-line="{line}"' in page and words in page, (line, words)
    assert db.session.execute(db.select(Candidate).filter_by(email="ada@example.com")).first() is None
    text = re.search(r'name="text" value="([^"]*)"', page, re.S).group(1)
    resp = cc.post(f"/interviews/{interview.public_id}/bulk/create", data={"text": html.unescape(text)})
    assert resp.status_code == 302
    made = {c.email: c for c in
            db.session.execute(db.select(Candidate).filter_by(interview_id=interview.id)).scalars()}
    assert set(made) == {"old@example.com", "ada@example.com", "grace@example.com"}
    assert made["grace@example.com"].expires_at.date().isoformat() == soon
    run_jobs()
    assert sorted(m["To"] for m in mailbox.messages()) == ["Ada Lovelace <ada@example.com>",
                                                           "Grace Hopper <grace@example.com>"]


def test_bad_lists_are_refused_whole_with_a_reason(app, login_as):
    _, interview, cc = _setup(login_as)
    url = f"/interviews/{interview.public_id}/bulk"
    def upload(data: bytes):
        return cc.post(url, data={"file": (io.BytesIO(data), "x.csv")}, content_type="multipart/form-data")

    huge = "".join(f"P{i}, p{i}@example.com\n" for i in range(10_000)).encode()
    resp = upload(huge)
    assert resp.status_code == 413 and "10,000 rows" in resp.get_data(as_text=True)
    resp = upload(bytes(range(256)) * 20)
    assert resp.status_code == 400 and "not text" in resp.get_data(as_text=True)
    resp = upload(b"PK\x03\x04 excel")
    assert resp.status_code == 400 and "save it as CSV" in resp.get_data(as_text=True)
    latin = upload("José Müller, jose@example.com\n".encode("latin-1"))
    assert latin.status_code == 200 and "José Müller" in latin.get_data(as_text=True)
    assert "Windows-1252" in latin.get_data(as_text=True)
    assert db.session.execute(db.select(Candidate)).first() is None


def test_a_new_link_kills_the_old_one_and_is_emailed(app, login_as, client, mailbox, run_jobs):
    _, interview, cc = _setup(login_as)
    resp = cc.post(f"/interviews/{interview.public_id}/candidates",
                   data={"name": "Ada", "email": "ada@example.com", "send_email": "on"})
    old = re.search(r'value="http://localhost/i/([^"]+)"', resp.get_data(as_text=True)).group(1)
    candidate = db.session.execute(db.select(Candidate)).scalar_one()
    cc.post(f"/outreach/candidates/{candidate.public_id}/resend", data={"email": "on"})
    run_jobs()
    kinds = [(r.kind, r.status) for r in _rows(candidate_id=candidate.id)]
    assert kinds == [(MailKind.INVITATION, MailStatus.CANCELLED), (MailKind.RESEND, MailStatus.SENT)]
    [msg] = mailbox.messages()  # the first invitation never went: it carried the dead link
    new = LINK.search(_body(msg)).group(1)
    assert client.get(f"/i/{old}").status_code == 404 and client.get(f"/i/{new}").status_code == 200
    page = cc.get(f"/outreach/candidates/{candidate.public_id}/messages").get_data(as_text=True)
    assert "A newer link was made" in page and new not in page  # no working link on the page


def test_reminders_follow_the_current_deadline_once_per_slot(app, login_as, mailbox, run_jobs):
    _, interview, cc = _setup(login_as)
    cc.post(f"/interviews/{interview.public_id}/candidates",
            data={"name": "Ada", "email": "ada@example.com", "send_email": "on"})
    run_jobs()
    mailbox.clear()
    candidate = db.session.execute(db.select(Candidate)).scalar_one()
    deadline = candidate.expires_at
    assert reminders.add_due(deadline - timedelta(hours=49)) == 0  # not yet
    assert reminders.add_due(deadline - timedelta(hours=47)) == 1  # the 48-hour slot
    assert reminders.add_due(deadline - timedelta(hours=46)) == 0  # at most once per slot
    run_jobs()
    [msg] = mailbox.messages()
    assert msg["Subject"].startswith("Reminder") and LINK.search(_body(msg))
    # Moved by three days: the 24-hour slot of the old deadline never comes, the new one's does.
    new = (deadline + timedelta(days=3)).date().isoformat()
    cc.post(f"/interviews/{interview.public_id}/deadlines", data={"deadline": new, "notify": "on"})
    db.session.expire_all()
    candidate = db.session.get(Candidate, candidate.id)
    assert reminders.add_due(deadline - timedelta(hours=23)) == 0
    assert reminders.add_due(candidate.expires_at - timedelta(hours=47)) == 1
    assert reminders.add_due(candidate.expires_at + timedelta(minutes=1)) == 0  # never after it
    run_jobs()
    subjects = [m["Subject"] for m in mailbox.messages()]
    assert len(subjects) == 3 and sum(s.startswith("More time") for s in subjects) == 1


def test_no_reminder_for_the_finished_the_withdrawn_the_leaving_or_the_never_emailed(app, login_as):
    from tests.factories import make_candidate, mark_completed

    owner, interview, _cc = _setup(login_as)
    done, _ = make_candidate(interview, owner)
    done.mail_status = "emailed"
    mark_completed(done)
    never, _ = make_candidate(interview, owner)  # invited without e-mail
    withdrawn, _ = make_candidate(interview, owner)
    leaving, _ = make_candidate(interview, owner)
    withdrawn.mail_status = leaving.mail_status = "emailed"
    withdrawn.withdrawn_at = leaving.deletion_requested_at = utcnow()  # (issue 19: their own choices)
    db.session.commit()
    app.config["BASE_URL"] = "https://oneway.example.com"  # links for reminders without an invitation
    assert reminders.add_due(never.expires_at - timedelta(hours=1)) == 0
    withdrawn.withdrawn_at = None
    db.session.commit()
    assert reminders.add_due(never.expires_at - timedelta(hours=1)) == 1  # the same, still in the process


def test_staff_notifications_respect_choices_and_anonymity(app, login_as, mailbox, run_jobs):
    from app.services import anonymity, recording
    from tests.factories import make_candidate, make_ready_answer

    owner, interview, _cc = _setup(login_as)
    org = owner.organisation
    reviewer = make_user(org=org, role="reviewer")
    quiet = make_user(org=org, role="recruiter")
    for user, choice in ((owner, "immediate"), (reviewer, "immediate"), (quiet, "off")):
        db.session.get(User, user.id).notify = choice
    db.session.commit()
    anonymity.set_mode(owner, interview, True, "video")
    candidate, _ = make_candidate(interview, owner)
    for q in interview.questions:
        make_ready_answer(candidate, q)
    with app.test_request_context(base_url="http://oneway.example"):
        recording.finish(db.session.get(Candidate, candidate.id))
    run_jobs()
    got = {m["To"].split("<")[-1].rstrip(">"): m for m in mailbox.messages()}
    assert quiet.email not in got
    assert "Ada Lovelace" in got[owner.email]["Subject"]
    assert "Ada Lovelace" not in got[reviewer.email]["Subject"] + _body(got[reviewer.email])
    assert "Candidate 1" in got[reviewer.email]["Subject"]


def test_the_queue_filters_by_outreach_status(app, login_as, mailbox, run_jobs, client):
    _, interview, cc = _setup(login_as)
    for name, email in (("Ok", "ok@example.com"), ("Gone", "x@refused.example.com")):
        cc.post(f"/interviews/{interview.public_id}/candidates",
                data={"name": name, "email": email, "send_email": "on"})
    run_jobs()
    q = f"/interviews/{interview.public_id}/queue?status="
    assert 'data-total="1"' in cc.get(q + "bounced").get_data(as_text=True)
    assert 'data-total="1"' in cc.get(q + "emailed").get_data(as_text=True)
    assert 'data-total="2"' in cc.get(q + "invited").get_data(as_text=True)
    assert 'data-total="0"' in cc.get(q + "opened").get_data(as_text=True)


def test_a_candidate_asks_for_a_later_deadline_granted_at_once_or_by_a_person(app, login_as, client,
                                                                                 mailbox, run_jobs):
    _, interview, cc = _setup(login_as)
    cc.post(f"/interviews/{interview.public_id}/outreach/schedule",
            data={"deadline_days": "14", "reminder_hours": "48, 24", "time_zone": "UTC",
                  "auto_extension_days": "3"})
    resp = cc.post(f"/interviews/{interview.public_id}/candidates",
                   data={"name": "Ada", "email": "a@example.com"})
    token = re.search(r'value="http://localhost/i/([^"]+)"', resp.get_data(as_text=True)).group(1)
    candidate = db.session.execute(db.select(Candidate)).scalar_one()
    before = candidate.expires_at
    client.get(f"/i/{token}")
    from tests.helpers import CsrfClient

    cand = CsrfClient(client)
    cand.refresh(f"/i/{token}")
    assert cand.post(f"/i/{token}/later-deadline", data={"days": "30"}).status_code == 400
    cand.post(f"/i/{token}/later-deadline", data={"days": "2", "note": "exams"})  # within 3: at once
    db.session.expire_all()
    candidate = db.session.get(Candidate, candidate.id)
    assert candidate.deadline_request_status == "granted"
    assert candidate.expires_at == before + timedelta(days=2)
    cand.post(f"/i/{token}/later-deadline", data={"days": "2", "note": "ill"})  # a second: to a person
    db.session.expire_all()
    assert db.session.get(Candidate, candidate.id).deadline_request_status == "requested"
    page = cc.get(f"/interviews/{interview.public_id}/outreach").get_data(as_text=True)
    assert "data-deadline-requests" in page and "ill" in page
    cc.post(f"/interviews/{interview.public_id}/deadline-requests/{candidate.public_id}",
            data={"decision": "grant"})
    db.session.expire_all()
    candidate = db.session.get(Candidate, candidate.id)
    assert candidate.deadline_request_status == "granted"
    assert candidate.expires_at == before + timedelta(days=4)
    run_jobs()
    assert [str(m["Subject"]).startswith("More time") for m in mailbox.messages()] == [True, True]
