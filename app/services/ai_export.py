"""The AI's advisory evaluations of a candidate as they go into the staff ZIP export
(ai-evaluations.json): each answer's evaluations, history included, with the model, prompt version,
temperature, input hash and flags; the overall and the candidate summary. The blind rule holds as it
does on the candidate's page: an answer's evaluation only where the exporter may see it now, the
overall and summary only once their own review is in (or they chose to see scores without grading)."""

from __future__ import annotations

import json

from app.extensions import db
from app.models import AIEvaluation, AISummary, Candidate, User
from app.services import ai_evaluation

ADVISORY = ("Advisory only: made by a language model from the question, its ideal answer, its criteria "
            "and the answer's transcript (never the candidate's name, face, voice or profile). "
            "People decide; check it against the recording.")


def visible_questions(user: User, candidate: Candidate, submitted: bool) -> frozenset[int]:
    """The ids of the questions whose AI evaluation this user may see now (the blind rule)."""
    from app.models import Score

    mine = {s.question_id: s for s in db.session.execute(db.select(Score).filter_by(
        candidate_id=candidate.id, user_id=user.id)).scalars()}
    return frozenset(q.id for q in candidate.questions
                     if ai_evaluation.may_see(user, candidate, q.id, mine.get(q.id), submitted))


def _when(moment) -> str | None:
    return moment.isoformat() if moment else None


def _evaluation(row: AIEvaluation) -> dict:
    result = row.result or {}
    return {
        "id": row.public_id, "current": row.current, "status": row.status,
        "model": row.model, "prompt_version": row.prompt_version, "temperature": row.temperature,
        "input_hash": row.input_hash, "seconds": row.seconds,
        "created_at": _when(row.created_at), "finished_at": _when(row.finished_at),
        "failure_reason": row.failure_reason,
        "mean": row.mean, "scores": result.get("scores"), "reasons": result.get("reasons"),
        "summary": result.get("summary"), "quotes": result.get("quotes"),
        "flag": {"by": row.flagged_by.name if row.flagged_by else None, "note": row.flag_note,
                 "at": _when(row.flagged_at)} if row.flagged_at else None,
    }


def _summary(row: AISummary) -> dict:
    return {"status": row.status, "text": row.text, "failure_reason": row.failure_reason,
            "model": row.model, "prompt_version": row.prompt_version, "input_hash": row.input_hash,
            "seconds": row.seconds, "created_at": _when(row.created_at),
            "finished_at": _when(row.finished_at)}


def document(candidate: Candidate, questions: frozenset[int], with_overall: bool) -> str | None:
    """ai-evaluations.json for this candidate, or None when the interview never used AI for them."""
    rows = db.session.execute(db.select(AIEvaluation).filter_by(candidate_id=candidate.id)
                              .order_by(AIEvaluation.id)).scalars().all()
    interview = candidate.interview
    if not rows and not interview.ai_evaluation:
        return None
    out: dict = {"advisory": ADVISORY, "human_only": candidate.human_only, "questions": []}
    for number, q in enumerate(candidate.questions, 1):
        mine = [r for r in rows if r.question_id == q.id]
        if q.id in questions:
            out["questions"].append({"question": number, "evaluations": [_evaluation(r) for r in mine]})
        else:
            out["questions"].append({"question": number, "hidden": "Shown once you have saved your own "
                                     "score for this answer, as on the candidate's page."})
    if with_overall:
        overall = ai_evaluation.overall(candidate)
        summary = ai_evaluation.current_summary(candidate)
        out["overall"] = {"mean": overall[0], "answers": overall[1]} if overall else None
        out["summary"] = _summary(summary) if summary else None
        out["not_in_summary"] = [{"question": n, "reason": f"its AI evaluation failed: {reason}"}
                                 for n, reason in ai_evaluation.left_out(candidate)]
    else:
        out["overall"] = out["summary"] = ("Hidden until you submit your own review of this candidate, "
                                           "or choose to see scores without grading.")
    return json.dumps(out, indent=2, ensure_ascii=False) + "\n"
