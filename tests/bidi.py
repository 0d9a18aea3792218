"""A minimal WebDriver BiDi client for stock Firefox (Debian's firefox-esr), which Playwright
cannot drive: its BiDi Firefox sends emulation.setMediaFeaturesOverride with every new
context, a command Firefox 153 ESR does not know. Firefox speaks BiDi itself on
--remote-debugging-port, so a websocket is all it takes; no geckodriver."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import websocket

from stack.services import free_port

FIREFOX = shutil.which("firefox-esr") or shutil.which("firefox")
# Firefox's own fake camera (a picture that changes colour) and microphone (a tone), with no
# permission prompt.
FAKE_MEDIA_PREFS = {"media.navigator.streams.fake": True,
                    "media.navigator.permission.disabled": True}


class BidiError(AssertionError):
    pass


class Page:
    """One browsing context: navigate, run script, wait for a condition, press buttons."""

    def __init__(self, ws, context: str):
        self._ws, self.context, self._next_id = ws, context, 0
        self.console: list[str] = []  # console messages and uncaught errors, for failure reports

    def send(self, method: str, **params) -> dict:
        self._next_id += 1
        self._ws.send(json.dumps({"id": self._next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self._ws.recv())
            if msg.get("type") == "event" and msg.get("method") == "log.entryAdded":
                self.console.append(f"{msg['params'].get('level')}: {msg['params'].get('text')}")
            elif msg.get("id") == self._next_id:
                if msg.get("type") == "error":
                    raise BidiError(f"{method}: {msg.get('error')}: {msg.get('message')}")
                return msg["result"]

    def goto(self, url: str) -> None:
        self.send("browsingContext.navigate", context=self.context, url=url, wait="complete")

    def evaluate(self, function: str, *args):
        """Call a JavaScript function (source text, may be async) with JSON arguments; its
        result comes back through JSON."""
        call = f"async () => JSON.stringify(await ({function})(...{json.dumps(args)}) ?? null)"
        out = self.send("script.callFunction", functionDeclaration=call, awaitPromise=True,
                        target={"context": self.context})
        if out["type"] == "exception":
            raise BidiError(f"script failed: {out['exceptionDetails'].get('text')}")
        return json.loads(out["result"]["value"])

    def wait_for(self, function: str, *args, timeout: float = 15, what: str = "condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(function, *args)
            if value:
                return value
            time.sleep(0.25)
        raise BidiError(f"timed out after {timeout}s waiting for {what}; console: {self.console}")

    def click(self, name: str, timeout: float = 15) -> None:
        """Press the first visible button (or check the box) whose text or label starts with `name`."""
        self.wait_for("""name => {
            const hit = [...document.querySelectorAll('button, label')].find(
                e => e.offsetParent !== null && e.textContent.trim().startsWith(name));
            if (!hit) return false;
            (hit.control || hit).click();
            return true;
        }""", name, timeout=timeout, what=f"a visible {name!r} button")


@contextmanager
def firefox(log_path: Path, prefs: dict | None = None, env: dict | None = None):
    """Headless Firefox with a fresh profile and fake camera and microphone (extra `prefs` may
    change that; `env` adds to its environment); yields its first page. Its own output goes to
    `log_path`."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="oneway-firefox-") as profile, \
            open(log_path, "wb") as log:
        Path(profile, "user.js").write_text("".join(
            f"user_pref({json.dumps(k)}, {json.dumps(v)});\n"
            for k, v in {**FAKE_MEDIA_PREFS, **(prefs or {})}.items()))
        proc = subprocess.Popen(
            [FIREFOX, "--headless", "--no-remote", "--profile", profile,
             f"--remote-debugging-port={port}"],
            env={**os.environ, "MOZ_HEADLESS": "1", **(env or {})}, stdout=log, stderr=subprocess.STDOUT)
        try:
            ws = _connect(f"ws://127.0.0.1:{port}/session", proc, timeout=30)
            page = Page(ws, "")
            page.send("session.new", capabilities={})
            page.send("session.subscribe", events=["log.entryAdded"])
            page.context = page.send("browsingContext.getTree")["contexts"][0]["context"]
            yield page
            with contextlib.suppress(websocket.WebSocketException, OSError):  # it may close first
                page.send("browser.close")
            ws.close()
            proc.wait(20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)


def _connect(url: str, proc, timeout: float):
    deadline = time.monotonic() + timeout
    while True:
        try:
            # Firefox refuses a handshake that carries an Origin header.
            return websocket.create_connection(url, suppress_origin=True, timeout=60)
        except (websocket.WebSocketException, OSError):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise BidiError(f"Firefox did not open {url} (exit code {proc.poll()})") from None
            time.sleep(0.2)
