"""The AI pages in headless Chromium: an owner turns AI evaluation on; a grader sees an answer's
evaluation only after saving their own score (in place, with the keyboard), clicks a quote and the
player seeks to the moment it was said, and flags the evaluation as wrong; a hirer accepts a drafted
question after editing it, discards one and accepts one as drafted."""

from __future__ import annotations

import json

import pytest

from app.ai import evaluation
from app.extensions import db
from app.models import AIDraft, AIEvaluation, AIStatus, AuditEvent, Interview
from app.services import ai_evaluation
from tests.browser import live_server, signed_in_page
from tests.conftest import BACKENDS
from tests.factories import PASSWORD, make_candidate, make_interview, make_media_answer, make_user
from tests.media import pattern_mp4

pytestmark = pytest.mark.browser

SENTENCES = [(0.0, "I led the migration of our billing system."),
             (6.0, "We had six weeks and four engineers."),
             (12.0, "I split the work by service and we shipped two days early.")]


@pytest.fixture(scope="module")
def mp4(tmp_path_factory) -> bytes:
    return pattern_mp4(tmp_path_factory.mktemp("ai") / "answer.mp4", 20)


def _transcript() -> dict:
    """Three sentences said at 0, 6 and 12 s, with timed words as WhisperX gives them."""
    segments = []
    for start, text in SENTENCES:
        words = [{"word": w, "start": round(start + i * 0.5, 2), "end": round(start + i * 0.5 + 0.4, 2)}
                 for i, w in enumerate(text.split(" "))]
        segments.append({"start": start, "end": words[-1]["end"], "text": text, "words": words})
    return {"language": "en", "text": " ".join(t for _, t in SENTENCES), "segments": segments}


def _record(row: AIEvaluation, answer) -> None:
    """What jobs.ai.evaluate records from a valid reply: checked by evaluation.validate, each quote
    placed in the recording by evaluation.locate."""
    number = evaluation.sentences(answer.transcript_text).index(SENTENCES[1][1]) + 1  # quoted by number
    reply = json.dumps({"quotes": [number], "summary": "Led a billing migration with a small team.",
                        "match": {"reason": "Own role and actions, a result.", "score": 4},
                        "evidence": {"reason": "Weeks, people, days early.", "score": 5},
                        "clarity": {"reason": "In order.", "score": 4}})
    result = evaluation.validate(reply, answer.transcript_text, with_ideal=True)
    quotes = [{"text": q, "start": evaluation.locate(answer.transcript, q)} for q in result.quotes]
    row.result = {**result.to_dict(), "quotes": quotes, "attempts": 1}
    row.mean, row.model, row.prompt_version = round(result.mean, 3), "test-model", evaluation.PROMPT_VERSION
    row.temperature, row.seconds, row.status = 0.0, 1.0, AIStatus.DONE
    db.session.commit()


@pytest.mark.parametrize("backend", [BACKENDS[-1]], indirect=True)
def test_owner_turns_ai_on_and_a_grader_sees_it_after_scoring_seeks_a_quote_and_flags_it(
        app, backend, mp4):
    from playwright.sync_api import expect

    owner = make_user(role="owner")
    grader = make_user(org=owner.organisation, role="reviewer")
    interview = make_interview(owner, questions=1)
    question = interview.questions[0]
    question.ideal_answer = "A specific project, the candidate's own actions and a measured result."
    cand, _ = make_candidate(interview)
    answer = make_media_answer(cand, question, data=mp4, transcript=_transcript(), duration_s=20.0)
    db.session.commit()

    with live_server(app) as base:
        with signed_in_page(base, owner, PASSWORD) as page:
            page.goto(f"{base}/interviews/{interview.public_id}/ai")
            page.get_by_label("Evaluate each answer with AI", exact=False).check()
            page.get_by_role("button", name="Save").click()
            expect(page.get_by_text("AI assistance settings saved.")).to_be_visible()
            expect(page.locator("input[data-ai-evaluation]")).to_be_checked()
            assert page.errors == []
        db.session.expire_all()
        assert db.session.get(Interview, interview.id).ai_evaluation

        # The answer's evaluation, as the ai job records a checked reply (the job itself, with a
        # real model, is tested in test_ai_model.py: here the pages are).
        row = ai_evaluation.after_ready(answer.id)
        assert row is not None
        _record(row, answer)
        quote = row.result["quotes"][0]
        assert quote["start"] == 6.0

        with signed_in_page(base, grader, PASSWORD) as page:
            page.goto(f"{base}/review/candidates/{cand.public_id}")
            page.locator("[data-controls]").first.wait_for(state="visible")
            # Blind: the AI's view waits for the grader's own score.
            expect(page.locator("[data-ai-blind]")).to_be_visible()
            expect(page.locator("[data-ai-done]")).to_have_count(0)
            assert row.result["summary"] not in page.content()
            page.keyboard.press("4")  # saved in place by review.js
            expect(page.locator("[data-saved-score]")).to_have_attribute("data-saved-score", "4")
            page.get_by_role("link", name="Saved it? Show the AI evaluation").click()
            done = page.locator("[data-ai-done]")
            expect(done).to_be_visible()
            expect(done.locator("[data-ai-provenance]")).to_contain_text(row.model)
            expect(done.locator("[data-ai-provenance]")).to_contain_text(row.prompt_version)

            # A quote seeks this answer's player to the moment it was said, without leaving the page.
            page.evaluate("""() => { const v = document.querySelector('section.answer video');
                v.pause(); v.currentTime = 19; }""")
            page.wait_for_function("() => document.querySelector('section.answer video').currentTime > 18")
            url = page.url
            page.locator(f'[data-ai-seek="{quote["start"]}"]').first.click()
            page.wait_for_function(
                "at => Math.abs(document.querySelector('section.answer video').currentTime - at) < 2.5",
                arg=quote["start"])
            assert page.url == url

            # Flagged as wrong, with a note that stays on the page.
            done.get_by_text("This evaluation is wrong").click()
            done.get_by_label("What is wrong with it?").fill("It missed the measured result.")
            done.get_by_role("button", name="Flag as wrong").click()
            expect(page.locator("[data-ai-flagged]")).to_contain_text("It missed the measured result.")
            assert page.errors == []
    db.session.expire_all()
    flagged = db.session.get(AIEvaluation, row.id)
    assert (flagged.flag_note, flagged.flagged_by_id) == ("It missed the measured result.", grader.id)


@pytest.mark.parametrize("backend", [BACKENDS[-1]], indirect=True)
def test_drafted_questions_are_accepted_edited_or_discarded_one_by_one(app, backend):
    from playwright.sync_api import expect

    owner = make_user(role="owner")
    interview = make_interview(owner, questions=1)
    items = [{"prompt": "Tell us about a migration you led.", "ideal_answer": "Scope, plan, result.",
              "criteria": ["Planning"], "state": "pending"},
             {"prompt": "What is your favourite colour?", "ideal_answer": "Blue.", "criteria": [],
              "state": "pending"},
             {"prompt": "How do you handle an angry customer?", "ideal_answer": "Listens, checks, fixes.",
              "criteria": ["Empathy"], "state": "pending"}]
    draft = AIDraft(interview_id=interview.id, user_id=owner.id, kind="questions", source="jd",
                    status=AIStatus.DONE, items=items, model="test-model", prompt_version="draft-1")
    db.session.add(draft)
    db.session.commit()
    with live_server(app) as base, signed_in_page(base, owner, PASSWORD) as page:
        page.goto(f"{base}/interviews/{interview.public_id}/ai/drafts/{draft.public_id}")
        forms = page.locator("form[data-draft-item]")
        expect(forms).to_have_count(3)
        # Edited before use: the question and its ideal answer as the hirer changed them.
        first = forms.nth(0)
        first.get_by_label("Question").fill("Tell us about a migration you led, and what it changed.")
        first.get_by_label("Ideal answer (graders only)").fill("Scope, plan, measured result.")
        first.get_by_role("button", name="Add to the interview").click()
        expect(page.get_by_text("Suggestion added to the interview.")).to_be_visible()
        forms.nth(1).get_by_role("button", name="Discard").click()
        expect(page.get_by_text("Suggestion discarded.")).to_be_visible()
        forms.nth(2).get_by_role("button", name="Add to the interview").click()
        expect(page.locator('form[data-draft-item="accepted"]')).to_have_count(2)
        expect(page.locator('form[data-draft-item="discarded"]')).to_have_count(1)
        expect(page.locator('form[data-draft-item="pending"]')).to_have_count(0)
        page.goto(f"{base}/interviews/{interview.public_id}")
        assert "Tell us about a migration you led, and what it changed." in page.content()
        assert "What is your favourite colour?" not in page.content()
        assert page.errors == []
    db.session.expire_all()
    questions = db.session.get(Interview, interview.id).questions
    assert [(q.prompt, q.ideal_answer) for q in questions[1:]] == [
        ("Tell us about a migration you led, and what it changed.", "Scope, plan, measured result."),
        ("How do you handle an angry customer?", "Listens, checks, fixes.")]
    accepted = db.session.execute(db.select(AuditEvent).filter_by(action="ai.draft_accepted")
                                  .order_by(AuditEvent.id)).scalars().all()
    assert [e.detail["edited"] for e in accepted] == [", edited before use", ", as drafted"]
