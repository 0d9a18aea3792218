"""Fairness: candidates' voluntary self-identification (kept apart from everything graders see) and
their own requests (deletion, human re-review)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import Timestamps, UTCDateTime, utcnow


class SelfIdentification(Timestamps, db.Model):
    """One candidate's voluntary answers (category codes of their organisation's scheme; NULL:
    prefer not to say). Read only by app.services.selfid and the owners' fairness report, never by a
    page, export or job a grader, reviewer or guest can reach; deleted with the candidate."""

    __tablename__ = "self_identifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(
        sa.ForeignKey("candidates.id", ondelete="CASCADE"), unique=True, index=True)
    sex: Mapped[str | None] = mapped_column(sa.String(40))
    race: Mapped[str | None] = mapped_column(sa.String(60))


class ReReviewRequest(db.Model):
    """A candidate's request that a person looks at their application again after a rejection."""

    __tablename__ = "rereview_requests"
    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(sa.ForeignKey("candidates.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
