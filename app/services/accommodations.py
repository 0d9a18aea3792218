"""Extra time for candidates: asked for before starting, granted at once or by a person, and
applied to every think and answer limit, in the browser and on the server alike.

A request's note is often health data ("I have dyslexia"): only owners and recruiters, who decide
on requests, ever see a request or its note; reviewers see neither, anonymised review or not."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.models import AccommodationPolicy, AccommodationStatus, Answer, Candidate, Interview, Question, User
from app.services import ServiceError
from app.states import AnswerStatus

FACTORS = (1.5, 2.0)
GRACE_SECONDS = 3.0  # recorders stop a moment after the limit; uploads of written text take a moment


def limits(candidate: Candidate, question: Question) -> tuple[int, int]:
    """The think and answer seconds this candidate gets for this question."""
    m = candidate.time_multiplier or 1.0
    return round(question.think_seconds * m), round(question.answer_seconds * m)


def allowed_seconds(candidate: Candidate, question: Question) -> float:
    """The longest answer the server accepts: the limit with any extra time, plus a grace."""
    return limits(candidate, question)[1] + GRACE_SECONDS


def request_extra_time(candidate: Candidate, factor: str, note: str) -> None:
    """Ask for 1.5x or 2x time; granted at once where the interview's owner chose so."""
    try:
        value = float(factor)
    except (TypeError, ValueError):
        value = 0.0
    if value not in FACTORS:
        raise ServiceError(_l("Choose 1.5 times or 2 times the time."))
    started = db.session.execute(
        db.select(Answer.id).filter(Answer.candidate_id == candidate.id,
                                    Answer.status != AnswerStatus.RECORDING).limit(1)).first()
    if started:
        raise ServiceError(_l("Extra time can be asked for before the first answer. Reply to your "
                              "invitation email to ask the company directly."), 409)
    candidate.accommodation_requested = value
    candidate.accommodation_note = (note or "").strip()[:2000] or None
    if candidate.interview.accommodations == AccommodationPolicy.AUTO:
        candidate.accommodation_status = AccommodationStatus.GRANTED
        candidate.time_multiplier = value
    else:
        candidate.accommodation_status = AccommodationStatus.REQUESTED
    db.session.commit()


def decide(user: User, candidate: Candidate, grant: bool) -> None:
    """An owner or recruiter grants or declines a pending request."""
    if not user.can_author:
        raise ServiceError("Only owners and recruiters may decide on extra time.", 403)
    if candidate.accommodation_status != AccommodationStatus.REQUESTED:
        raise ServiceError("There is no pending request for extra time from this candidate.", 409)
    candidate.accommodation_status = AccommodationStatus.GRANTED if grant else AccommodationStatus.DECLINED
    candidate.time_multiplier = candidate.accommodation_requested if grant else 1.0
    db.session.commit()


def pending(user: User, interview: Interview) -> list[Candidate]:
    """The interview's requests waiting for a decision, for those who decide; nothing for anyone else."""
    if not user.can_author:
        return []
    return list(db.session.execute(
        db.select(Candidate).filter_by(interview_id=interview.id,
                                       accommodation_status=AccommodationStatus.REQUESTED)
        .order_by(Candidate.created_at, Candidate.id)).scalars())
