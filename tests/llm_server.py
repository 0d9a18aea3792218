"""A small OpenAI-compatible chat completions server for the tests: it serves a real GGUF model
with llama-cpp, honouring response_format json_schema as OpenAI, vLLM and llama.cpp's server do.
Run: python -m tests.llm_server PORT MODEL_PATH. Not part of Oneway: a stand-in for Ollama or vLLM."""

from __future__ import annotations

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Lock


def serve(port: int, model_path: str) -> None:
    from pathlib import Path

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
            fmt = body.get("response_format") or {}
            schema = ((fmt.get("json_schema") or {}).get("schema")
                      if fmt.get("type") == "json_schema" else None)
            with lock:
                reply = llm.create_chat_completion(
                    messages=body["messages"], temperature=body.get("temperature", 0.0), top_k=1,
                    seed=body.get("seed", 0), max_tokens=body.get("max_tokens", 512),
                    response_format={"type": "json_object", "schema": schema} if schema else None)
            reply["model"], reply["created"] = body.get("model", name), int(time.time())
            self._send(200, reply)

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    serve(int(sys.argv[1]), sys.argv[2])
