"""What users run, in a test: the app under a real gunicorn process (the command `make run` uses),
optionally behind nginx ending TLS with the production proxy's own configuration
(docker/nginx/oneway.conf.template), and a small HTTP client that signs in as a browser does."""

from __future__ import annotations

import http.client
import http.cookiejar
import json
import os
import re
import shutil
import ssl
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from stack.services import free_port, stop, wait_port, web_command

ROOT = Path(__file__).resolve().parent.parent
NGINX_TEMPLATE = ROOT / "docker" / "nginx" / "oneway.conf.template"
_META = re.compile(r'name="csrf-token" content="([^"]+)"')


@dataclass
class Server:
    """A running server: its base URL and the log it writes (gunicorn's stdout and stderr)."""

    base: str
    log: Path
    proc: subprocess.Popen

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def gunicorn(env: dict, log_path: Path, workers: int = 1, threads: int = 4, extra: tuple[str, ...] = ()):
    """The app under gunicorn on a free loopback port, sharing the test's database, Redis and
    bucket through `env` (tests.conftest.worker_env)."""
    port = free_port()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(web_command(port, "127.0.0.1", workers, threads, *extra), env=env, cwd=ROOT,
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            try:
                wait_port(port, proc, timeout=60, what="gunicorn")
            except RuntimeError as exc:
                raise RuntimeError(f"{exc}\n{log_path.read_text(errors='replace')[-3000:]}") from None
            yield Server(f"http://127.0.0.1:{port}", log_path, proc)
        finally:
            stop(proc)


def self_signed(folder: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A self-signed certificate and its key for `host`, made by openssl."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", f"/CN={host}", "-addext", f"subjectAltName=IP:{host}",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=60)
    return cert, key


def render_nginx_site(upstream: str, https_port: int, http_port: int, cert: Path, key: Path,
                      access_log: Path) -> str:
    """The production proxy's site configuration, its ${VARIABLES} filled as the nginx image's
    envsubst fills them (only the ones named; nginx's own $variables are left alone)."""
    values = {"ONEWAY_UPSTREAM": upstream, "ONEWAY_SERVER_NAME": "_",
              "ONEWAY_HTTPS_PORT": str(https_port), "ONEWAY_HTTP_PORT": str(http_port),
              "ONEWAY_TLS_CERT": str(cert), "ONEWAY_TLS_KEY": str(key),
              "ONEWAY_ACCESS_LOG": str(access_log)}
    text = NGINX_TEMPLATE.read_text()
    for name, value in values.items():
        text = text.replace("${" + name + "}", value)
    left = re.findall(r"\$\{[A-Z_]+\}", text)
    assert not left, f"the template names variables the test does not fill: {left}"
    return text


@dataclass
class Proxy:
    """A running TLS proxy: its https:// base URL, its plain http:// one, and its access log."""

    base: str
    plain: str
    access_log: Path

    def log_text(self) -> str:
        return self.access_log.read_text(errors="replace") if self.access_log.exists() else ""


@contextmanager
def tls_proxy(upstream: Server, folder: Path):
    """nginx ending TLS in front of `upstream`, with a self-signed certificate; yields a Proxy.
    Runs as the production proxy does, from docker/nginx's template."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = self_signed(folder)
    https_port, http_port = free_port(), free_port()
    site = folder / "site.conf"
    site.write_text(render_nginx_site(urllib.parse.urlsplit(upstream.base).netloc, https_port, http_port,
                                      cert, key, folder / "access.log"))
    for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / sub).mkdir(exist_ok=True)
    main = folder / "nginx.conf"
    # As root, nginx's workers would drop to "nobody", who cannot write in this test's folder.
    user = "user root;" if os.geteuid() == 0 else ""
    main.write_text(f"""
{user}
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {folder}/access.log;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {site};
}}
""")
    proc = subprocess.Popen([nginx, "-p", str(folder), "-c", str(main), "-g", "daemon off;"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        try:
            wait_port(https_port, proc, timeout=20, what="nginx")
        except RuntimeError as exc:
            out = proc.stdout.read().decode(errors="replace") if proc.poll() is not None else ""
            raise RuntimeError(f"{exc}\n{out}") from None
        yield Proxy(f"https://127.0.0.1:{https_port}", f"http://127.0.0.1:{http_port}", folder / "access.log")
    finally:
        stop(proc)


class Browser:
    """A cookie-keeping HTTP client that sends what a browser's page sends: the CSRF token read
    from the page, and on a form or fetch() the Origin and Referer a browser would send under the
    page's Referrer-Policy (the Fetch standard: "no-referrer" sends neither address, and Origin
    "null"), over HTTP or HTTPS (any certificate)."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        ctx = ssl.create_default_context()
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), urllib.request.HTTPSHandler(context=ctx),
            _NoRedirect())
        self.token: str | None = None
        self.page: str | None = None  # the URL of the last page read: the Referer a form sends
        self.policy = "strict-origin-when-cross-origin"  # the last page's; browsers' default

    def request(self, method: str, path: str, data: bytes | None = None,
                headers: dict | None = None, origin: bool = True):
        """One request; answers (status, headers, body) whatever the status."""
        url = path if path.startswith("http") else self.base + path
        req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
        if method not in ("GET", "HEAD") and origin:
            hidden = self.policy == "no-referrer"
            req.add_header("Origin", "null" if hidden else self.base)
            if self.page and not hidden:
                req.add_header("Referer", self.page)
        try:
            with self.opener.open(req, timeout=120) as resp:
                try:
                    return resp.status, resp.headers, resp.read()
                except http.client.IncompleteRead as cut:  # the server broke off the stream
                    return resp.status, resp.headers, cut.partial
        except urllib.error.HTTPError as err:
            return err.code, err.headers, err.read()

    def open_page(self, path: str) -> str:
        status, headers, body = self.request("GET", path)
        assert status == 200, (status, body[:500])
        self.policy = headers.get("Referrer-Policy", "strict-origin-when-cross-origin")
        html = body.decode()
        found = _META.search(html)
        if found:
            self.token = found.group(1)
        self.page = path if path.startswith("http") else self.base + path
        return html

    def post_form(self, path: str, fields: dict, **kw):
        data = urllib.parse.urlencode({"csrf_token": self.token or "", **fields}).encode()
        return self.request("POST", path, data,
                            {"Content-Type": "application/x-www-form-urlencoded"}, **kw)

    def send_json(self, method: str, path: str, body: dict | None = None, **kw):
        data = json.dumps(body or {}).encode()
        return self.request(method, path, data, {"Content-Type": "application/json",
                                                 "X-CSRFToken": self.token or "",
                                                 "Accept": "application/json"}, **kw)

    def login(self, email: str, password: str) -> None:
        self.open_page("/login")
        status, _headers, body = self.post_form("/login", {"email": email, "password": password})
        assert status == 302, (status, body[:500])
        self.open_page("/")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects come back as they are: a test reads where they lead."""

    def redirect_request(self, *args, **kwargs):
        return None
