"""A small OpenAI-compatible chat completions server for the tests: it serves a real GGUF model
with llama-cpp, honouring response_format json_schema and logprobs/top_logprobs as OpenAI, vLLM and
llama.cpp's server do (the log-probabilities are the model's own, before the schema narrows the
choice). Run: python -m tests.llm_server PORT MODEL_PATH [--no-logprobs | --refuse-logprobs]. Not part of
Oneway: a stand-in for Ollama or vLLM; --no-logprobs plays a server that ignores the request for
them, --refuse-logprobs one that answers it with a 400."""

from __future__ import annotations

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Lock


class _Steps:
    """A logits processor that changes nothing and writes OpenAI's `logprobs.content`: each
    generated token with its log-probability and the `top` likeliest tokens at its step."""

    def __init__(self, llm, top: int):
        self.llm, self.top, self.previous, self.content = llm, top, None, []

    def _text(self, token: int) -> str:
        return self.llm.detokenize([token]).decode(errors="replace")

    def __call__(self, input_ids, logits):
        import numpy as np

        if self.previous is not None:  # the token written at the previous step is now the last input
            logprobs, best = self.previous
            token = int(input_ids[-1])
            self.content.append({
                "token": self._text(token), "logprob": float(logprobs[token]), "bytes": None,
                "top_logprobs": [{"token": self._text(int(t)), "logprob": float(logprobs[t]), "bytes": None}
                                 for t in best]})
        shifted = logits - logits.max()
        logprobs = shifted - np.log(np.exp(shifted).sum())
        best = np.argpartition(logprobs, -self.top)[-self.top:]
        self.previous = (logprobs, best[np.argsort(-logprobs[best])])
        return logits


def serve(port: int, model_path: str, logprobs: bool = True, refuse_logprobs: bool = False) -> None:
    from pathlib import Path

    from llama_cpp import LogitsProcessorList

    from app.ai.backends import load_llama

    llm = load_llama(Path(model_path), threads=1)
    lock = Lock()
    name = model_path.rsplit("/", 1)[-1]

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            return

        def _send(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self._send(200, {"object": "list", "data": [{"id": name, "object": "model"}]})

        def do_POST(self):
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send(404, {"error": {"message": "not found"}})
                return
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            if refuse_logprobs and body.get("logprobs"):  # as some hosted reasoning models do
                self._send(400, {"error": {"message": "logprobs is not supported with this model",
                                           "type": "invalid_request_error", "param": "logprobs"}})
                return
            fmt = body.get("response_format") or {}
            schema = ((fmt.get("json_schema") or {}).get("schema")
                      if fmt.get("type") == "json_schema" else None)
            steps = _Steps(llm, max(1, min(20, int(body.get("top_logprobs") or 1))))
            with lock:
                llm.reset()
                reply = llm.create_chat_completion(
                    messages=body["messages"], temperature=body.get("temperature", 0.0), top_k=1,
                    seed=body.get("seed", 0), max_tokens=body.get("max_tokens", 512),
                    response_format={"type": "json_object", "schema": schema} if schema else None,
                    logits_processor=LogitsProcessorList([steps]))
            reply["model"], reply["created"] = body.get("model", name), int(time.time())
            if logprobs and body.get("logprobs"):
                reply["choices"][0]["logprobs"] = {"content": steps.content}
            self._send(200, reply)

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    flags = sys.argv[3:]
    serve(int(sys.argv[1]), sys.argv[2], "--no-logprobs" not in flags, "--refuse-logprobs" in flags)
