"""What every table shares: aware UTC times, created/updated stamps and random public ids."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_public_id() -> str:
    """16 URL-safe characters, never starting with "-": operators paste ids into command lines
    (`flask retry-answer ID`), where a leading dash reads as an option (1 id in 64 did)."""
    while (public_id := secrets.token_urlsafe(12)).startswith("-"):
        pass
    return public_id


class UTCDateTime(sa.types.TypeDecorator):
    """A timezone-aware datetime that comes back aware from SQLite too."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class MediaOutputs:
    """What processing makes of a recording, kept on its row: its length and picture size, the
    MP4 (or M4A), the speech WAV, the poster, the captions and the transcript. Shared by a
    candidate's answer and a hiring manager's prompt video, which go through the same media steps."""

    duration_s: Mapped[float | None] = mapped_column(sa.Float)
    width: Mapped[int | None] = mapped_column()
    height: Mapped[int | None] = mapped_column()
    mp4_key: Mapped[str | None] = mapped_column(sa.String(300))
    mp4_size: Mapped[int | None] = mapped_column(sa.BigInteger)
    audio_key: Mapped[str | None] = mapped_column(sa.String(300))
    poster_key: Mapped[str | None] = mapped_column(sa.String(300))
    poster_size: Mapped[int | None] = mapped_column(sa.BigInteger)
    captions_key: Mapped[str | None] = mapped_column(sa.String(300))
    transcript: Mapped[dict | None] = mapped_column(sa.JSON)


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

