"""Browser-test plumbing: a live server thread, a real `rq worker` process, headless Chromium."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from werkzeug.serving import make_server

from stack.services import free_port

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def live_server(app):
    """Serve the test's app on a free loopback port in a thread."""
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        thread.join(5)


@contextmanager
def rq_worker(env: dict, log_path: Path, queues=("mail", "media", "asr", "ai")):
    """A real `rq worker` process (SimpleWorker: no fork, so the speech model loads once)."""
    rq = Path(sys.executable).parent / "rq"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [str(rq), "worker", "-w", "rq.worker.SimpleWorker", "--with-scheduler",
             "--url", env["REDIS_URL"], "--path", str(ROOT), *queues],
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


def chromium_args(y4m: Path, wav: Path) -> list[str]:
    return [
        "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
        "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={y4m}", f"--use-file-for-fake-audio-capture={wav}",
        "--autoplay-policy=no-user-gesture-required",
    ]


@contextmanager
def chromium(y4m: Path, wav: Path):
    """Headless Debian Chromium driven by Playwright, with a fake camera and microphone."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=chromium_args(y4m, wav))
        try:
            yield browser
        finally:
            browser.close()


def wait_for(predicate, timeout: float, interval: float = 0.5, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@contextmanager
def signed_in_page(base: str, user, password: str, args: tuple[str, ...] = ()):
    """Headless Chromium (no camera) with a page signed in as a staff user; page errors are
    collected in `page.errors`."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", *args])
        try:
            page = browser.new_page()
            page.errors = []
            page.on("pageerror", lambda e: page.errors.append(str(e)))
            page.goto(f"{base}/login")
            page.get_by_label("Email").fill(user.email)
            page.get_by_label("Password").fill(password)
            page.keyboard.press("Enter")
            page.wait_for_url(f"{base}/")
            yield page
        finally:
            browser.close()
