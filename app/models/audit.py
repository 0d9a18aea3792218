"""The audit log: one row per thing done to an organisation's team or candidates' data."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class AuditEvent(db.Model):
    """One thing done to an organisation's team or candidates' data: who (a member, or the operator
    or the system, with the label they had then), what (an action code), to what (a subject's kind and
    public id) and when. Written by app.services.audit in the transaction of the change it records.
    Never a candidate's name or email: a candidate is named by public id only, so that an erased
    candidate leaves nothing here that identifies them."""

    __tablename__ = "audit_events"
    __table_args__ = (sa.Index("ix_audit_events_org_id_created_at", "org_id", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(sa.String(200))
    action: Mapped[str] = mapped_column(sa.String(40))
    subject_kind: Mapped[str] = mapped_column(sa.String(20))
    subject_id: Mapped[str] = mapped_column(sa.String(32))
    detail: Mapped[dict | None] = mapped_column(sa.JSON)

