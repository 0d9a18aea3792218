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

from app.ai import backends, evaluation
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


def test_an_openai_compatible_server_gets_the_same_prompt_and_schema(model_path):
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tests.llm_server", str(port), str(model_path)], cwd=ROOT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.3)
        remote = backends.OpenAIBackend(f"http://127.0.0.1:{port}/v1", "smollm2", "key", timeout=120)
        request = evaluation.build("smollm2", "Tell us about a project.", "A project with results.", None,
                                   TRANSCRIPT)
        outcome = backends.ask(remote, request.messages, request.schema,
                               lambda raw: evaluation.validate(raw, TRANSCRIPT, True))
        assert all(q in TRANSCRIPT for q in outcome.value.quotes)
        assert set(json.loads(outcome.raw)) == {"quotes", "summary", "match", "evidence", "clarity"}
    finally:
        proc.terminate()
        proc.wait(10)
