"""What /api/v1 reads and changes, for one API key, over the same services as the pages.

A key reads as an organisation-level reader that never grades: every interview of its organisation,
submitted reviews only (drafts never), and an anonymised interview's candidates as "Candidate N"
with no email or picture, its media limited as the interview's review mode limits reviewers
(app.services.anonymity). Changes are made by the services the pages use, as the key
(app.services.api_keys.acting_user), and recorded in the audit log under the key's name.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import url_for

from app.extensions import db
from app.models import (
    ApiErasure,
    ApiKey,
    Candidate,
    CandidateStats,
    Interview,
    Role,
    User,
    utcnow,
)
from app.services import ServiceError, access, anonymity, audit, grading, interviews
from app.services.api_keys import acting_user
from app.services.interviews import QuestionInput
from app.states import UNFINISHED


def reader(key: ApiKey) -> User:
    """The key as the access and anonymity rules see it: a reviewer of every interview of its
    organisation (so anonymity applies), never added to the session."""
    return User(id=-1, org_id=key.org_id, role=Role.REVIEWER, all_interviews=True, name=key.label,
                email="", password_hash="", active=True)


# Interviews

def list_interviews(key: ApiKey) -> list[Interview]:
    return interviews.list_interviews(reader(key))


def get_interview(key: ApiKey, public_id: str) -> Interview:
    return interviews.get_interview(reader(key), public_id)


def create_interview(key: ApiKey, data: dict) -> Interview:
    """An interview with its questions, as an owner's form would make it."""
    questions = [QuestionInput(q["prompt"].strip(), q["think_seconds"], q["answer_seconds"], q["max_takes"],
                               q["kind"]) for q in data["questions"]]
    return interviews.create_interview(acting_user(key), data["title"], data.get("intro") or "",
                                       data.get("language"), questions,
                                       {"retention_days": data["retention_days"]})


# Candidates

def get_candidate(key: ApiKey, public_id: str) -> Candidate:
    return access.get_candidate(reader(key), public_id)


class Labels:
    """Names as the key may see them: "Candidate N" in anonymised interviews (counted once per
    interview per answer), the name elsewhere."""

    def __init__(self, key: ApiKey) -> None:
        self._user = reader(key)
        self._per_interview: dict[int, Callable[[Candidate], str]] = {}

    def hides(self, candidate: Candidate) -> bool:
        return anonymity.hides_identity(self._user, candidate.interview)

    def name(self, candidate: Candidate) -> str:
        label = self._per_interview.get(candidate.interview_id)
        if label is None:
            label = self._per_interview[candidate.interview_id] = anonymity.labeller(
                self._user, candidate.interview)
        return label(candidate)


def candidate_view(candidate: Candidate, labels: Labels, stats: CandidateStats | None) -> dict:
    """One candidate as the API shows it."""
    hidden = labels.hides(candidate)
    return {
        "id": candidate.public_id, "interview_id": candidate.interview.public_id,
        "name": labels.name(candidate), "email": None if hidden else candidate.email,
        "status": candidate.effective_status, "deadline": candidate.expires_at,
        "started_at": candidate.started_at, "completed_at": candidate.completed_at,
        "created_at": candidate.created_at, "updated_at": candidate.updated_at,
        "rating": stats.rating if stats else None, "decision": stats.decision if stats else None,
        "review_url": url_for("grading.candidate", public_id=candidate.public_id, _external=True),
    }


def candidate_views(key: ApiKey, candidates: list[Candidate]) -> list[dict]:
    """Many candidates as the API shows them, their figures read in one query."""
    labels = Labels(key)
    ids = [c.id for c in candidates]
    stats = {s.candidate_id: s for s in db.session.execute(
        sa.select(CandidateStats).where(CandidateStats.candidate_id.in_(ids))).scalars()} if ids else {}
    return [candidate_view(c, labels, stats.get(c.id)) for c in candidates]


def _cursor(candidate: Candidate) -> str:
    raw = f"{candidate.updated_at.astimezone(UTC).isoformat()}|{candidate.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _parse_cursor(text: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        when, cid = raw.split("|")
        parsed = datetime.fromisoformat(when)
        if parsed.tzinfo is None:
            raise ValueError(when)
        return parsed, int(cid)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ServiceError("This cursor is not one the API gave; start again without it.", 400) from None


def list_candidates(key: ApiKey, q: dict) -> tuple[list[Candidate], str | None]:
    """One page of the organisation's candidates in the order they last changed (oldest first), so
    that a client syncing with updated_since and the cursor sees every change once."""
    stmt = sa.select(Candidate).where(Candidate.org_id == key.org_id).options(
        sa.orm.joinedload(Candidate.interview))
    if q.get("interview"):
        stmt = stmt.join(Interview, Interview.id == Candidate.interview_id).where(
            Interview.public_id == q["interview"])
    if q.get("status"):
        stmt = stmt.where(Candidate.effective_status == q["status"])
    if q.get("updated_since"):
        stmt = stmt.where(Candidate.updated_at >= q["updated_since"])
    if q.get("cursor"):
        when, cid = _parse_cursor(q["cursor"])
        stmt = stmt.where(sa.or_(Candidate.updated_at > when,
                                 sa.and_(Candidate.updated_at == when, Candidate.id > cid)))
    limit = q["limit"]
    rows = list(db.session.execute(
        stmt.order_by(Candidate.updated_at, Candidate.id).limit(limit + 1)).unique().scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, _cursor(rows[-1]) if more else None


def set_deadline(key: ApiKey, public_id: str, deadline: datetime) -> Candidate:
    """Move an unfinished candidate's link expiry (earlier or later), to a time in the future."""
    candidate = get_candidate(key, public_id)
    if candidate.status not in UNFINISHED:
        raise ServiceError("This candidate has finished; there is no deadline to move.", 409)
    now = utcnow()
    if deadline <= now:
        raise ServiceError("The new deadline must be in the future.", 422)
    if deadline > now + timedelta(days=365):
        raise ServiceError("The new deadline may be at most a year away.", 422)
    old = candidate.expires_at
    candidate.expires_at = deadline
    audit.record("candidate.deadline_moved", candidate, label=key.label, org_id=key.org_id,
                 old=old.astimezone(UTC).isoformat(timespec="minutes"),
                 new=deadline.astimezone(UTC).isoformat(timespec="minutes"))
    db.session.commit()
    return candidate


# Erasure: the owners' complete erasure, run by a job

def request_erasure(key: ApiKey, public_id: str) -> ApiErasure:
    """Queue the complete erasure of a candidate; a second request while one waits returns it."""
    from app.queue import MEDIA_QUEUE, enqueue

    candidate = get_candidate(key, public_id)
    pending = db.session.execute(sa.select(ApiErasure).where(
        ApiErasure.org_id == key.org_id, ApiErasure.candidate_public_id == candidate.public_id,
        ApiErasure.status == "queued")).scalars().first()
    if pending is not None:
        return pending
    erasure = ApiErasure(org_id=key.org_id, api_key_id=key.id, key_label=key.label,
                         candidate_public_id=candidate.public_id)
    db.session.add(erasure)
    db.session.commit()
    enqueue("jobs.api_erasure.run", erasure.id, queue=MEDIA_QUEUE, job_id=f"api-erasure-{erasure.public_id}",
            timeout=600)
    return erasure


def get_erasure(key: ApiKey, public_id: str) -> ApiErasure:
    erasure = db.session.execute(sa.select(ApiErasure).where(
        ApiErasure.public_id == public_id, ApiErasure.org_id == key.org_id)).scalar_one_or_none()
    if erasure is None:
        raise ServiceError("Erasure not found.", 404)
    return erasure


# Reviews and decisions: submitted reviews only, as every page shows them to a non-grader

def reviews(key: ApiKey, public_id: str) -> dict:
    candidate = get_candidate(key, public_id)
    s = grading.summary(candidate)
    qids = {q.id: q.public_id for q in candidate.interview.questions}
    return {
        "candidate_id": candidate.public_id, "rating": s.rating, "disagreement": s.disagreement,
        "reviews": [{"grader": g.name, "kind": g.kind, "recommendation": g.recommendation,
                     "comment": g.comment, "rating": g.rating,
                     "scores": [{"question_id": qids[qid], "value": value, "comment": g.comments.get(qid, "")}
                                for qid, value in g.values.items() if qid in qids]}
                    for g in s.graders + s.guests],
    }


def decision_view(decision) -> dict:
    return {"value": decision.value, "note": decision.note, "decided_by": decision.user.name,
            "created_at": decision.created_at}


def decisions(key: ApiKey, public_id: str) -> list[dict]:
    return [decision_view(d) for d in grading.decisions(get_candidate(key, public_id))]


def decide(key: ApiKey, public_id: str, value: str, note: str) -> dict:
    """Record a decision as the pages do; the audit log names the key."""
    candidate = get_candidate(key, public_id)
    return decision_view(grading.decide(acting_user(key), candidate, value, note))
