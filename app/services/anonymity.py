"""Anonymised review: reviewers of an anonymous interview see "Candidate N", no email, no picture.

Owners and recruiters always see names: they invited the candidates and act on decisions. N is
the candidate's place in invitation order, stable for the interview's lifetime. The interview's
review_media (ReviewMedia) limits which media reviewers may load.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from app.extensions import db
from app.models import Answer, Candidate, Interview, ReviewMedia, Role, User
from app.services import ServiceError, audit

REVIEW_MEDIA_LABELS = {ReviewMedia.VIDEO: "Video", ReviewMedia.AUDIO: "Audio only",
                       ReviewMedia.TRANSCRIPT: "Transcript only"}


def hides_identity(user: User, interview: Interview) -> bool:
    """Whether this user sees "Candidate N" instead of names in this interview."""
    return bool(interview.anonymous) and user.role == Role.REVIEWER


def media_mode(user: User, interview: Interview) -> str:
    """What this user may load (a ReviewMedia)."""
    return interview.review_media if user.role == Role.REVIEWER else ReviewMedia.VIDEO


def sound_only(answer: Answer) -> tuple[str, str] | None:
    """The stored key and content type of the answer's sound without its picture: the speech WAV,
    or the review file itself where it holds no picture (an audio answer's M4A). None for a video
    with no WAV (no sound at all, or processed before every answer kept one: `flask
    backfill-audio`): its MP4 holds the picture, which audio-only review must never send."""
    if answer.audio_key is not None:
        return answer.audio_key, "audio/wav"
    if answer.mp4_key is not None and answer.width is None:
        return answer.mp4_key, "audio/mp4"
    return None


def number(candidate: Candidate) -> int:
    """The candidate's 1-based place in the interview's invitation order."""
    return db.session.execute(
        sa.select(sa.func.count(Candidate.id)).where(
            Candidate.interview_id == candidate.interview_id,
            sa.or_(Candidate.created_at < candidate.created_at,
                   sa.and_(Candidate.created_at == candidate.created_at, Candidate.id <= candidate.id)))
    ).scalar_one()


def labeller(user: User, interview: Interview) -> Callable[[Candidate], str]:
    """A function giving each candidate's name, or "Candidate N" where identity is hidden."""
    if not hides_identity(user, interview):
        return lambda c: c.name
    ids = db.session.execute(
        sa.select(Candidate.id).where(Candidate.interview_id == interview.id)
        .order_by(Candidate.created_at, Candidate.id)).scalars()
    numbers = {cid: i + 1 for i, cid in enumerate(ids)}
    return lambda c: f"Candidate {numbers[c.id]}"


def set_mode(user: User, interview: Interview, anonymous: bool, review_media: str) -> None:
    """Owners and recruiters choose how reviewers see this interview's candidates."""
    if not user.can_author:
        raise ServiceError("Only owners and recruiters may change how candidates are reviewed.", 403)
    if review_media not in REVIEW_MEDIA_LABELS:
        raise ServiceError("Choose video, audio only or transcript only.")
    if (interview.anonymous, interview.review_media) != (bool(anonymous), review_media):
        audit.record("interview.review_mode_changed", interview, actor=user,
                     names="hidden" if anonymous else "shown",
                     media=REVIEW_MEDIA_LABELS[review_media].lower())
    interview.anonymous, interview.review_media = bool(anonymous), review_media
    db.session.commit()
