"""Limits kept in Redis: failed guesses of secret link tokens per client address, other counted
failures (wrong current passwords, per account: app.services.passwords; failed sign-ins, per
account and per address: app.services.signin), and once-a-while throttles (one log row per
playback rather than per range request).

A link's token is 256 random bits, so guessing one is hopeless; the limit is there so that no one
may try tokens without end. Only lookups that fail count: a candidate sending hundreds of chunks
through a good link is never counted. An address over the limit is refused on every link route
(429, Retry-After), valid token or not, so the refusal tells nothing about a token. The window
is fixed: it starts at an address's first failure and lasts TOKEN_FAILURE_WINDOW_SECONDS.

If Redis does not answer, the limits let requests through (and log a warning, at most once a
minute): a candidate must never be locked out of their interview by a missing Redis.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import math
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask import current_app, has_request_context, request
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _ln
from redis import Redis
from redis.exceptions import RedisError
from werkzeug.exceptions import HTTPException

from app.services import ServiceError

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")
_FAILURES_KEY = "oneway:token-failures:{}"


class TooManyAttempts(ServiceError):
    """Refused because of too many failures lately (by default: this address's token lookups);
    answered as 429 with Retry-After."""

    def __init__(self, retry_after: int, message: str | None = None, field: str | None = None):
        super().__init__(message or _l(
            "Too many links that do not work were tried from your network, so links are paused here for "
            "%(wait)s. Nothing you recorded is lost: wait, then open your link again, and check that you "
            "copied all of it.", wait=minutes(retry_after)), 429, field)
        self.retry_after = retry_after
        # The links' pause (the default) refuses every link route; a form's own limit (sign-in, the
        # current password) is about what it sent, and the form shows it.
        self.refuses_access = message is None


def limit_guessing(lookup: Callable[P, T]) -> Callable[P, T]:
    """Decorate the function that turns a link's token into its row (invite, share, team join,
    password reset).

    While the client's address is over the limit it raises TooManyAttempts before looking
    anything up; a 404 from the lookup counts as one failed guess. Outside a request (a CLI
    command, a job) it only calls the lookup."""

    @functools.wraps(lookup)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> T:
        if not has_request_context() or current_app.config["TOKEN_FAILURES_PER_WINDOW"] <= 0:
            return lookup(*args, **kwargs)
        address = client_address()
        wait = retry_after(address)
        if wait:
            raise TooManyAttempts(wait)
        try:
            return lookup(*args, **kwargs)
        except (ServiceError, HTTPException) as e:
            if getattr(e, "status", None) == 404 or getattr(e, "code", None) == 404:
                record_failure(address)
            raise

    return guarded


def client_address() -> str:
    """Whom to count: the client's address (the proxy's X-Forwarded-For once TRUSTED_PROXIES is
    set), with an IPv6 client's whole /64, which one subscriber usually holds."""
    raw = request.remote_addr or "unknown"
    try:
        ip = ipaddress.ip_address(raw)
    except ValueError:
        return raw[:100]
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def retry_after(address: str) -> int:
    """Seconds until this address may look up tokens again; 0 when it may now."""
    return wait_after_failures(_FAILURES_KEY.format(address), current_app.config["TOKEN_FAILURES_PER_WINDOW"],
                               current_app.config["TOKEN_FAILURE_WINDOW_SECONDS"])


def record_failure(address: str) -> None:
    """Count one failed token lookup from this address."""
    window = current_app.config["TOKEN_FAILURE_WINDOW_SECONDS"]
    count = count_failure(_FAILURES_KEY.format(address), window)
    if count == current_app.config["TOKEN_FAILURES_PER_WINDOW"]:
        log.warning("Token links paused for %s: %d unknown tokens tried within %d s",
                    address, count, window)


def wait_after_failures(key: str, limit: int, window: int) -> int:
    """Seconds until `key` may try again once it has `limit` failures in its window; 0 when it may
    now (or when Redis does not answer)."""
    return longest_wait({key: limit}, window)


def longest_wait(limits: dict[str, int], window: int) -> int:
    """Seconds until every key of `limits` (each with its own limit, all with this window) is under
    its limit again; 0 when all are now (or when Redis does not answer). One round trip when none
    is over its limit, a second one for the times to live when one is."""
    try:
        # Almost always no key is over its limit (a candidate's every chunk asks): one plain read.
        counts = _redis().mget(list(limits))
        if not any(c is not None and int(c) >= limit for c, limit in zip(counts, limits.values(),
                                                                          strict=True)):
            return 0
        pipe = _redis().pipeline()  # MULTI/EXEC: each count and its time to live read together
        for key in limits:
            pipe.get(key)
            pipe.ttl(key)
        replies = pipe.execute()
    except NO_ANSWER as e:
        _redis_down(e)
        return 0
    wait = 0
    for limit, count, ttl in zip(limits.values(), replies[::2], replies[1::2], strict=True):
        if count is not None and int(count) >= limit:
            # Read in one transaction, a counted key has a time to live (under a second reads as 0).
            wait = max(wait, max(ttl, 1) if ttl >= 0 else window)
    return wait


def count_failure(key: str, window: int) -> int | None:
    """Count one failure under `key`, whose window starts at its first; the count so far, or None
    when Redis did not answer."""
    counts = count_failures([key], window)
    return None if counts is None else counts[0]


def count_failures(keys: list[str], window: int) -> list[int] | None:
    """Count one failure under each key (in one round trip), each window starting at its key's
    first; the counts so far, or None when Redis did not answer."""
    try:
        # SET NX EX then INCR, in one transaction: the first failure starts the window and the
        # next ones leave it alone (INCR keeps the time to live), on any Redis version.
        pipe = _redis().pipeline()
        for key in keys:
            pipe.set(key, 0, ex=window, nx=True)
            pipe.incr(key)
        replies = pipe.execute()
    except NO_ANSWER as e:
        _redis_down(e)
        return None
    return replies[1::2]


def clear_failures(key: str) -> None:
    """Forget the failures counted under `key` (after a success that proves who is trying)."""
    try:
        _redis().delete(key)
    except NO_ANSWER as e:
        _redis_down(e)


def minutes(seconds: int) -> str:
    """A wait as a person reads it, in the page's language: "about 1 minute", "about 10 minutes"."""
    n = max(1, math.ceil(seconds / 60))
    return _ln("about %(num)s minute", "about %(num)s minutes", n)


def first_in_window(key: str, seconds: int) -> bool | None:
    """Whether this is the first call for `key` in `seconds` (SET NX EX, so exactly one caller
    of many at once is first); None when Redis did not answer and the caller must decide."""
    try:
        return bool(_redis().set(f"oneway:once:{key}", 1, ex=max(1, seconds), nx=True))
    except NO_ANSWER as e:
        _redis_down(e)
        return None


# What a call to Redis may raise when it did not answer in time. Besides its own errors, redis-py
# 8.1 has let a ValueError ("I/O operation on closed file", from its reply buffer) escape a read
# that timed out: it answered one of 200 candidates' pages 500 under load (bench/load.py,
# 2026-12-06). The limits are off for that call, as for any other Redis failure.
NO_ANSWER = (RedisError, OSError, ValueError)


def _redis() -> Redis:
    """Redis with short timeouts (the job queue's connection has none): a slow or missing Redis
    must cost a candidate's upload half a second at most, not hold it up."""
    conn = current_app.extensions.get("oneway_ratelimit_redis")
    if conn is None:
        conn = Redis.from_url(current_app.config["REDIS_URL"], socket_timeout=0.5,
                              socket_connect_timeout=0.5)
        current_app.extensions["oneway_ratelimit_redis"] = conn
    return conn


def _redis_down(error: Exception) -> None:
    last = current_app.extensions.setdefault("oneway_ratelimit_warned", [None])
    if last[0] is None or time.monotonic() - last[0] >= 60:
        last[0] = time.monotonic()
        log.warning("Redis did not answer (%s): rate limits are off, requests go through", error)
