"""An advisory evaluation of one answer: the prompt, the JSON schema the model must fill, and the
checks every reply passes before it is kept.

Only the question, the ideal answer, the criteria and the transcript go in: never a name, an e-mail,
a picture, a voice or anything else about the candidate. The quotes are constrained to the
transcript's own sentences (an enum in the schema), so a grammar-constrained model can only quote
verbatim; every reply is checked again here, since some servers do not enforce the schema."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field

from app.ai import AIError, load_object

TEMPERATURE = 0.0
MAX_SENTENCES = 60
CRITERIA = ("match", "evidence", "clarity")

SYSTEM_1 = """You help a hiring team review one written or transcribed interview answer. Judge only the \
content of the answer against the question. You never decide about the candidate; a person does.
Score each criterion from 1 to 5:
- match: how well the answer covers what the ideal answer contains. 5 = covers all of it as well \
as the ideal answer; 3 = covers about half; 1 = covers none of it.
- evidence: 5 = specific examples, facts, numbers or results from the candidate's own experience; \
3 = some detail but mostly general; 1 = only general claims, no examples.
- clarity: 5 = clear, concise and well structured; 3 = understandable but rambling or disordered; \
1 = hard to follow.
A long answer is not better because it is long. Ignore accent, grammar slips and filler words.
Quote the transcript's sentences that best support your scores. Give a short reason for each score \
and a two-to-three sentence summary of what the answer says. Reply with JSON only."""

SYSTEM_2 = """You help a hiring team review one written or transcribed interview answer. Judge only the \
content of the answer against the question and the rubric. You never decide about the candidate; a \
person does. Be strict and exact: a 5 is kept for an answer as good as the ideal answer, and an \
answer that sounds fine but stays vague or misses points of the ideal answer gets 2 or 3.
A long answer is not better because it is long. Ignore accent, grammar slips and filler words.
First quote the transcript's sentences that best support your scores and summarise what the answer \
says in two or three sentences. Then, for each criterion, write the reason first (for match: which \
points of the ideal answer the answer covers and which it misses), then the score the rubric gives. \
Reply with JSON only."""


SYSTEM_NUMBERED = SYSTEM_1.replace("Quote the transcript's sentences", "Give the numbers of the sentences")


def _rubric(ideal: str) -> str:
    """Per-level descriptions for each criterion (prometheus-eval style), match anchored to the
    question's own ideal answer."""
    lines = ["Rubric (score 1 to 5; 2 and 4 lie between the levels described):"]
    if ideal:
        lines += [
            "match: how much of the ideal answer the answer covers.",
            "  5 = covers every point of the ideal answer, as concretely as it does.",
            "  3 = covers some points of the ideal answer but misses several, or handles one badly.",
            "  1 = covers none of its points, or does the opposite of what it describes.",
        ]
    lines += [
        "evidence: support with specifics.",
        "  5 = concrete steps, a real example from the candidate's own work, facts, numbers or a result.",
        "  3 = some concrete detail, but mostly general statements or vague actions.",
        "  1 = only opinions or claims about themselves, nothing concrete.",
        "clarity: clear, concise, well structured.",
        "  5 = answers the question directly, in a logical order, nothing off the point.",
        "  3 = understandable, but partly off the point, or in no clear order.",
        "  1 = does not answer the question asked, or is hard to follow.",
    ]
    return "\n".join(lines)


@dataclass(frozen=True)
class Prompt:
    """One version of the evaluation prompt and the reply's limits. Every evaluation records the
    version it was made with; the older versions stay here so that a stored one can be read
    against the prompt that made it (and bench/ai.py can compare them)."""

    version: str
    system: str
    rubric: bool  # per-level descriptions in the user message
    reason_max: int
    summary_max: int
    max_quotes: int
    weighted: bool = False  # the mean of expected scores (the model's odds), not of the digits written
    numbered: bool = False  # the answer shown as numbered sentences, quoted by number (far fewer tokens)


PROMPTS = {p.version: p for p in (
    Prompt("eval-1", SYSTEM_1, False, 200, 360, 3),
    Prompt("eval-2", SYSTEM_2, True, 200, 360, 3),
    Prompt("eval-3", SYSTEM_2, True, 110, 240, 2),
    Prompt("eval-4", SYSTEM_1, False, 110, 240, 2),
    Prompt("eval-5", SYSTEM_1, False, 110, 240, 2, weighted=True),
    Prompt("eval-6", SYSTEM_NUMBERED, False, 110, 240, 2, weighted=True, numbered=True),
    Prompt("eval-7", SYSTEM_NUMBERED, False, 110, 240, 2, numbered=True),
)}
# eval-4: eval-1's prompt with shorter reasons and summary and two quotes gave the same scores on
# bench/ai.py's 12-answer subset with 20-30% fewer output tokens; eval-2's rubric did worse
# (bench/README.md, "Prompt versions compared").
# eval-5: eval-4, each score weighted by the model's odds of 1-5 there (G-Eval).
# eval-6: the answer shown as numbered sentences and quoted by number, scores weighted.
# eval-7: eval-6's prompt and replies, the mean of the digits written. On bench/ai.py's 30 answers
# with the embedded model, eval-6's replies rank the labels at 0.738 by their digits and 0.674 by
# their weighted scores (the model is near-certain of each digit, and its small doubts do not follow
# the labels), in 19.1 s for the 164-word answer against eval-4's 27-32 s (bench/README.md). The
# weighted versions stay for larger models (AI_PROMPT_VERSION), whose odds say more.
PROMPT_VERSION = "eval-7"


def sentences(transcript: str, most: int | None = MAX_SENTENCES) -> list[str]:
    """The transcript cut into sentences, each an exact substring of it (at most `most`, unique); a
    long run without punctuation is cut every 30 words."""
    found: list[str] = []
    for piece in re.split(r"(?<=[.!?。！？؟])\s+|\n+", transcript):
        piece = piece.strip()
        words = piece.split(" ")
        for i in range(0, len(words), 30):
            chunk = " ".join(words[i:i + 30]).strip()
            if chunk and chunk in transcript and chunk not in found:
                found.append(chunk)
    return found[:most]


def numbered(found: list[str]) -> str:
    """The answer as the model sees it under a numbered version: one sentence a line, from 1."""
    return "\n".join(f"[{n}] {sentence}" for n, sentence in enumerate(found, 1))


def text(most: int) -> dict:
    """A JSON string of 1 to `most` characters. The length is also a pattern, since llama-cpp's
    grammar ignores maxLength, and a small model otherwise loops inside a string until its tokens
    run out (it spelled "5.1.1.1..." for 600 characters)."""
    return {"type": "string", "minLength": 1, "maxLength": most,
            "pattern": f"^[^\"\\\\\\x00-\\x1f]{{1,{most}}}$"}


def _scored(reason_max: int) -> dict:
    return {"type": "object", "additionalProperties": False, "required": ["reason", "score"],
            "properties": {"reason": text(reason_max), "score": {"type": "integer", "enum": [1, 2, 3, 4, 5]}}}


def schema(transcript_sentences: list[str], with_ideal: bool, version: str = PROMPT_VERSION) -> dict:
    """The reply's JSON schema: quotes first (chosen from the sentences), then the summary, then a
    reason before each score, so the model explains before it scores."""
    prompt = PROMPTS[version]
    criteria = CRITERIA if with_ideal else CRITERIA[1:]
    quoted = ({"type": "integer", "enum": list(range(1, len(transcript_sentences) + 1))} if prompt.numbered
              else {"type": "string", "enum": transcript_sentences})
    props = {
        "quotes": {"type": "array", "minItems": 1, "maxItems": prompt.max_quotes, "items": quoted},
        "summary": text(prompt.summary_max),
    }
    props.update({name: _scored(prompt.reason_max) for name in criteria})
    return {"type": "object", "additionalProperties": False,
            "required": ["quotes", "summary", *criteria], "properties": props}


def messages(question: str, ideal_answer: str, criteria: list[str] | None, transcript: str,
             version: str = PROMPT_VERSION) -> list[dict]:
    """The chat messages; the only four things about an answer that reach a model."""
    prompt = PROMPTS[version]
    parts = [f"Question:\n{question.strip()}"]
    if ideal_answer.strip():
        parts.append(f"Ideal answer (what scores 5 on match):\n{ideal_answer.strip()}")
    else:
        parts.append("There is no ideal answer for this question: score only evidence and clarity.")
    if criteria:
        parts.append("The hiring team also looks for: " + "; ".join(criteria))
    if prompt.rubric:
        parts.append(_rubric(ideal_answer.strip()))
    if prompt.numbered:
        parts.append("The candidate's answer (transcript), one numbered sentence a line:\n"
                     + numbered(sentences(transcript, None)))
    else:
        parts.append(f"The candidate's answer (transcript):\n{transcript.strip()}")
    return [{"role": "system", "content": prompt.system}, {"role": "user", "content": "\n\n".join(parts)}]


@dataclass
class Request:
    """Everything that decides a reply: same request, same hash, same output (temperature 0)."""

    model: str
    messages: list[dict]
    schema: dict
    temperature: float = TEMPERATURE
    prompt_version: str = PROMPT_VERSION

    @property
    def input_hash(self) -> str:
        blob = json.dumps(asdict(self), sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()


def build(model: str, question: str, ideal_answer: str, criteria: list[str] | None,
          transcript: str, version: str = PROMPT_VERSION) -> Request:
    """The request for one answer; refuses a transcript with nothing to quote."""
    if version not in PROMPTS:
        raise AIError(f"AI_PROMPT_VERSION {version!r} is not one of {', '.join(sorted(PROMPTS))}")
    found = sentences(transcript, None if PROMPTS[version].numbered else MAX_SENTENCES)
    if not found:
        raise AIError("The answer has no words to evaluate.")
    return Request(model, messages(question, ideal_answer, criteria, transcript, version),
                   schema(found, bool(ideal_answer.strip()), version), prompt_version=version)


def for_answer(model: str, answer, version: str = PROMPT_VERSION) -> Request:
    """The request for a stored answer: its question's text, ideal answer and criteria, and its
    transcript. Nothing else of the answer or the candidate is read, so no name, e-mail, picture,
    voice or profile can reach a model."""
    question = answer.question
    return build(model, question.prompt, question.ideal_answer or "", question.criteria,
                 answer.transcript_text, version)


@dataclass
class Result:
    """A validated reply: scores 1-5 with reasons, verbatim quotes, a summary."""

    summary: str
    quotes: list[str]
    scores: dict[str, int]
    reasons: dict[str, str]
    extra: dict = field(default_factory=dict)
    # Each score weighted by how likely the model found each of 1-5 there (G-Eval): 4.62 where it
    # wrote 5 but weighed 4. Empty when the backend gives no odds; then the whole scores count.
    expected: dict[str, float] = field(default_factory=dict)

    @property
    def mean(self) -> float:
        """The answer's mean: of the expected scores when there are some for every criterion (they
        rank answers the model scored alike), else of the scores as written."""
        values = self.expected if set(self.expected) == set(self.scores) else self.scores
        return sum(values.values()) / len(values)

    def to_dict(self) -> dict:
        out = {"summary": self.summary, "quotes": self.quotes, "scores": self.scores, "reasons": self.reasons}
        if self.expected:
            out["expected"] = self.expected
        return out


def expected_scores(odds: dict[str, dict[int, float]], scores: dict[str, int]) -> dict[str, float]:
    """Each criterion's expected score from the model's odds at its score, where they are
    consistent with the score written (the written digit is among the odds); else none at all."""
    found = {}
    for name, score in scores.items():
        here = odds.get(name) or {}
        total = sum(here.values())
        if score not in here or total <= 0:
            return {}
        found[name] = round(sum(d * p for d, p in here.items()) / total, 3)
    return found


def validate(reply: str, transcript: str, with_ideal: bool, version: str = PROMPT_VERSION) -> Result:
    """Parse and check one reply: the schema's shape, scores 1-5, and every quote an exact
    substring of the transcript. Raises AIError saying what was wrong. Under a weighted version,
    the reply's score odds (backends.Reply) give the expected scores."""
    data = load_object(reply)
    criteria = CRITERIA if with_ideal else CRITERIA[1:]
    scores, reasons = {}, {}
    for name in criteria:
        item = data.get(name)
        score = item.get("score") if isinstance(item, dict) else None
        reason = item.get("reason") if isinstance(item, dict) else None
        if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
            raise AIError(f"the model gave no score from 1 to 5 for {name}")
        if not isinstance(reason, str) or not reason.strip():
            raise AIError(f"the model gave no reason for its {name} score")
        scores[name], reasons[name] = score, reason.strip()
    summary = data.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        raise AIError("the model gave no summary")
    quotes = data.get("quotes")
    if PROMPTS[version].numbered and isinstance(quotes, list):  # sentence numbers, from 1
        found = sentences(transcript, None)
        if not all(isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= len(found) for n in quotes):
            raise AIError(f"the model quoted a sentence the answer does not have: {quotes!r:.80}")
        quotes = [found[n - 1] for n in quotes]
    if not isinstance(quotes, list) or not quotes or not all(isinstance(q, str) for q in quotes):
        raise AIError("the model quoted nothing from the answer")
    quotes = list(dict.fromkeys(q.strip() for q in quotes))
    for quote in quotes:
        if not quote or quote not in transcript:
            raise AIError(f"the model's quote is not in the transcript: {quote[:80]!r}")
    odds = getattr(reply, "score_odds", None) or {}
    expected = expected_scores(odds, scores) if PROMPTS[version].weighted else {}
    return Result(summary.strip(), quotes, scores, reasons, expected=expected)


def locate(transcript: dict, quote: str) -> float | None:
    """The second at which a quote begins in a recording's transcript (the time of its first word),
    or None for a written answer or one whose words carry no times."""
    from app.media.words import gap, join, word_at

    offset = (transcript.get("text") or "").find(quote)
    if offset < 0:
        return None
    text = ""
    for seg in transcript.get("segments") or []:
        seg_text = (seg.get("text") or "").strip()
        if not seg_text:
            continue
        text += gap(text, seg_text)
        if offset < len(text) + len(seg_text):
            words = seg.get("words") or []
            inside = offset - len(text)
            if words and join(w["word"] for w in words) == seg_text:
                index = word_at([w["word"] for w in words], max(0, inside))
                if index is not None and words[index].get("start") is not None:
                    return float(words[index]["start"])
            return float(seg["start"]) if seg.get("start") is not None else None
        text += seg_text
    return None
