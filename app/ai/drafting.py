"""Drafting questions with ideal answers from a job description, and an ideal answer for a question
the hirer wrote. Drafts are suggestions: nothing is used until the hirer accepts it."""

from __future__ import annotations

from app.ai import AIError, load_object
from app.ai.evaluation import text
from app.media.words import spaceless

PROMPT_VERSION = "draft-1"
MAX_QUESTIONS = 10

SYSTEM = """You help a hiring team write questions for a one-way interview, answered on video, by \
audio or in writing within two or three minutes. Ask about the skills and experience the job needs, \
one topic per question, open questions that invite a concrete example. Never ask about age, family, \
health, religion, origin or anything else unrelated to the job. For each question write the ideal \
answer: what a strong candidate would say, in a few sentences, as a grader's guide. Write in the \
language of the job description. Reply with JSON only."""

IDEAL_SYSTEM = """You help a hiring team write the ideal answer to an interview question: what a \
strong candidate would say, in a few sentences, as a guide for the people who grade the answers. \
Write in the language of the question. Reply with JSON only."""


def _question_item() -> dict:
    return {"type": "object", "additionalProperties": False,
            "required": ["prompt", "ideal_answer", "criteria"],
            "properties": {"prompt": text(300), "ideal_answer": text(700),
                           "criteria": {"type": "array", "maxItems": 4, "items": text(80)}}}


def questions_schema(count: int) -> dict:
    return {"type": "object", "additionalProperties": False, "required": ["questions"],
            "properties": {"questions": {"type": "array", "minItems": count, "maxItems": count,
                                         "items": _question_item()}}}


def ideal_schema() -> dict:
    return {"type": "object", "additionalProperties": False, "required": ["ideal_answer"],
            "properties": {"ideal_answer": text(700)}}


def questions_messages(job_description: str, count: int) -> list[dict]:
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"Job description:\n{job_description.strip()}\n\n"
                                        f"Write {count} questions, each with its ideal answer and up to "
                                        "four short criteria a grader should look for."}]


def ideal_messages(question: str, job_description: str = "") -> list[dict]:
    context = f"Job description:\n{job_description.strip()}\n\n" if job_description.strip() else ""
    return [{"role": "system", "content": IDEAL_SYSTEM},
            {"role": "user", "content": f"{context}Question:\n{question.strip()}"}]


def _keep_script(text: str, source: str) -> str:
    """Small models drift into another script mid-sentence (English turning Chinese): where the
    source has no spaceless script, cut the text at the first such character."""
    if any(spaceless(c) for c in source):
        return text.strip()
    for i, ch in enumerate(text):
        if spaceless(ch):
            return text[:i].rstrip(" ,;:")
    return text.strip()


def validate_questions(reply: str, job_description: str) -> list[dict]:
    """The drafted questions, each {prompt, ideal_answer, criteria}, cleaned; AIError if unusable."""
    items = load_object(reply).get("questions")
    if not isinstance(items, list) or not items:
        raise AIError("the model drafted no questions")
    out = []
    for item in items[:MAX_QUESTIONS]:
        if not isinstance(item, dict):
            continue
        prompt = _keep_script(str(item.get("prompt") or ""), job_description)
        ideal = _keep_script(str(item.get("ideal_answer") or ""), job_description)
        criteria = [c for c in (_keep_script(str(c), job_description)[:80]
                                for c in item.get("criteria") or [] if isinstance(c, str)) if c][:4]
        if len(prompt) >= 10 and prompt not in [q["prompt"] for q in out]:
            out.append({"prompt": prompt[:400], "ideal_answer": ideal[:1200], "criteria": criteria})
    if not out:
        raise AIError("the model drafted no usable question")
    return out


def validate_ideal(reply: str, question: str) -> str:
    ideal = _keep_script(str(load_object(reply).get("ideal_answer") or ""), question)
    if len(ideal) < 10:
        raise AIError("the model drafted no usable ideal answer")
    return ideal[:1200]
