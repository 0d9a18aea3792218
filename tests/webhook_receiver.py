"""A real HTTP receiver for webhook tests on 127.0.0.1: it answers each call with the next status
of a script (then 200), keeps every call, and dedupes by webhook-id as a careful app would."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Call:
    headers: dict
    body: bytes


@dataclass
class Receiver:
    url: str
    script: list[int] = field(default_factory=list)  # statuses to answer, in turn; then 200
    calls: list[Call] = field(default_factory=list)
    delay: float = 0.0  # seconds to wait before answering (a slow receiver)

    def delivered_once(self) -> list[str]:
        """The webhook-ids taken in (answered 2xx), each once: what the deduping app saw."""
        seen = []
        for call in self.calls:
            if call.headers.get("status", 200) < 300 and call.headers["webhook-id"] not in seen:
                seen.append(call.headers["webhook-id"])
        return seen


def start(receiver_script: list[int] | None = None):
    """(Receiver, server) on a free port; call server.shutdown() when done."""
    receiver = Receiver("", list(receiver_script or []))
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if receiver.delay:
                time.sleep(receiver.delay)
            with lock:
                status = receiver.script.pop(0) if receiver.script else 200
                headers = {k.lower(): v for k, v in self.headers.items()} | {"status": status,
                                                                             "received_at": time.time()}
                receiver.calls.append(Call(headers, body))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_port}/hooks"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver, server
