"""Secrets: tokens are shown once and stored only as SHA-256 hashes; security headers."""

from __future__ import annotations

import hashlib
import secrets
from urllib.parse import unquote, urlsplit

from flask import Flask, g, request


def new_token() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def path_within(target: str | None, base: str) -> str | None:
    """`target` when it is a path of this site at or below `base` (itself a path, no trailing
    slash), query and fragment allowed; else None. Whatever a browser could read as another site
    (//host, a scheme, a backslash) or a way out of `base` (dot segments, encoded or not) is None."""
    if not target or any(ord(c) <= 0x20 or ord(c) == 0x7F or c == "\\" for c in target):
        return None
    parts = urlsplit(target)
    path = unquote(parts.path)
    if parts.scheme or parts.netloc or "//" in path or "\\" in path or any(ord(c) < 0x20 for c in path):
        return None
    if {".", ".."} & set(path.split("/")) or not (path == base or path.startswith(base + "/")):
        return None
    return target


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def init_security_headers(app: Flask) -> None:
    """A strict Content-Security-Policy with a per-request nonce, and the usual hardening headers."""

    @app.context_processor
    def _nonce():
        return {"csp_nonce": csp_nonce}

    @app.after_request
    def _headers(resp):
        nonce = csp_nonce()
        resp.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; "
            f"script-src 'self' 'nonce-{nonce}'; "
            "style-src 'self'; img-src 'self' data: blob:; "
            "media-src 'self' blob:; connect-src 'self'; "
            "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'",
        )
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "no-referrer")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault(
            "Permissions-Policy", "camera=(self), microphone=(self), geolocation=()"
        )
        if request.path.startswith(("/i/", "/reset/")):  # a secret link's pages stay out of caches
            resp.headers.setdefault("Cache-Control", "no-store")
        return resp
