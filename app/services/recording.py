"""The candidate's side: invite links, consent, takes, written answers and finishing the interview.
A recording's chunks and its finalize are app.services.chunk_uploads."""

from __future__ import annotations

import functools
import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _ln
from redis.exceptions import RedisError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload

from app import i18n, locale_format
from app.extensions import db
from app.models import Answer, Candidate, Question, utcnow
from app.security import hash_token, looks_like_token
from app.services import (
    ServiceError,
    ai_evaluation,
    by_token,
    lifecycle,
    notifications,
    pipeline,
    pools,
    preferences,
    take_types,
    takes,
)
from app.services.accommodations import limits
from app.services.ratelimit import limit_guessing
from app.states import AnswerStatus, CandidateStatus

log = logging.getLogger(__name__)

# The privacy notice the landing page shows; consent records which version was agreed to.
NOTICE_VERSION = "2026-12"


@dataclass(frozen=True)
class Receipt:
    answer_id: str
    bytes: int
    sha256: str
    chunks: int
    duplicate: bool = False
    # True when the receipt is the whole recording's (bytes and SHA-256 of it), kept as sent: a
    # finalize's, or a last chunk's that carried the finalize (app/services/chunk_uploads.py).
    finalized: bool = False


@limit_guessing
def candidate_for_token(token: str, allow_expired: bool = False) -> Candidate:
    """The candidate this link belongs to; a forged link is 404, an expired one 410 (unless the
    caller lets an expired link through: reading one's own data, finishing an open take)."""
    # With the interview in the same query: every candidate page reads its language.
    return _link_open(by_token(Candidate, token, joinedload(Candidate.interview)), allow_expired)


@limit_guessing
def candidate_with_take(token: str, answer_public_id: str) -> tuple[Candidate, Answer | None]:
    """The link's candidate (as candidate_for_token, an expired link let through) and their take
    `answer_public_id` with its question, or None where they have no such take: in one query,
    as chunks arrive hundreds a second at a recruitment day's peak (issue 22)."""
    row = db.session.execute(_with_take_statement(), {
        "token_hash": hash_token(token), "answer": answer_public_id,
    }).one_or_none() if looks_like_token(token) else None
    candidate, answer = row if row is not None else (None, None)
    return _link_open(candidate, allow_expired=True), answer


@functools.cache
def _with_take_statement():
    """Built once: the candidate with their interview, and the take (outer-joined, so that a link
    that works but names no take of theirs is told apart from a forged link) with its question."""
    return (db.select(Candidate, Answer)
            .join(Candidate.interview)
            .outerjoin(Answer, sa.and_(Answer.candidate_id == Candidate.id,
                                       Answer.public_id == sa.bindparam("answer")))
            .outerjoin(Answer.question)
            .options(contains_eager(Candidate.interview), contains_eager(Answer.question))
            .where(Candidate.token_hash == sa.bindparam("token_hash")))


def _link_open(candidate: Candidate | None, allow_expired: bool) -> Candidate:
    """What every lookup of a candidate's link checks: that it found one (404), in the candidate's
    language from here on, and, unless `allow_expired`, that the link has not expired (410)."""
    if candidate is None:
        # Erased candidates leave no trace (app.services.retention), so this also says why a link
        # that once worked no longer does.
        raise ServiceError(_l("This interview link is not valid. Check that you copied all of it. If it "
                              "worked before, the interview's data has been deleted: recordings are kept "
                              "only until the date you were told, or until you asked for them to go."), 404)
    i18n.use_candidate(candidate)
    if candidate.effective_status == CandidateStatus.EXPIRED and not allow_expired:
        raise _expired()
    return candidate


def _expired() -> ServiceError:
    return ServiceError(_l("This interview link has expired. Contact the company that invited you "
                           "to ask for a new one."), 410)


def require_take_open(candidate: Candidate, answer: Answer) -> None:
    """A take begun before the link expired may still be sent for a while after: nothing a
    candidate recorded is lost to the clock."""
    if candidate.effective_status != CandidateStatus.EXPIRED:
        return
    grace = timedelta(hours=current_app.config["EXPIRY_GRACE_HOURS"])
    if answer.created_at >= candidate.expires_at or utcnow() > candidate.expires_at + grace:
        raise _expired()


def give_consent(candidate: Candidate, time_zone: str | None = None) -> None:
    """Record consent to the notice, with its version and the language it was read in; the interview
    starts with it. The browser's time zone comes with it."""
    if candidate.consent_at is None and candidate.interview.closed_at is not None:
        raise ServiceError(_l("This interview is closed to new candidates, so it can no longer be started."),
                           409)
    preferences.remember_time_zone(candidate, time_zone)
    if candidate.consent_at is None:
        candidate.consent_at = utcnow()
        candidate.consent_notice_version = NOTICE_VERSION
        candidate.question_plan = pools.draw(candidate.interview)
        candidate.consent_locale = i18n.locale_code()
        if candidate.status == CandidateStatus.INVITED:
            lifecycle.move_candidate(candidate, CandidateStatus.STARTED, at=candidate.consent_at)
    db.session.commit()


def require_recording_allowed(candidate: Candidate) -> None:
    if candidate.consent_at is None:
        raise ServiceError(_l("Please give your consent before recording."), 403)
    if candidate.status == CandidateStatus.COMPLETED:
        raise ServiceError(_l("You have already finished this interview."), 409)


def _question(candidate: Candidate, question_public_id: str) -> Question:
    question = db.session.execute(
        db.select(Question).filter_by(public_id=question_public_id,
                                      interview_id=candidate.interview_id)
        # Shared: a change of the question (app.services.authoring) waits until this take is
        # committed with what it was given, and then finds the question answered.
        .with_for_update(read=True)
    ).scalar_one_or_none()
    if question is None or question not in candidate.questions:  # another draw of its pool
        raise ServiceError(_l("That question is not part of your interview."), 404)
    return question


def start_take(candidate: Candidate, question_public_id: str, content_type: str) -> Answer:
    """Open a new take for a question while takes remain (app.services.takes)."""
    require_recording_allowed(candidate)
    question = _question(candidate, question_public_id)
    base_type = take_types.require_accepted(question, content_type)
    takes.lock(candidate.id)
    try:
        takes.require_may_start(candidate, question, written=base_type == takes.WRITTEN)
    except ServiceError:
        db.session.rollback()
        raise
    last = db.session.execute(
        db.select(db.func.max(Answer.take)).filter_by(candidate_id=candidate.id,
                                                      question_id=question.id)
    ).scalar_one()
    think, answer_limit = limits(candidate, question)
    answer = Answer(candidate_id=candidate.id, question_id=question.id, take=(last or 0) + 1,
                    content_type=content_type[:100], status=AnswerStatus.RECORDING,
                    prompt_text=question.prompt, given_limits={
                        "think_seconds": think, "answer_seconds": answer_limit,
                        "max_takes": question.max_takes, "kind": question.kind})
    db.session.add(answer)
    db.session.commit()
    return answer


def _answer(candidate: Candidate, answer_public_id: str) -> Answer:
    answer = db.session.execute(
        db.select(Answer).filter_by(public_id=answer_public_id, candidate_id=candidate.id)
    ).scalar_one_or_none()
    if answer is None:
        raise no_such_take()
    return answer


def no_such_take() -> ServiceError:
    return ServiceError(_l("That recording is not part of your interview, or it was let go (cut off, "
                           "too large, or not sent for a day): record the answer again."), 404)


def abandon(candidate: Candidate, answer_public_id: str) -> None:
    """Let go of a take the browser dropped (a reload cut it off mid-recording): its chunks are
    deleted, and it costs no take."""
    answer = _answer(candidate, answer_public_id)
    if answer.status != AnswerStatus.RECORDING:
        raise ServiceError(_l("This recording is already finished, so it cannot be withdrawn."), 409)
    try:
        gone = takes.let_go(answer)
    except (RedisError, IntegrityError):  # no note for the sweeps, or a chunk raced in
        db.session.rollback()
        raise ServiceError(_l("The recording could not be let go just now; it will be retried."), 503)
    if not gone:
        raise ServiceError(_l("More of this recording arrived meanwhile; reload the page."), 409)


def submit_written(candidate: Candidate, answer_public_id: str, text: str) -> Receipt:
    """Keep a typed answer, if it arrives within the question's time (with any extra time).
    Written answers need no processing: they are ready at once."""
    require_recording_allowed(candidate)
    answer = _answer(candidate, answer_public_id)
    if answer.content_type != "text/plain":
        raise ServiceError(_l("This answer is a recording, not a written answer."), 409)
    if answer.status != AnswerStatus.RECORDING:
        raise ServiceError(_l("This answer was already sent."), 409)
    text = (text or "").strip()
    if not text:
        raise ServiceError(_l("Write your answer before sending it."))
    if len(text) > 20000:
        raise ServiceError(_l("A written answer may be at most %(max)s characters.",
                              max=locale_format.format_number(20000)), 413)
    elapsed = (utcnow() - answer.created_at).total_seconds()
    late = -takes.written_time_left(candidate, answer.question, answer)
    if late > 0:
        raise ServiceError(_ln("The time for this answer ran out %(num)s second before it arrived, so it "
                               "was not accepted.", "The time for this answer ran out %(num)s seconds "
                               "before it arrived, so it was not accepted.", round(late)), 422)
    takes.lock(candidate.id)
    try:
        takes.require_take_left(candidate, answer.question)
    except ServiceError:
        db.session.rollback()
        raise
    data = text.encode()
    answer.written_text = text
    answer.original_size, answer.original_sha256 = len(data), hashlib.sha256(data).hexdigest()
    answer.transcript = {"language": None, "text": text, "segments": [], "method": "written"}
    answer.uploaded_at = utcnow()
    lifecycle.move_answer(answer, AnswerStatus.READY)  # written answers need no processing
    answer.client_duration_ms = int(elapsed * 1000)
    db.session.commit()
    # The answer is kept; the workers' pass queues an evaluation left queued.
    queue_after_commit(ai_evaluation.after_ready, answer.id, f"answer {answer.public_id}: evaluation")
    return Receipt(answer.public_id, len(data), answer.original_sha256, 0, finalized=True)


def queue_after_commit(start, arg, what: str) -> None:
    """Queue the work that follows a commit; when Redis does not answer, the candidate still gets
    their answer (what they sent is committed), and the work waits for the workers' passes."""
    try:
        start(arg)
    except RedisError:
        log.warning("%s not queued now (Redis did not answer)", what)


def finish(candidate: Candidate) -> None:
    """Mark the interview complete once every question has an answer on the server (also just
    after the link expired, when the last take came in within the grace)."""
    if candidate.effective_status == CandidateStatus.EXPIRED and utcnow() > candidate.expires_at + timedelta(
            hours=current_app.config["EXPIRY_GRACE_HOURS"]):
        raise _expired()
    require_recording_allowed(candidate)
    answered = takes.current_answers(candidate)
    missing = [q for q in candidate.questions if q.id not in answered]
    if missing:
        raise ServiceError(_ln("%(num)s question still needs an answer.",
                               "%(num)s questions still need an answer.", len(missing)), 409)
    lifecycle.move_candidate(candidate, CandidateStatus.COMPLETED)
    notifications.on_completed(candidate)  # e-mail, sent once this commits
    db.session.commit()
    # The interview is complete all the same; only its manifest waits.
    queue_after_commit(pipeline.maybe_build_package, candidate.id,
                        f"candidate {candidate.public_id}: package")
