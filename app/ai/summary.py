"""The AI's short summary of a candidate, written from the advisory evaluations of their answers:
the questions, each answer's summary and scores. Never the transcripts' speaker, name or media."""

from __future__ import annotations

from app.ai import AIError, load_object
from app.ai.evaluation import Request, text

PROMPT_VERSION = "summary-1"

SYSTEM = """You help a hiring team. Below are advisory evaluations of one candidate's answers to \
interview questions. Write a short summary, in two or three sentences, of the strengths and gaps \
they show, based only on these evaluations. Do not guess anything about the person, and do not \
recommend hiring or rejecting. Reply with JSON only."""


def build(model: str, items: list[tuple[str, str, dict[str, int]]]) -> Request:
    """items: (question, answer summary, scores) per evaluated answer, in the interview's order."""
    lines = []
    for i, (question, summary, scores) in enumerate(items, 1):
        marks = ", ".join(f"{name} {value}/5" for name, value in scores.items())
        lines.append(f"Question {i}: {question.strip()}\nEvaluation: {summary.strip()} ({marks})")
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "\n\n".join(lines)}]
    schema = {"type": "object", "additionalProperties": False, "required": ["summary"],
              "properties": {"summary": text(500)}}
    return Request(model, messages, schema, prompt_version=PROMPT_VERSION)


def validate(reply: str) -> str:
    text = load_object(reply).get("summary")
    if not isinstance(text, str) or not text.strip():
        raise AIError("the model gave no summary")
    return text.strip()
