"""The endpoint path of AI assistance against a real OpenAI-compatible server process (tests/
llm_server.py) serving the real small model: the same prompt and JSON schema as the embedded
model, and replies checked the same way (verbatim quotes)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from app.ai import AIError, backends, evaluation
from app.ai.model_files import SMOLLM, resolve_gguf
from tests.conftest import ROOT
from tests.test_ai import TRANSCRIPT

pytestmark = [pytest.mark.slow, pytest.mark.processes]


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    return resolve_gguf(SMOLLM, tmp_path_factory.mktemp("models"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Server:
    """tests/llm_server.py on a free port, serving the small model."""

    def __init__(self, model_path, *flags: str):
        self.port = _free_port()
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.llm_server", str(self.port),
                                      str(model_path), *flags],
                                     cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"})

    def __enter__(self):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.3)
        return backends.OpenAIBackend(f"http://127.0.0.1:{self.port}/v1", "smollm2", "key", timeout=120)

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(10)


def test_an_openai_compatible_server_gets_the_same_prompt_and_schema(model_path):
    with _Server(model_path) as remote:
        request = evaluation.build("smollm2", "Tell us about a project.", "A project with results.", None,
                                   TRANSCRIPT, "eval-6")
        outcome = backends.ask(remote, request.messages, request.schema,
                               lambda raw: evaluation.validate(raw, TRANSCRIPT, True, "eval-6"), odds=True)
        assert all(q in TRANSCRIPT for q in outcome.value.quotes)
        assert set(json.loads(outcome.raw)) == {"quotes", "summary", "match", "evidence", "clarity"}
        # The server's token log-probabilities give each score's odds, as the embedded model's do:
        # the written digit is the likeliest, and the mean is of the expected scores.
        result = outcome.value
        assert set(outcome.raw.score_odds) == set(result.scores) == set(result.expected)
        for name, odds in outcome.raw.score_odds.items():
            assert max(odds, key=odds.get) == result.scores[name]
        assert result.mean == pytest.approx(sum(result.expected.values()) / 3)


def test_a_server_without_logprobs_gives_whole_scores(model_path):
    """Some servers ignore `logprobs`: the evaluation stands, its mean of the digits written."""
    with _Server(model_path, "--no-logprobs") as remote:
        request = evaluation.build("smollm2", "Tell us about a project.", "", None, TRANSCRIPT, "eval-6")
        outcome = backends.ask(remote, request.messages, request.schema,
                               lambda raw: evaluation.validate(raw, TRANSCRIPT, False, "eval-6"), odds=True)
        assert outcome.raw.score_odds == {} and outcome.value.expected == {}
        assert outcome.value.mean == sum(outcome.value.scores.values()) / 2


def test_only_a_weighted_version_asks_for_logprobs_which_some_servers_refuse(model_path):
    with _Server(model_path, "--refuse-logprobs") as remote:
        request = evaluation.build("smollm2", "Tell us about a project.", "", None, TRANSCRIPT)
        outcome = backends.ask(remote, request.messages, request.schema,
                               lambda raw: evaluation.validate(raw, TRANSCRIPT, False))
        assert outcome.value.quotes and outcome.value.expected == {}  # the default asks for none
        weighted = evaluation.build("smollm2", "Tell us about a project.", "", None, TRANSCRIPT, "eval-6")
        with pytest.raises(AIError, match="logprobs is not supported"):
            backends.ask(remote, weighted.messages, weighted.schema,
                         lambda raw: evaluation.validate(raw, TRANSCRIPT, False, "eval-6"), odds=True)
