"""The two ways to run a model with the same messages and JSON schema: llama-cpp in this process
(the embedded default, the model loaded once per worker) or any OpenAI-compatible server (Ollama,
vLLM, llama.cpp's server, a hosted API). Imported by jobs only: never by the web process."""

from __future__ import annotations

import atexit
import logging
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from app.ai import AIError

log = logging.getLogger(__name__)
T = TypeVar("T")
SEED = 0


class Reply(str):
    """A model's reply text, with how likely the model found each score it wrote: for every JSON
    object in the reply that holds a `"score"` digit 1-5, the object's key mapped to the model's
    probability of each digit at that point (empty when the backend cannot tell). An evaluation's
    expected score is read from these (G-Eval's probability-weighted scoring): two answers the
    model both rates 5 differ in how sure it was."""

    score_odds: dict[str, dict[int, float]]

    def __new__(cls, text: str, score_odds: dict[str, dict[int, float]] | None = None):
        reply = super().__new__(cls, text)
        reply.score_odds = score_odds or {}
        return reply


SCORE_DIGITS = (1, 2, 3, 4, 5)
_SCORE_KEY = re.compile(r'"score"\s*:\s*$')
_HOLDER = re.compile(r'"([^"\\]+)"\s*:\s*\{')


def _holder(before: str) -> str | None:
    """The key of the JSON object a score sits in, from the reply's text before the score's digit
    (`"match": {"reason": "...", "score": ` gives "match"); None when the digit is not a score."""
    if not _SCORE_KEY.search(before):
        return None
    keys = _HOLDER.findall(before)
    return keys[-1] if keys else None


def _normalised(logits: dict[int, float]) -> dict[int, float]:
    """Probabilities of the digits 1-5 from their log-probabilities (or logits), summing to 1."""
    top = max(logits.values())
    weights = {d: math.exp(v - top) for d, v in logits.items()}
    total = sum(weights.values())
    return {d: round(w / total, 4) for d, w in weights.items()}


class Backend(Protocol):
    model: str

    def complete(self, messages: list[dict], schema: dict, max_tokens: int, odds: bool = False) -> Reply:
        """The reply to `messages` in `schema`'s shape; with `odds`, each score's odds as well
        (asked for only then: some servers refuse requests for log-probabilities)."""


_loaded: dict[tuple, object] = {}
_lock = threading.Lock()


def _without_extra_buffers() -> None:
    """Load models without llama.cpp's extra (AMX/repack) weight buffers, which crashed batched
    prompt decoding on this project's machines (research/llm-local.md). Llama() takes no such
    argument, so the defaults it starts from are changed, once per process."""
    import llama_cpp.llama_cpp as lib

    if getattr(lib.llama_model_default_params, "oneway", False):
        return
    original = lib.llama_model_default_params

    def defaults():
        params = original()
        params.use_extra_bufts = False
        return params

    defaults.oneway = True
    lib.llama_model_default_params = defaults


def load_llama(path: Path, threads: int, n_ctx: int = 4096):
    """A llama-cpp model as every part of Oneway loads it (greedy, seeded, quiet)."""
    from llama_cpp import Llama

    _without_extra_buffers()
    model = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads,
                  seed=SEED, verbose=False)
    # Freed before the interpreter tears down llama_cpp's own module (else its __del__ at exit finds
    # the library's functions gone and prints a TypeError traceback per model).
    atexit.register(model.close)
    return model


def _llama(path: Path, threads: int, n_ctx: int):
    """One llama-cpp model per process and settings."""
    key = (str(path), threads, n_ctx)
    with _lock:
        if key not in _loaded:
            began = time.perf_counter()
            _loaded[key] = load_llama(path, threads, n_ctx)
            log.info("loaded %s in %.1fs", path.name, time.perf_counter() - began)
        return _loaded[key]


@dataclass
class LocalBackend:
    """A GGUF model run with llama-cpp in this process; the schema becomes a grammar, so the reply
    always has its shape."""

    path: Path
    model: str
    threads: int = 2
    n_ctx: int = 4096

    def complete(self, messages: list[dict], schema: dict, max_tokens: int, odds: bool = False) -> Reply:
        from llama_cpp import LogitsProcessorList

        llm = _llama(self.path, self.threads, self.n_ctx)
        with _lock:  # one llama context is not safe to share between threads
            # Forget the previous prompt: reusing its cached prefix evaluates the rest in other
            # batches, which changes the numbers slightly and so, at a near tie, the reply. The same
            # input must give the same output.
            llm.reset()
            watch = _ScoreWatch(llm) if odds else None
            reply = llm.create_chat_completion(
                messages=messages, response_format={"type": "json_object", "schema": schema},
                temperature=0.0, top_k=1, repeat_penalty=1.0, seed=SEED, max_tokens=max_tokens,
                logits_processor=LogitsProcessorList([watch]) if watch else None)
        return Reply(reply["choices"][0]["message"]["content"] or "", watch.found if watch else None)


class _ScoreWatch:
    """A llama-cpp logits processor that changes nothing: at each step it keeps the model's raw
    logits for the digits 1-5 (before the schema's grammar narrows the choice), and when the step
    after shows that a digit was written as a JSON "score", files that step's digits under the
    key of the object holding the score."""

    def __init__(self, llm):
        self.llm = llm
        self.digits = {d: llm.tokenize(str(d).encode(), add_bos=False, special=False) for d in SCORE_DIGITS}
        self.single = all(len(ids) == 1 for ids in self.digits.values())
        self.by_token = {ids[0]: d for d, ids in self.digits.items()} if self.single else {}
        self.prompt_len: int | None = None
        self.pending: dict[int, float] | None = None
        self.found: dict[str, dict[int, float]] = {}

    def __call__(self, input_ids, logits):
        if not self.single:  # a tokenizer that splits digits: no odds, the scores stay whole
            return logits
        if self.prompt_len is None:
            self.prompt_len = len(input_ids)
        if self.pending is not None and len(input_ids) and int(input_ids[-1]) in self.by_token:
            written = [int(t) for t in input_ids[self.prompt_len:-1]]
            before = self.llm.detokenize(written).decode(errors="replace")
            key = _holder(before)
            if key is not None and key not in self.found:
                self.found[key] = _normalised(self.pending)
        self.pending = {d: float(logits[ids[0]]) for d, ids in self.digits.items()}
        return logits


@dataclass
class OpenAIBackend:
    """Any server that speaks OpenAI's chat completions with json_schema output."""

    base_url: str
    model: str
    api_key: str = ""
    timeout: float = 120.0

    def complete(self, messages: list[dict], schema: dict, max_tokens: int, odds: bool = False) -> Reply:
        import openai

        client = openai.OpenAI(base_url=self.base_url, api_key=self.api_key or "none",
                               timeout=self.timeout, max_retries=0)
        try:
            reply = client.chat.completions.create(
                model=self.model, messages=messages, temperature=0.0, seed=SEED, max_tokens=max_tokens,
                **({"logprobs": True, "top_logprobs": TOP_LOGPROBS} if odds else {}),
                response_format={"type": "json_schema",
                                 "json_schema": {"name": "reply", "schema": schema, "strict": True}})
        except openai.OpenAIError as exc:
            raise AIError(f"the language model server did not answer ({type(exc).__name__}: {exc})") from None
        if not reply.choices:
            raise AIError("the language model server gave an empty reply")
        choice = reply.choices[0]
        return Reply(choice.message.content or "", score_odds_from_logprobs(choice.logprobs))


TOP_LOGPROBS = 20  # OpenAI's most; the digits 1-5 are among them wherever the model weighs them


def score_odds_from_logprobs(logprobs) -> dict[str, dict[int, float]]:
    """The score odds from an OpenAI-style reply's token log-probabilities: at each token that
    writes a score's digit, the digits among that position's top alternatives. A server that sends
    no log-probabilities (some do not) gives none, and the scores stay whole."""
    tokens = getattr(logprobs, "content", None) or []
    found: dict[str, dict[int, float]] = {}
    before = ""
    for item in tokens:
        written = item.token
        if written.strip() in {str(d) for d in SCORE_DIGITS}:
            key = _holder(before + written[: len(written) - len(written.lstrip())])
            if key is not None and key not in found:
                odds = {}
                for alt in item.top_logprobs or []:
                    digit = alt.token.strip()
                    if digit in {str(d) for d in SCORE_DIGITS} and int(digit) not in odds:
                        odds[int(digit)] = alt.logprob
                odds.setdefault(int(written.strip()), item.logprob)
                found[key] = _normalised(odds)
        before += written
    return found


def from_config(cfg) -> Backend:
    """The backend the settings name: LLM_BASE_URL set means that server, otherwise the local model."""
    if cfg.get("LLM_BASE_URL"):
        if not cfg.get("LLM_MODEL"):
            raise AIError("LLM_BASE_URL is set but LLM_MODEL is not: name the server's model")
        return OpenAIBackend(cfg["LLM_BASE_URL"], cfg["LLM_MODEL"], cfg.get("LLM_API_KEY") or "",
                             float(cfg.get("LLM_TIMEOUT") or 120))
    from app.ai.model_files import QWEN, resolve_gguf

    name = cfg.get("LLM_MODEL") or QWEN
    path = resolve_gguf(name, cfg["MODEL_CACHE_DIR"])
    return LocalBackend(path, name if not name.endswith(".gguf") else path.stem,
                        int(cfg.get("LLM_THREADS") or 2))


@dataclass
class Outcome:
    """A checked reply, how long it took and how many tries."""

    value: object
    seconds: float
    attempts: int
    raw: str


def ask(backend: Backend, messages: list[dict], schema: dict, check: Callable[[str], T],
        max_tokens: int = 700, attempts: int = 2, odds: bool = False) -> Outcome:
    """Ask, check the reply; once more (with room for a longer reply: at temperature 0 the same
    request gives the same reply) if it fails the check; then AIError with the last reason."""
    began = time.perf_counter()
    reason = "no reply"
    for attempt in range(1, attempts + 1):
        try:
            raw = backend.complete(messages, schema, max_tokens * attempt, odds)
            return Outcome(check(raw), time.perf_counter() - began, attempt, raw)
        except AIError as exc:
            reason = str(exc)
            log.warning("model %s, try %d: %s", backend.model, attempt, reason)
    raise AIError(f"{reason} (after {attempts} tries)")
