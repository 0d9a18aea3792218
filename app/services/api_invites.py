"""Inviting one or many candidates through the API, once per Idempotency-Key.

The candidates and the record of the call are written in one transaction: a retry with the same
key and body finds the record and invites nobody; two calls racing with one key meet the unique
constraint, and the loser answers as the winner did. Invite tokens are never stored, so a replay
gives candidates who have not started a fresh link (the old one stops working) and the others none.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, url_for
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import ApiIdempotency, ApiKey, Candidate, Interview, utcnow
from app.security import hash_token, invite_token
from app.services import ServiceError
from app.services.api import candidate_views, get_interview
from app.states import CandidateStatus

IDEMPOTENCY_HOURS = 24


def _request_hash(interview_public_id: str, people: list[dict]) -> str:
    body = json.dumps([interview_public_id, [[p["name"], p["email"].lower()] for p in people]],
                      separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def _new_candidate(interview: Interview, name: str, email: str) -> tuple[Candidate, str]:
    # As app.services.interviews.invite_candidate makes one (a derived token, the interview's deadline
    # days), without its commit: the whole list and the idempotency record go in one transaction.
    from app.services import outreach
    from app.services.interviews import require_open

    require_open(interview)
    return outreach.new_candidate(interview, name.strip(), email.strip().lower())


def _link(token: str | None) -> str | None:
    return url_for("candidate.landing", token=token, _external=True) if token else None


def invite(key: ApiKey, interview_public_id: str, people: list[dict],
           idempotency_key: str | None) -> tuple[list[dict], bool]:
    """Invite everyone listed to the interview; returns their views (with invite_url) and whether
    this answer replays an earlier call."""
    request_hash = _request_hash(interview_public_id, people)
    if idempotency_key:
        earlier = _earlier(key, idempotency_key)
        if earlier is not None:
            return _replay(key, earlier, request_hash), True
    interview = get_interview(key, interview_public_id)
    if not interview.questions:
        raise ServiceError("Add at least one question before inviting candidates.", 409)
    made = [_new_candidate(interview, p["name"], p["email"]) for p in people]
    db.session.flush()
    if idempotency_key:
        # A key is remembered for IDEMPOTENCY_HOURS; this key's older ones go as new ones come.
        db.session.execute(sa.delete(ApiIdempotency).where(
            ApiIdempotency.api_key_id == key.id,
            ApiIdempotency.created_at < utcnow() - timedelta(hours=IDEMPOTENCY_HOURS)))
        db.session.add(ApiIdempotency(api_key_id=key.id, key=idempotency_key, request_hash=request_hash,
                                      status_code=201,
                                      body={"candidates": [c.public_id for c, _ in made]}))
    try:
        db.session.commit()
    except IntegrityError:  # the same key, racing: answer as the call that won
        db.session.rollback()
        earlier = _earlier(key, idempotency_key) if idempotency_key else None
        if earlier is None:
            raise
        return _replay(key, earlier, request_hash), True
    views = candidate_views(key, [c for c, _ in made])
    for view, (_c, token) in zip(views, made, strict=True):
        view["invite_url"] = _link(token)
    return views, False


def _earlier(key: ApiKey, idempotency_key: str) -> ApiIdempotency | None:
    return db.session.execute(sa.select(ApiIdempotency).where(
        ApiIdempotency.api_key_id == key.id, ApiIdempotency.key == idempotency_key,
        ApiIdempotency.created_at >= utcnow() - timedelta(hours=IDEMPOTENCY_HOURS))).scalar_one_or_none()


def _replay(key: ApiKey, earlier: ApiIdempotency, request_hash: str) -> list[dict]:
    if earlier.request_hash != request_hash:
        raise ServiceError("This Idempotency-Key was used with another request; use a new key for "
                           "a new request.", 422)
    ids = earlier.body.get("candidates", [])
    found = {c.public_id: c for c in db.session.execute(sa.select(Candidate).where(
        Candidate.public_id.in_(ids), Candidate.org_id == key.org_id)).scalars()}
    candidates = [found[i] for i in ids if i in found]  # an erased one is gone
    tokens = {}
    for c in candidates:
        if c.status == CandidateStatus.INVITED and c.expires_at > utcnow():
            # A new link, as outreach's resend makes one: the token is derived from its version.
            c.token_version += 1
            tokens[c.id] = invite_token(current_app.config["SECRET_KEY"], c.public_id, c.token_version)
            c.token_hash = hash_token(tokens[c.id])
    db.session.commit()
    views = candidate_views(key, candidates)
    for view, c in zip(views, candidates, strict=True):
        view["invite_url"] = _link(tokens.get(c.id))
    return views
