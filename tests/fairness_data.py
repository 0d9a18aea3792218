"""Many finished candidates at once for the fairness report's tests and benchmark: rows written in
bulk (no invite links or pipeline), each with its self-identification, decision and rating."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import Candidate, CandidateStats, SelfIdentification, new_public_id, utcnow
from app.states import CandidateStatus


def add_finished(interview, groups, completed_at=None) -> list[int]:
    """groups: (sex, race, n, advanced, ratings or None) -> that many finished candidates; sex or race
    None: prefer not to say; ratings: one per candidate (None: not rated). Returns their ids."""
    now = completed_at or utcnow()
    rows, marks = [], []
    for sex, race, n, advanced, ratings in groups:
        for i in range(n):
            rows.append({"public_id": new_public_id(), "org_id": interview.org_id,
                         "interview_id": interview.id, "name": "Bulk Candidate", "email": "bulk@example.com",
                         "token_hash": new_public_id(),
                         "expires_at": now + timedelta(days=7), "status": CandidateStatus.COMPLETED,
                         "completed_at": now, "created_at": now, "updated_at": now})
            marks.append((sex, race, i < advanced, ratings[i] if ratings else None))
    ids = [db.session.execute(sa.insert(Candidate).values(r).returning(Candidate.id)).scalar_one()
           for r in rows]
    db.session.execute(sa.insert(SelfIdentification), [
        {"candidate_id": cid, "sex": sex, "race": race, "created_at": now, "updated_at": now}
        for cid, (sex, race, _, _) in zip(ids, marks, strict=True) if sex or race])
    db.session.execute(sa.insert(CandidateStats), [
        {"candidate_id": cid, "decision": "advance" if adv else "reject", "rating": rating, "reviews": 1,
         "updated_at": now} for cid, (_, _, adv, rating) in zip(ids, marks, strict=True)])
    db.session.commit()
    return ids
