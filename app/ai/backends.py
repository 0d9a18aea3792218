"""The two ways to run a model with the same messages and JSON schema: llama-cpp in this process
(the embedded default, the model loaded once per worker) or any OpenAI-compatible server (Ollama,
vLLM, llama.cpp's server, a hosted API). Imported by jobs only: never by the web process."""

from __future__ import annotations

import atexit
import logging
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


class Backend(Protocol):
    model: str

    def complete(self, messages: list[dict], schema: dict, max_tokens: int) -> str: ...


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

    def complete(self, messages: list[dict], schema: dict, max_tokens: int) -> str:
        llm = _llama(self.path, self.threads, self.n_ctx)
        with _lock:  # one llama context is not safe to share between threads
            # Forget the previous prompt: reusing its cached prefix evaluates the rest in other
            # batches, which changes the numbers slightly and so, at a near tie, the reply. The same
            # input must give the same output.
            llm.reset()
            reply = llm.create_chat_completion(
                messages=messages, response_format={"type": "json_object", "schema": schema},
                temperature=0.0, top_k=1, repeat_penalty=1.0, seed=SEED, max_tokens=max_tokens)
        return reply["choices"][0]["message"]["content"] or ""


@dataclass
class OpenAIBackend:
    """Any server that speaks OpenAI's chat completions with json_schema output."""

    base_url: str
    model: str
    api_key: str = ""
    timeout: float = 120.0

    def complete(self, messages: list[dict], schema: dict, max_tokens: int) -> str:
        import openai

        client = openai.OpenAI(base_url=self.base_url, api_key=self.api_key or "none",
                               timeout=self.timeout, max_retries=0)
        try:
            reply = client.chat.completions.create(
                model=self.model, messages=messages, temperature=0.0, seed=SEED, max_tokens=max_tokens,
                response_format={"type": "json_schema",
                                 "json_schema": {"name": "reply", "schema": schema, "strict": True}})
        except openai.OpenAIError as exc:
            raise AIError(f"the language model server did not answer ({type(exc).__name__}: {exc})") from None
        if not reply.choices:
            raise AIError("the language model server gave an empty reply")
        return reply.choices[0].message.content or ""


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
        max_tokens: int = 700, attempts: int = 2) -> Outcome:
    """Ask, check the reply; once more (with room for a longer reply: at temperature 0 the same
    request gives the same reply) if it fails the check; then AIError with the last reason."""
    began = time.perf_counter()
    reason = "no reply"
    for attempt in range(1, attempts + 1):
        try:
            raw = backend.complete(messages, schema, max_tokens * attempt)
            return Outcome(check(raw), time.perf_counter() - began, attempt, raw)
        except AIError as exc:
            reason = str(exc)
            log.warning("model %s, try %d: %s", backend.model, attempt, reason)
    raise AIError(f"{reason} (after {attempts} tries)")
