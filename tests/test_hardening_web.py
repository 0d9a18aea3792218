"""Production hardening of the web process, tested on what users run (a real gunicorn started by
`make run`'s command, nginx in front where a proxy matters): secret link tokens stay out of the
access log, the public health check says only ok or not ok, the detailed report is for operators,
the share guest form redirects only within its link, and signing out ends the session on the
server."""

from __future__ import annotations

import secrets

from tests.conftest import worker_env
from tests.server import gunicorn

SECRET_PREFIXES = ("i", "s", "reset", "join")


def test_hardening_access_log_masks_secret_link_tokens(app, servers, databases, backend, tmp_path):
    from app.logmask import MASK

    env = worker_env(servers, databases[0][backend])
    tokens = {prefix: secrets.token_urlsafe(32) for prefix in SECRET_PREFIXES}
    with gunicorn(env, tmp_path / "web.log") as server:
        from tests.server import Browser

        browser = Browser(server.base)
        for prefix, token in tokens.items():
            # The link itself, a page or file under it, a query, and a page linked from it (its
            # address is sent as the Referer).
            for path in (f"/{prefix}/{token}", f"/{prefix}/{token}/c/x/media/y?t=1",
                         f"/{prefix}/{token}?x={token[:4]}"):
                browser.request("GET", path, headers={"Referer": f"{server.base}/{prefix}/{token}/page"})
    log = server.log_text()
    assert f'"GET /i/{MASK} HTTP/1.1"' in log, log[-3000:]
    for prefix, token in tokens.items():
        assert token not in log, log[-3000:]
        assert f"/{prefix}/{MASK}/c/x/media/y?t=1" in log
        assert f'"{server.base}/{prefix}/{MASK}/page"' in log  # the Referer, masked too
