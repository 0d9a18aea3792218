"""Test helpers: a client that carries CSRF tokens like a browser page, a remember-me cookie, and
upload helpers."""

from __future__ import annotations

import contextlib
import hashlib
import re

_META = re.compile(r'name="csrf-token" content="([^"]+)"')


class CsrfClient:
    """Wraps Flask's test client; fetches a page first so the session holds a CSRF token."""

    def __init__(self, client):
        self.client = client
        self.token = None

    def refresh(self, path: str = "/login") -> str:
        html = self.client.get(path, follow_redirects=True).get_data(as_text=True)
        self.token = _META.search(html).group(1)
        return self.token

    def get(self, *a, **kw):
        return self.client.get(*a, **kw)

    def post(self, path, data=None, json=None, **kw):
        if self.token is None:
            self.refresh()
        if data is None:  # a fetch() call: JSON (or nothing) with the token in a header
            headers = {"X-CSRFToken": self.token, **kw.pop("headers", {})}
            return self.client.post(path, json=json, headers=headers, **kw)
        return self.client.post(path, data={"csrf_token": self.token, **data}, **kw)

    def put(self, path, data=b"", **kw):
        if self.token is None:
            self.refresh()
        headers = {"X-CSRFToken": self.token, "Content-Type": "application/octet-stream",
                   **kw.pop("headers", {})}
        return self.client.put(path, data=data, headers=headers, **kw)

    def login(self, email: str, password: str = "password123"):
        self.refresh("/login")
        resp = self.post("/login", data={"email": email, "password": password})
        assert resp.status_code == 302, resp.get_data(as_text=True)
        self.refresh("/")
        return resp


def sign_in_id(app, user) -> str:
    """The id a browser's cookies hold once it signed in as `user`: a live sign-in of its own."""
    from app.services import signin

    with app.test_request_context():
        signin.log_in(user)
        return user.get_id()


def remember_cookie_client(app, session_id: str):
    """A browser holding only a remember-me cookie for this session id, as Flask-Login signs it."""
    from flask_login.utils import encode_cookie

    client = app.test_client()
    with app.test_request_context():
        value = encode_cookie(session_id)
    client.set_cookie(app.config.get("REMEMBER_COOKIE_NAME", "remember_token"), value)
    return client


def stored_chunks(answer_public_id: str) -> dict[str, bytes]:
    """What the object store holds in the answer's chunks' folder: each object's name in it
    (the chunk's number and its checksum's start, app.storage.chunk_key) and its bytes."""
    from app.storage import chunks_prefix, current_storage

    store, prefix = current_storage(), chunks_prefix(answer_public_id)
    return {o.object_name[len(prefix):]: store.get_bytes(o.object_name)
            for o in store.client.list_objects(store.bucket, prefix=prefix, recursive=True)}


def chunk_name(seq: int, data: bytes) -> str:
    """The name chunk `seq` holding `data` has in its answer's chunks' folder."""
    return f"{seq:06d}-{hashlib.sha256(data).hexdigest()[:16]}"


def split(data: bytes, size: int) -> list[bytes]:
    return [data[i:i + size] for i in range(0, len(data), size)]


def upload_answer(cc: CsrfClient, token: str, question_id: str, data: bytes,
                  content_type: str = "video/webm", chunk_size: int = 64 * 1024,
                  duration_ms: int = 3000) -> dict:
    """Do what the recorder does: start a take, PUT chunks in order, finalize with the checksum."""
    resp = cc.post(f"/i/{token}/questions/{question_id}/takes", json={"content_type": content_type})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    answer_id = resp.get_json()["answer_id"]
    parts = split(data, chunk_size)
    for seq, part in enumerate(parts):
        r = cc.put(f"/i/{token}/answers/{answer_id}/chunks/{seq}", data=part)
        assert r.status_code == 200, r.get_data(as_text=True)
    r = cc.post(f"/i/{token}/answers/{answer_id}/finalize",
                json={"chunks": len(parts), "sha256": hashlib.sha256(data).hexdigest(),
                      "duration_ms": duration_ms})
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()


@contextlib.contextmanager
def redis_away(app):
    """The app's Redis connection pointed at a closed port for the block: every enqueue fails as
    it does when redis-server is down or unreachable."""
    import socket

    from redis import Redis

    from app.queue import redis_conn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    working = redis_conn()
    app.extensions["oneway_redis"] = Redis(port=closed, socket_connect_timeout=1)
    try:
        yield
    finally:
        app.extensions["oneway_redis"] = working
