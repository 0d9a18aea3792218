"""Secrets: tokens are shown once and stored only as SHA-256 hashes; security headers; where a
form came from."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from urllib.parse import unquote, urlsplit

from flask import Flask, current_app, g, request
from flask_wtf.csrf import CSRFProtect

# What new_token makes: 32 bytes in unpadded URL-safe base64, always 43 characters. Every link token
# (a candidate's invite, a share link, a team invite, a password reset) has come from it since the
# first release, so no shorter or longer one was ever handed out.
_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{43}")


def new_token() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def invite_token(secret_key: str, candidate_public_id: str, version: int) -> str:
    """A candidate's invite token, derived (HMAC-SHA256) from the app's secret key, the candidate's
    public id and the link's version: the database keeps only its hash, yet a reminder can carry the
    same link, and a resend (the next version) makes a new one. Shaped like new_token's."""
    mac = hmac.new(secret_key.encode(), f"invite:{candidate_public_id}:{version}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


def join_token(secret_key: str, invite_public_id: str) -> str:
    """A team invite's token, derived as invite_token is (only its hash is stored), so that the
    invitation e-mail can carry it without the database ever holding it."""
    return invite_token(secret_key, f"join:{invite_public_id}", 0)


def reset_token(secret_key: str, reset_public_id: str) -> str:
    """A password reset link's token, derived as invite_token is."""
    return invite_token(secret_key, f"reset:{reset_public_id}", 0)


def looks_like_token(text: str | None) -> bool:
    """Whether `text` has the shape of a token new_token made. Anything else cannot hash to a stored
    token, so it is refused without being hashed or looked up."""
    return bool(_TOKEN_RE.fullmatch(text or ""))


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
        # Same-origin: our own pages send their address with a form or fetch() (the CSRF check
        # below reads it over HTTPS, where a browser may send no Origin); other sites get nothing,
        # so a secret link in the address never leaves Oneway.
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault(
            "Permissions-Policy", "camera=(self), microphone=(self), geolocation=()"
        )
        if request.is_secure and current_app.config["HSTS_SECONDS"]:
            # Served over HTTPS (directly, or by a proxy gunicorn trusts): browsers keep to it.
            resp.headers.setdefault("Strict-Transport-Security",
                                    f"max-age={current_app.config['HSTS_SECONDS']}")
        if request.path.startswith(("/i/", "/reset/")):  # a secret link's pages stay out of caches
            resp.headers.setdefault("Cache-Control", "no-store")
        return resp


def _origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an absolute http(s) URL, default ports filled in; None otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port or (443 if parts.scheme == "https" else 80)


def _trusted_origins() -> set[tuple[str, str, int]]:
    """This request's own origin (the scheme and Host it came with), and BASE_URL's."""
    found = {_origin(f"{request.scheme}://{request.host}/"),
             _origin(current_app.config.get("BASE_URL") or "")}
    return {o for o in found if o is not None}


def foreign_origin() -> str | None:
    """Why a state-changing request must be refused as sent by another site, or None.

    A browser says where a form or fetch() came from in Origin (all current browsers on a POST or
    PUT; "null" from a page that hides its address) and in Referer (same-origin pages, by our
    Referrer-Policy). Whichever is given must be this site. Over HTTPS one of them is required,
    as Django and Flask-WTF's strict mode do: there a request that names no page at all is
    refused, so a man in the middle of some plain-HTTP page cannot post here with a token it
    planted in a cookie. Over plain HTTP the token alone decides, as before."""
    trusted = _trusted_origins()
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        return None if _origin(origin) in trusted else "The request came from another site."
    if request.referrer:
        return None if _origin(request.referrer) in trusted else "The request came from another page."
    if request.is_secure:
        return "The request did not say which page it came from."
    return None


class OriginCheckingCSRF(CSRFProtect):
    """Flask-WTF's token check (its own HTTPS Referer check off: WTF_CSRF_SSL_STRICT), followed by
    foreign_origin(): a valid token sent by another site's page is refused all the same."""

    def protect(self, *args, **kwargs):
        super().protect(*args, **kwargs)
        if g.get("csrf_valid") and (problem := foreign_origin()):
            g.csrf_valid = False
            self._error_response(problem)
