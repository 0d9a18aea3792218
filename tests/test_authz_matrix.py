"""Who gets what, on every route: each actor against each route, with the status it must answer.

Actors: owner, recruiter, a reviewer assigned to the interview, a reviewer assigned only to
another interview, an owner of another organisation, guests holding a view link and a score
link, guests holding a revoked and an expired link, and nobody signed in. Staff routes target
interview A's objects; /s/ routes use the actor's own share token (a forged one for actors who
hold none); candidate (/i/) routes use a forged token, since no actor holds the candidate's.
One world per backend, routes run in order (state-changing ones aimed at spare objects, and
sign-out last), so the whole matrix costs a few hundred requests.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import AIDraft, AIEvaluation, PromptMedia, new_public_id, utcnow
from app.services import api_keys, authoring, question_bank, sharing, team, webhook_endpoints
from app.storage import current_storage
from tests.factories import make_candidate, make_interview, make_media_answer, make_user
from tests.helpers import CsrfClient

STAFF = ("owner", "recruiter", "rev_assigned", "rev_other", "stranger")
GUESTS = ("guest_view", "guest_score", "revoked", "expired", "anon")
ACTORS = STAFF + GUESTS


def staff(owner, recruiter=None, reviewer=None, hidden=404, stranger=None):
    """Expected statuses for a staff route on interview A's objects."""
    recruiter = owner if recruiter is None else recruiter
    reviewer = recruiter if reviewer is None else reviewer
    return {"owner": owner, "recruiter": recruiter, "rev_assigned": reviewer, "rev_other": hidden,
            "stranger": hidden if stranger is None else stranger, **dict.fromkeys(GUESTS, 302)}


def everyone(status, guests=None):
    return {**dict.fromkeys(STAFF, status), **dict.fromkeys(GUESTS, status if guests is None else guests)}


def shared(view, score=None):
    """Expected statuses for a /s/ route: live links per permission, dead links 410, others 404."""
    return {**dict.fromkeys(("owner", "recruiter", "rev_assigned", "rev_other", "stranger", "anon"), 404),
            "guest_view": view, "guest_score": view if score is None else score,
            "revoked": 410, "expired": 410}


F = {"value": "4", "comment": "ok"}
SOON = (utcnow() + timedelta(days=30)).date().isoformat()  # a deadline the routes accept
AUTHORS_ONLY = staff(200, reviewer=403, hidden=403, stranger=404)  # share pages: reviewers never
AUTHORS_ONLY_POST = staff(302, reviewer=403, hidden=403, stranger=404)
OWNERS_ONLY_POST = staff(302, recruiter=403, reviewer=403, hidden=403, stranger=404)
# Owners only; another organisation's owner does not find interview A (404).
FAIRNESS = staff(200, recruiter=403, reviewer=403, hidden=403, stranger=404)
# (endpoint, method, path, form data, expected by actor)
ROUTES = [
    ("static", "GET", "/static/css/app.css", None, everyone(200)),
    ("health.healthz", "GET", "/healthz", None, everyone((200, 503))),
    ("health.ready", "GET", "/healthz/ready", None, everyone((200, 503))),  # from loopback
    ("auth.login", "GET", "/login", None, everyone(302, guests=200)),
    ("auth.change_password", "GET", "/account/password", None, everyone(200, guests=302)),
    ("auth.reset_password", "GET", "/reset/{reset}", None, everyone(200)),
    ("interviews.index", "GET", "/", None, everyone(200, guests=302)),
    ("interviews.new", "GET", "/interviews/new", None, everyone(200, guests=302)),
    ("interviews.show", "GET", "/interviews/{iv}", None, staff(200)),
    ("grading.queue", "GET", "/interviews/{iv}/queue", None, staff(200)),
    ("grading.next_candidate", "GET", "/interviews/{iv}/next", None, staff(302)),
    ("grading.export_scores", "GET", "/interviews/{iv}/scores.csv", None, staff(200, reviewer=403)),
    ("share_staff.index", "GET", "/interviews/{iv}/shares", None, AUTHORS_ONLY),
    ("share_staff.show", "GET", "/shares/{link}", None, AUTHORS_ONLY),
    ("grading.search_answers", "GET", "/interviews/{iv}/search?q=hello", None, staff(200)),
    ("grading.candidate", "GET", "/review/candidates/{cand}", None, staff(200)),
    ("grading.candidate_zip", "GET", "/review/candidates/{cand}/export.zip", None, staff(200, reviewer=403)),
    ("media.video", "GET", "/media/answers/{answer}/video", None, staff(200)),
    ("media.poster", "GET", "/media/answers/{answer}/poster.jpg", None, staff(200)),
    ("media.audio", "GET", "/media/answers/{answer}/audio", None, staff(200)),
    ("media.captions", "GET", "/media/answers/{answer}/captions.vtt", None, staff(200)),
    ("grading.answer_status", "GET", "/review/answers/{answer}/status", None, staff(200)),
    ("team.index", "GET", "/team", None, everyone(200, guests=302)),
    # Owners only; another organisation's owner reads their own organisation's log.
    ("team.audit_log", "GET", "/team/audit", None,
     staff(200, recruiter=403, reviewer=403, hidden=403, stranger=200)),
    ("team.join", "GET", "/join/{join}", None, everyone(200)),
    ("share.landing", "GET", "/s/{token}", None, shared(200)),
    ("share.candidate", "GET", "/s/{token}/c/{cand}", None, shared(200)),
    ("share.video", "GET", "/s/{token}/media/{answer}/video", None, shared(200)),
    ("share.poster", "GET", "/s/{token}/media/{answer}/poster.jpg", None, shared(200)),
    ("share.captions", "GET", "/s/{token}/media/{answer}/captions.vtt", None, shared(200)),
    ("share.name", "POST", "/s/{token}/guest", {"name": "Someone"}, shared(302)),
    ("share.score", "POST", "/s/{token}/c/{cand}/q/{q}/score", F, shared(403, score=302)),
    ("candidate.landing", "GET", "/i/{forged}", None, everyone(404)),
    ("candidate.data", "GET", "/i/{forged}/data", None, everyone(404)),
    ("candidate.state", "GET", "/i/{forged}/state", None, everyone(404)),
    ("candidate.record", "GET", "/i/{forged}/record", None, everyone(404)),
    ("candidate.done", "GET", "/i/{forged}/done", None, everyone(404)),
    ("candidate.consent", "POST", "/i/{forged}/consent", {"agree": "on"}, everyone(404)),
    ("candidate.start_take", "POST", "/i/{forged}/questions/{q}/takes", {}, everyone(404)),
    ("candidate.put_chunk", "PUT", "/i/{forged}/answers/{answer}/chunks/0", b"x", everyone(404)),
    ("candidate.finalize", "POST", "/i/{forged}/answers/{answer}/finalize", {}, everyone(404)),
    ("candidate.abandon", "POST", "/i/{forged}/answers/{answer}/abandon", {}, everyone(404)),
    ("candidate.finish", "POST", "/i/{forged}/finish", {}, everyone(404)),
    ("candidate.accommodation", "POST", "/i/{forged}/accommodation", {"factor": "1.5"}, everyone(404)),
    ("candidate.written", "POST", "/i/{forged}/answers/{answer}/written", {}, everyone(404)),
    ("candidate.decline", "GET", "/i/{forged}/decline", None, everyone(404)),
    ("candidate.language", "POST", "/i/{forged}/language", {"locale": "en"}, everyone(404)),
    ("candidate.time_zone", "POST", "/i/{forged}/time-zone", {}, everyone(404)),
    ("candidate.export_zip", "GET", "/i/{forged}/export.zip", None, everyone(404)),
    ("candidate.about_you", "GET", "/i/{forged}/about-you", None, everyone(404)),
    ("candidate.about_you", "POST", "/i/{forged}/about-you", {"sex": "female"}, everyone(404)),
    ("candidate.ask_deletion", "POST", "/i/{forged}/deletion", {"confirm": "yes"}, everyone(404)),
    ("candidate.cancel_deletion", "POST", "/i/{forged}/deletion/cancel", {}, everyone(404)),
    ("candidate.withdraw", "POST", "/i/{forged}/withdraw", {"confirm": "yes"}, everyone(404)),
    ("candidate.ask_rereview", "POST", "/i/{forged}/rereview", {"reason": "r"}, everyone(404)),
    # Fairness: owners only; another organisation's owner sees their own organisation's figures.
    ("fairness.report", "GET", "/fairness?interview={iv}", None, FAIRNESS),
    ("fairness.report", "GET", "/fairness", None, staff(200, recruiter=403, reviewer=403, hidden=403,
                                                          stranger=200)),
    ("fairness.report_csv", "GET", "/fairness/report.csv?interview={iv}", None, FAIRNESS),
    ("fairness.graders", "GET", "/fairness/graders?interview={iv}", None, FAIRNESS),
    ("fairness.settings", "GET", "/fairness/settings", None,
     staff(200, recruiter=403, reviewer=403, hidden=403, stranger=200)),
    ("team.join", "POST", "/join/{join}", {"name": "", "password": ""}, everyone(400)),
    ("auth.reset_password", "POST", "/reset/{reset}", {"password": "", "password_confirm": ""},
     everyone(400)),
    # A wrong current password: the form again, and nothing changed.
    ("auth.change_password", "POST", "/account/password",
     {"current_password": "not-my-password", "password": "new-password", "password_confirm": "new-password"},
     everyone(400, guests=302)),
    ("auth.login", "POST", "/login", {"email": "x@example.com", "password": "nope-nope"},
     everyone(302, guests=401)),
    ("interviews.new", "POST", "/interviews/new", {"title": "T"},
     {**staff(302, reviewer=403, stranger=302), "rev_other": 403}),
    ("interviews.add_question", "POST", "/interviews/{iv}/questions",
     {"prompt": "P", "think_seconds": "1", "answer_seconds": "30", "max_takes": "1"},
     staff(302, reviewer=403)),
    ("interviews.delete_question", "POST", "/interviews/{iv}/questions/{q}/delete", {},
     staff(302, reviewer=403)),
    # No extra time was asked for, so those allowed to decide get 409 (nothing to decide).
    ("interviews.extra_time", "POST", "/interviews/{iv}/candidates/{cand}/extra-time", {"decision": "grant"},
     staff(409, reviewer=403)),
    ("interviews.rubric", "POST", "/interviews/{iv}/questions/{q}/rubric", {"ideal_answer": "Clear."},
     staff(302, reviewer=403)),
    ("interviews.invite", "POST", "/interviews/{iv}/candidates", {"name": "N", "email": "n@example.com"},
     staff(200, reviewer=403)),
    ("team.assign", "POST", "/interviews/{iv}/assignments", {"user": "{rev_assigned}", "assigned": "1"},
     staff(302, reviewer=403)),
    ("share_staff.create", "POST", "/interviews/{iv}/shares", {"candidate": "{cand}", "days": "1"},
     AUTHORS_ONLY),
    ("share_staff.revoke", "POST", "/shares/{spare_link}/revoke", {}, AUTHORS_ONLY_POST),
    ("team.invite", "POST", "/team/invites", {"email": "{fresh_email}", "role": "reviewer"},
     {**staff(200, recruiter=403, reviewer=403, stranger=200), "rev_other": 403}),
    ("team.revoke", "POST", "/team/invites/{invite}/revoke", {}, OWNERS_ONLY_POST),
    # Only owners manage members; another organisation's owner gets 404 for this org's member.
    ("team.password_reset", "POST", "/team/members/{member}/password-reset", {},
     staff(200, recruiter=403, reviewer=403, hidden=403, stranger=404)),
    ("team.scope", "POST", "/team/members/{member}/scope", {"scope": "all"}, OWNERS_ONLY_POST),
    ("team.change_role", "POST", "/team/members/{member}/role", {"role": "recruiter"}, OWNERS_ONLY_POST),
    ("team.remove", "POST", "/team/members/{member}/remove", {}, OWNERS_ONLY_POST),
    ("team.restore", "POST", "/team/members/{member}/restore", {}, OWNERS_ONLY_POST),
    ("grading.score", "POST", "/review/candidates/{cand}/questions/{q}/score", F, staff(302)),
    ("grading.submit", "POST", "/review/candidates/{cand}/submit", {"recommendation": "yes"}, staff(302)),
    ("grading.reveal", "POST", "/review/candidates/{cand}/reveal", {}, staff(302, reviewer=403)),
    ("grading.decide", "POST", "/review/candidates/{cand}/decision", {"value": "hold"},
     staff(302, reviewer=403)),
    ("grading.review_mode", "POST", "/interviews/{iv}/review-mode", {"review_media": "video"},
     staff(302, reviewer=403)),
    ("interviews.interface_language", "POST", "/interviews/{iv}/interface-language",
     {"interface_language": "en"}, staff(302, reviewer=403)),
    ("grading.retry", "POST", "/review/answers/{answer2}/retry", {}, staff(302, reviewer=403)),
    # Authoring (issue 17): owners and recruiters only; reviewers 403 where they see the interview.
    ("authoring.edit", "GET", "/interviews/{iv}/edit", None, staff(200, reviewer=403)),
    # A change candidates notice, unconfirmed: the confirmation page, nothing saved.
    ("authoring.edit", "POST", "/interviews/{iv}/edit",
     {"title": "T2", "interface_language": "en", "retention_days": "180", "accommodations": "review",
      "deadline_days": "14"},
     staff(200, reviewer=403)),
    ("authoring.edit_question", "GET", "/interviews/{iv}/questions/{q}/edit", None, staff(200, reviewer=403)),
    ("authoring.edit_question", "POST", "/interviews/{iv}/questions/{q}/edit", {"prompt": ""},
     staff(400, reviewer=403)),
    ("authoring.move_question", "POST", "/interviews/{iv}/questions/{q}/move", {"direction": "down"},
     staff(302, reviewer=403)),
    ("authoring.reorder", "POST", "/interviews/{iv}/questions/order", {"question": "{q}"},
     staff(302, reviewer=403)),
    ("authoring.duplicate", "POST", "/interviews/{iv}/duplicate", {}, staff(302, reviewer=403)),
    ("authoring.save_as_template", "POST", "/interviews/{iv}/template", {}, staff(302, reviewer=403)),
    ("authoring.status", "POST", "/interviews/{iv}/status", {"action": "none"}, staff(302, reviewer=403)),
    ("authoring.templates", "GET", "/templates", None, staff(200, reviewer=403, hidden=403, stranger=200)),
    # A template is assigned to no reviewer, so even an assigned one does not see it.
    ("authoring.use_template", "POST", "/templates/{template}/use", {}, staff(302, reviewer=404)),
    ("bank.index", "GET", "/bank", None, staff(200, reviewer=403, hidden=403, stranger=200)),
    ("bank.add", "POST", "/bank", {"prompt": ""}, staff(400, reviewer=403, hidden=403, stranger=400)),
    ("bank.save", "POST", "/interviews/{iv}/questions/{q}/bank", {}, staff(302, reviewer=403)),
    ("bank.insert", "POST", "/interviews/{iv}/bank/{bank}/insert", {}, staff(302, reviewer=403)),
    # The owner removes it first, so the recruiter finds it gone.
    ("bank.remove", "POST", "/bank/{spare_bank}/delete", {},
     staff(302, recruiter=404, reviewer=403, hidden=403, stranger=404)),
    ("authoring.apply_link", "POST", "/interviews/{iv}/apply-link", {"action": "off"},
     staff(302, reviewer=403)),
    # The open apply link: a forged token reaches nothing, for anyone.
    ("apply.form", "GET", "/apply/{forged}", None, everyone(404)),
    ("apply.form", "POST", "/apply/{forged}", {"name": "N", "email": "n@example.com"}, everyone(404)),
    ("insights.dashboard", "GET", "/interviews/{iv}/dashboard", None, staff(200, reviewer=403)),
    ("insights.compare", "GET", "/interviews/{iv}/compare?c={cand}&c={cand2}", None, staff(200)),
    # No request is open: authors get the page back with why (302); reviewers may not answer one.
    ("grading.rereview_answered", "POST", "/review/candidates/{cand}/rereview/answered", {},
     staff(302, reviewer=403)),
    ("fairness.save_settings", "POST", "/fairness/settings", {"deletion_countdown_days": "7"},
     staff(302, recruiter=403, reviewer=403, hidden=403, stranger=302)),
    # Erasure: owners only. Unconfirmed, so the owner gets the page again (400) and nothing goes.
    ("grading.erase", "GET", "/review/candidates/{cand}/erase", None,
     staff(200, recruiter=403, reviewer=403)),
    ("grading.erase", "POST", "/review/candidates/{cand}/erase", {}, staff(400, recruiter=403, reviewer=403)),
    # Outreach: owners and recruiters; reviewers who see the interview 403, others 404.
    ("outreach.index", "GET", "/interviews/{iv}/outreach", None, staff(200, reviewer=403)),
    ("outreach.template", "POST", "/interviews/{iv}/outreach/template",
     {"action": "preview", "subject": "Hi {{candidate_name}}", "body": "Go: {{link}}"},
     staff(200, reviewer=403)),
    ("outreach.schedule", "POST", "/interviews/{iv}/outreach/schedule",
     {"deadline_days": "14", "reminder_hours": "48, 24", "time_zone": "UTC"}, staff(302, reviewer=403)),
    ("outreach.bulk_preview", "POST", "/interviews/{iv}/bulk", {"lines": "Bulk Person, {fresh_email}"},
     staff(200, reviewer=403)),
    ("outreach.bulk_create", "POST", "/interviews/{iv}/bulk/create",
     {"text": "Bulk Person, {fresh_email}"}, staff(302, reviewer=403)),
    ("outreach.extend", "POST", "/interviews/{iv}/deadlines", {"deadline": SOON}, staff(302, reviewer=403)),
    ("outreach.messages", "GET", "/outreach/candidates/{cand}/messages", None, staff(200, reviewer=403)),
    ("outreach.resend", "POST", "/outreach/candidates/{cand2}/resend", {"email": "on"},
     staff(302, reviewer=403)),
    ("outreach.candidate_deadline", "POST", "/outreach/candidates/{cand2}/deadline", {"deadline": SOON},
     staff(302, reviewer=403)),
    # No request was made, so those allowed to answer get 409 (nothing to decide).
    ("outreach.deadline_request", "POST", "/interviews/{iv}/deadline-requests/{cand}", {"decision": "grant"},
     staff(409, reviewer=403)),
    ("candidate.later_deadline", "POST", "/i/{forged}/later-deadline", {"days": "3"}, everyone(404)),
    ("outreach.notify_choice", "POST", "/account/notifications", {"notify": "digest"},
     everyone(302)),
    # API keys: owners only; another organisation's owner manages their own organisation's keys.
    ("integrations.index", "GET", "/team/api-keys", None,
     staff(200, recruiter=403, reviewer=403, hidden=403, stranger=200)),
    ("integrations.create", "POST", "/team/api-keys", {"name": "K", "scopes": "read"},
     staff(200, recruiter=403, reviewer=403, hidden=403, stranger=200)),
    ("integrations.revoke", "POST", "/team/api-keys/{api_key}/revoke", {}, OWNERS_ONLY_POST),
    # Webhooks: owners only, each organisation its own endpoints.
    ("webhooks.index", "GET", "/team/webhooks", None, staff(200, recruiter=403, reviewer=403, hidden=403,
                                                            stranger=200)),
    ("webhooks.create", "POST", "/team/webhooks", {"url": "not a url", "events": "candidate.invited"},
     staff(400, recruiter=403, reviewer=403, hidden=403, stranger=400)),
    ("webhooks.show", "GET", "/team/webhooks/{hook}", None,
     staff(200, recruiter=403, reviewer=403, hidden=403, stranger=404)),
    ("webhooks.rotate", "POST", "/team/webhooks/{hook}/rotate", {}, OWNERS_ONLY_POST),
    ("webhooks.active", "POST", "/team/webhooks/{hook}/active", {"active": "1"}, OWNERS_ONLY_POST),
    ("webhooks.redeliver", "POST", "/team/webhooks/{hook}/messages/{forged}/redeliver", {},
     staff(404, recruiter=403, reviewer=403, hidden=403, stranger=404)),  # no such message
    # The API: its document for anyone; every operation refuses a session cookie (401), whoever
    # holds it (tests/test_api.py runs them with keys); a forged signed media URL is 404.
    ("api-docs.openapi_json", "GET", "/api/v1/openapi.json", None, everyone(200)),
    ("api_docs", "GET", "/api/v1/docs", None, everyone(200)),
    ("api_media.media", "GET", "/api/v1/media/{forged}", None, everyone(404)),
    *[(endpoint, method, path, {}, everyone(401)) for endpoint, method, path in (
        ("api_interviews.list_interviews", "GET", "/api/v1/interviews"),
        ("api_interviews.create_interview", "POST", "/api/v1/interviews"),
        ("api_interviews.get_interview", "GET", "/api/v1/interviews/{iv}"),
        ("api_interviews.invite", "POST", "/api/v1/interviews/{iv}/candidates"),
        ("api_candidates.list_candidates", "GET", "/api/v1/candidates"),
        ("api_candidates.get_candidate", "GET", "/api/v1/candidates/{cand}"),
        ("api_candidates.set_deadline", "PUT", "/api/v1/candidates/{cand}/deadline"),
        ("api_candidates.erase", "DELETE", "/api/v1/candidates/{cand}"),
        ("api_candidates.get_erasure", "GET", "/api/v1/erasures/{forged}"),
        ("api_answers.list_answers", "GET", "/api/v1/candidates/{cand}/answers"),
        ("api_answers.get_answer", "GET", "/api/v1/answers/{answer}"),
        ("api_answers.transcript", "GET", "/api/v1/answers/{answer}/transcript"),
        ("api_answers.captions", "GET", "/api/v1/answers/{answer}/captions"),
        ("api_answers.media_urls", "GET", "/api/v1/answers/{answer}/media"),
        ("api_answers.reviews", "GET", "/api/v1/candidates/{cand}/reviews"),
        ("api_answers.decisions", "GET", "/api/v1/candidates/{cand}/decisions"),
        ("api_answers.decide", "POST", "/api/v1/candidates/{cand}/decisions"),
        ("api_ats.list_tests", "GET", "/api/v1/ats/tests"),
        ("api_ats.send_test", "POST", "/api/v1/ats/send_test"),
        ("api_ats.test_status", "GET", "/api/v1/ats/test_status?partner_interview_id={cand}"),
        ("api_webhooks.list_endpoints", "GET", "/api/v1/webhooks"),
        ("api_webhooks.create_endpoint", "POST", "/api/v1/webhooks"),
        ("api_webhooks.get_endpoint", "GET", "/api/v1/webhooks/{hook}"),
        ("api_webhooks.update_endpoint", "PATCH", "/api/v1/webhooks/{hook}"),
        ("api_webhooks.rotate_secret", "POST", "/api/v1/webhooks/{hook}/rotate-secret"))],
    # AI assistance: reviewers may read the interview's AI page; drafting is for authors, the
    # settings for owners. The flag comes after each actor saved a score (the blind rule).
    ("ai.index", "GET", "/interviews/{iv}/ai", None, staff(200)),
    ("ai.options", "POST", "/interviews/{iv}/ai/options", {"evaluation": ""},
     staff(302, recruiter=403, reviewer=403)),
    ("ai.draft_questions", "POST", "/interviews/{iv}/ai/drafts", {"job_description": "too short"},
     staff(302, reviewer=403)),
    ("ai.draft_ideal", "POST", "/interviews/{iv}/questions/{q}/ai-ideal", {}, staff(302, reviewer=403)),
    ("ai.draft", "GET", "/interviews/{iv}/ai/drafts/{draft}", None, staff(200, reviewer=403)),
    ("ai.draft_item", "POST", "/interviews/{iv}/ai/drafts/{draft}/items/0", {"action": "discard"},
     staff(302, reviewer=403)),
    ("ai.flag", "POST", "/ai/candidates/{cand}/evaluations/{evaluation}/flag", {"note": "Misses the point."},
     staff(302)),
    ("ai.evaluate_again", "POST", "/ai/candidates/{cand}/questions/{q}/evaluate", {},
     staff(302, reviewer=403)),
    # Prompt videos (issue 17): staff who see the interview watch them; only authors change them (a
    # bad request from an author: no file 400, no type 415, a finished recording 409); candidates'
    # routes answer only their own link.
    ("prompts.video", "GET", "/interviews/{iv}/prompt-media/{prompt}/video", None, staff(200)),
    ("prompts.poster", "GET", "/interviews/{iv}/prompt-media/{prompt}/poster.jpg", None, staff(200)),
    ("prompts.captions", "GET", "/interviews/{iv}/prompt-media/{prompt}/captions.vtt", None, staff(200)),
    ("prompts.upload", "POST", "/interviews/{iv}/prompts/{q}/upload", {}, staff(400, reviewer=403)),
    ("prompts.start_recording", "POST", "/interviews/{iv}/prompts/{q}/recordings", {},
     staff(415, reviewer=403)),
    ("prompts.put_chunk", "PUT", "/interviews/{iv}/prompt-media/{prompt}/chunks/0", b"x",
     staff(409, reviewer=403)),
    ("prompts.finalize", "POST", "/interviews/{iv}/prompt-media/{prompt}/finalize", {},
     staff(400, reviewer=403)),
    ("prompts.remove", "POST", "/interviews/{iv}/prompts/welcome/delete", {}, staff(302, reviewer=403)),
    ("candidate.prompt_video", "GET", "/i/{forged}/prompts/{prompt}/video", None, everyone(404)),
    ("candidate.prompt_captions", "GET", "/i/{forged}/prompts/{prompt}/captions.vtt", None, everyone(404)),
    ("auth.logout", "POST", "/logout", {}, everyone(302)),
]


@pytest.fixture
def world(app):
    owner = make_user(role="owner")
    org = owner.organisation
    users = {"owner": owner, "recruiter": make_user(org=org, role="recruiter"),
             "rev_assigned": make_user(org=org, role="reviewer", all_interviews=False),
             "rev_other": make_user(org=org, role="reviewer", all_interviews=False),
             "stranger": make_user(role="owner")}
    member = make_user(org=org, role="reviewer")  # no actor: its role changes, then it is removed
    resettee = make_user(org=org, role="reviewer")  # no actor: holds the password reset link
    iv, other_iv = make_interview(owner, questions=2), make_interview(owner, questions=1)
    team.set_assignment(owner, iv, users["rev_assigned"].public_id, True)
    team.set_assignment(owner, other_iv, users["rev_other"].public_id, True)
    cand, _ = make_candidate(iv)
    cand2, _ = make_candidate(iv)
    answer = make_media_answer(cand, iv.questions[0])
    storage_key = f"answers/{answer.public_id}/poster.jpg"
    current_storage().put_bytes(storage_key, b"\xff\xd8jpeg", "image/jpeg")
    answer.poster_key, answer.poster_size = storage_key, 6
    answer.audio_key = f"answers/{answer.public_id}/speech.wav"
    current_storage().put_bytes(answer.audio_key, b"RIFF....WAVE", "audio/wav")
    answer2 = make_media_answer(cand, iv.questions[1])
    prompt = PromptMedia(public_id=new_public_id(), org_id=org.id, interview_id=iv.id,
                         question_id=iv.questions[0].id, content_type="video/webm", status="ready",
                         chunk_hashes=[], transcript={"text": "Why us?", "segments": []})
    for name, column, data, kind in (("prompt.mp4", "mp4", b"\x00mp4" * 8, "video/mp4"),
                                     ("poster.jpg", "poster", b"\xff\xd8jpeg", "image/jpeg")):
        put = current_storage().put_bytes(f"prompts/{prompt.public_id}/{name}", data, kind)
        setattr(prompt, f"{column}_key", put.key)
        setattr(prompt, f"{column}_size", put.size)
    evaluation = AIEvaluation(answer_id=answer.id, candidate_id=cand.id, question_id=iv.questions[0].id,
                              status="done", result={"summary": "S", "quotes": [], "scores": {}}, mean=3)
    draft = AIDraft(interview_id=iv.id, user_id=owner.id, kind="questions", source="x", status="done",
                    items=[{"prompt": "Tell us about a project.", "ideal_answer": "A project.",
                            "criteria": [], "state": "pending"}])
    db.session.add_all([evaluation, draft, prompt])
    db.session.commit()
    both = [cand.public_id, cand2.public_id]
    link, view_token = sharing.create_link(owner, both, "view")
    _, score_token = sharing.create_link(owner, both, "score")
    revoked, revoked_token = sharing.create_link(owner, both, "score")
    sharing.revoke(owner, revoked)
    expired, expired_token = sharing.create_link(owner, both, "score")
    expired.expires_at = utcnow() - timedelta(minutes=1)
    spare, _ = sharing.create_link(owner, both, "view")
    template = authoring.duplicate(owner, iv, template=True)
    bank = question_bank.save_from_interview(owner, iv, iv.questions[1].public_id)
    spare_bank = question_bank.add(owner, {"prompt": "Spare", "think_seconds": "1", "answer_seconds": "30",
                                           "max_takes": "1"})
    invite, join_token = team.invite(owner, "joiner@example.com", "reviewer")
    _, reset_token = team.make_reset_link(owner, resettee.public_id)
    api_key, _ = api_keys.create(owner, "Matrix", "read")
    hook = webhook_endpoints.create_endpoint(owner, "https://hooks.example.com/x", ["candidate.invited"])
    db.session.commit()
    forged = secrets.token_urlsafe(32)
    tokens = {"guest_view": view_token, "guest_score": score_token, "revoked": revoked_token,
              "expired": expired_token}
    values = {"iv": iv.public_id, "cand": cand.public_id, "cand2": cand2.public_id,
              "q": iv.questions[0].public_id,
              "answer": answer.public_id, "answer2": answer2.public_id, "link": link.public_id,
              "spare_link": spare.public_id, "invite": invite.public_id, "join": join_token,
              "forged": forged, "reset": reset_token, "rev_assigned": users["rev_assigned"].public_id,
              "member": member.public_id, "template": template.public_id,
              "bank": bank.public_id, "spare_bank": spare_bank.public_id, "api_key": api_key.public_id,
              "hook": hook.public_id, "evaluation": evaluation.public_id, "draft": draft.public_id,
              "prompt": prompt.public_id}
    clients = {}
    for actor in ACTORS:
        cc = CsrfClient(app.test_client())
        if actor in users:
            cc.login(users[actor].email)
        else:
            cc.refresh("/login")
        clients[actor] = cc
    clients["guest_score"].post(f"/s/{score_token}/guest", data={"name": "Scoring Guest"})
    return clients, tokens, values


def _fill(template, values: dict, actor: str, tokens: dict, n: int):
    if not isinstance(template, str):
        return template
    return template.format(**values, token=tokens.get(actor, values["forged"]),
                           fresh_email=f"new{n}-{actor}@example.com")


def test_every_route_answers_each_actor_as_it_should(world):
    clients, tokens, values = world
    wrong = []
    for n, (endpoint, method, path, data, expected) in enumerate(ROUTES):
        for actor in ACTORS:
            cc = clients[actor]
            url = _fill(path, values, actor, tokens, n)
            if method == "GET":
                resp = cc.get(url)
            elif method == "PUT":
                resp = cc.put(url, data=data)
            elif method == "DELETE":
                resp = cc.client.delete(url)
            elif method == "PATCH":
                resp = cc.client.patch(url, json=data)
            else:
                form = {k: _fill(v, values, actor, tokens, n) for k, v in (data or {}).items()}
                resp = cc.post(url, data=form)
            want = expected[actor]
            ok = resp.status_code in want if isinstance(want, tuple) else resp.status_code == want
            if not ok:
                wrong.append(f"{method} {endpoint} as {actor}: expected {want}, got {resp.status_code}")
            resp.close()
    assert not wrong, "\n".join(wrong)


def test_the_matrix_covers_every_route(app):
    covered = {(endpoint, method) for endpoint, method, *_ in ROUTES}
    missing = []
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (rule.endpoint, method) not in covered:
                missing.append(f"{method} {rule.rule} ({rule.endpoint})")
    assert not missing, "add these routes to ROUTES: " + ", ".join(sorted(missing))
