"""Prompt media: a hiring manager's own video (or sound) asking a question, or welcoming candidates
on the landing page, processed like an answer into an MP4, a poster and captions."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import MediaOutputs, Timestamps, UTCDateTime, new_public_id
from app.models.interviews import Interview, Question
from app.states import AnswerStatus


class PromptMedia(MediaOutputs, Timestamps, db.Model):
    """One recording or upload for one place: a question of an interview (question_id), or the
    interview's welcome (question_id None). It belongs to the interview's organisation; a newer
    one for the same place replaces it, and its stored objects go with it. Its status follows the
    answer's lifecycle (app.states.ANSWER): recording, uploaded, processing, ready or failed."""

    __tablename__ = "prompt_media"
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_public_id)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    interview_id: Mapped[int] = mapped_column(sa.ForeignKey("interviews.id"), index=True)
    question_id: Mapped[int | None] = mapped_column(sa.ForeignKey("questions.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(sa.String(20), default=AnswerStatus.RECORDING)
    failure_reason: Mapped[str | None] = mapped_column(sa.Text)
    content_type: Mapped[str] = mapped_column(sa.String(100))
    # The chunks received so far, each one's SHA-256 in order (a replayed chunk is acknowledged
    # again, one with other bytes refused), as the candidate's chunks are.
    chunk_hashes: Mapped[list | None] = mapped_column(sa.JSON)
    received_bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    original_key: Mapped[str | None] = mapped_column(sa.String(300))
    original_size: Mapped[int | None] = mapped_column(sa.BigInteger)
    original_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    interview: Mapped[Interview] = relationship()
    question: Mapped[Question | None] = relationship()

    @property
    def chunk_count(self) -> int:
        return len(self.chunk_hashes or [])

    @property
    def is_video(self) -> bool:
        """Whether it holds a picture (known once converted; until then, what was declared)."""
        if self.mp4_key:
            return self.width is not None
        return self.content_type.startswith("video/")
