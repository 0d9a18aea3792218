"""How much one invite link may record: takes per question (counted when a take starts and again
when it is kept), takes open at once, bytes per take, and letting go of takes nobody will finish.

A take is open from its start until it is finalized. An open recording counts against the
question's takes from its start, since its chunks take space at once, and stops counting when it
is let go, which costs the candidate no take:
  * at once, when the browser says it dropped it (a reload cut it off mid-recording), or when the
    server refused a chunk of it for size, so that it can never be finished;
  * by the hourly pass (jobs/worker.py), once nothing of it has arrived for ABANDONED_TAKE_HOURS
    (never less than the EXPIRY_GRACE_HOURS in which a take begun before its link expired may
    still be sent), or once the candidate can send nothing more: the interview finished, or the
    link expired and its grace passed.
Letting go deletes the take's rows and then its stored objects; a browser that still holds the
take finds it gone from the open takes and drops its copy. A written answer stores nothing until
it is sent and its time limit ends it, so only the cap on open takes holds it back.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _ln
from redis.exceptions import RedisError
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.locale_format import format_bytes
from app.models import Answer, AnswerChunk, AnswerStageRun, Candidate, Question, utcnow
from app.services import ServiceError
from app.services.accommodations import allowed_seconds, limits
from app.states import UNFINISHED, AnswerStatus, CandidateStatus
from app.storage import StorageError, answer_prefix, current_storage

log = logging.getLogger(__name__)
WRITTEN = "text/plain"
SEND_SECONDS = 10  # a written answer's journey to the server, after its time is up


def takes_used(candidate: Candidate, question: Question) -> int:
    """Takes that reached the server whole; a take let go costs nothing."""
    return db.session.execute(
        sa.select(sa.func.count(Answer.id)).filter(
            Answer.candidate_id == candidate.id, Answer.question_id == question.id,
            Answer.status != AnswerStatus.RECORDING)
    ).scalar_one()


def current_answers(candidate: Candidate) -> dict[int, Answer]:
    """For each question, the take kept: the latest that reached the server."""
    rows = db.session.execute(
        db.select(Answer).filter(Answer.candidate_id == candidate.id,
                                 Answer.status != AnswerStatus.RECORDING).order_by(Answer.take)
    ).scalars()
    return {a.question_id: a for a in rows}


def open_takes(candidate: Candidate) -> dict[int, dict[str, int]]:
    """Takes still being recorded or uploaded, per question: answer id -> chunks the server holds.
    A reloaded page uses this to finish uploading a take it kept in the browser."""
    rows = db.session.execute(
        sa.select(Answer.question_id, Answer.public_id, Answer.chunk_count).filter(
            Answer.candidate_id == candidate.id, Answer.status == AnswerStatus.RECORDING)
    ).all()
    out: dict[int, dict[str, int]] = {}
    for question_id, public_id, chunks in rows:
        out.setdefault(question_id, {})[public_id] = chunks
    return out


def written_time_left(candidate: Candidate, question: Question, answer: Answer) -> float:
    """Seconds in which a written take may still be sent: the question's time (with any extra
    time) from its start, and the request's journey (negative: its time ran out that long ago)."""
    elapsed = (utcnow() - answer.created_at).total_seconds()
    return allowed_seconds(candidate, question) + SEND_SECONDS - elapsed


def _still_open(candidate: Candidate, question: Question) -> list[Answer]:
    """This question's takes that may still be finished: open recordings, and written takes
    whose time is not up."""
    rows = db.session.execute(
        sa.select(Answer).filter_by(candidate_id=candidate.id, question_id=question.id,
                                    status=AnswerStatus.RECORDING)).scalars()
    return [a for a in rows
            if a.content_type != WRITTEN or written_time_left(candidate, question, a) > 0]


def lock(candidate_id: int) -> None:
    """Hold the candidate's row until the transaction ends: two requests of one link that count
    takes and then add one (two starts, two finalizes) take turns, so neither counts past a limit.
    An UPDATE, as SQLite has no SELECT ... FOR UPDATE; it writes the row as it is."""
    db.session.execute(sa.update(Candidate).where(Candidate.id == candidate_id)
                       .values(updated_at=Candidate.updated_at),
                       execution_options={"synchronize_session": False})


def require_may_start(candidate: Candidate, question: Question, written: bool) -> None:
    """Refuse (409) a new take while the question's takes, kept and open, are used up, or while
    as many takes of it as allowed are open at once. Call under lock()."""
    used = takes_used(candidate, question)
    if used >= question.max_takes:
        raise ServiceError(_l("You have used every take for this question."), 409)
    still_open = _still_open(candidate, question)
    cap = current_app.config["OPEN_TAKES_PER_QUESTION"]
    if len(still_open) >= cap:
        raise ServiceError(_ln("%(num)s take of this question is open already. Reload this page to send "
                               "what was recorded; a take that is not sent is let go a day after the "
                               "last of it arrived.",
                               "%(num)s takes of this question are open already. Reload this page to "
                               "send what was recorded; a take that is not sent is let go a day after "
                               "the last of it arrived.", len(still_open)), 409)
    if not written and used + len(still_open) >= question.max_takes:
        raise ServiceError(_l("Your last recording of this question has not been sent completely, and it "
                              "would use your last take. Reload this page in the browser you recorded it "
                              "in to send it; a recording that was cut off is then let go and costs no "
                              "take. One that is not sent is let go a day after the last of it "
                              "arrived."), 409)


def require_take_left(candidate: Candidate, question: Question) -> None:
    """Refuse (409) to keep a take past the question's takes. Call under lock()."""
    if takes_used(candidate, question) >= question.max_takes:
        raise ServiceError(_l("You have used every take for this question, so this one cannot be kept."),
                           409)


def max_bytes(candidate: Candidate, question: Question) -> int:
    """The most one take may hold: its allowed time at a generous bitrate, plus an allowance for
    the container's headers; never more than MAX_ANSWER_BYTES."""
    cfg = current_app.config
    by_time = allowed_seconds(candidate, question) * cfg["MAX_ANSWER_BITRATE"] / 8
    return min(cfg["MAX_ANSWER_BYTES"], int(by_time) + cfg["ANSWER_BYTES_ALLOWANCE"])


def too_large(candidate: Candidate, question: Question) -> ServiceError:
    """The refusal of a chunk that would take a take past max_bytes (413), saying what to do."""
    size = format_bytes(max_bytes(candidate, question))
    return ServiceError(_ln("This recording is larger than allowed for a %(num)s-second answer (%(size)s), "
                            "so it was not kept, and it used no take. Reload this page and record the "
                            "answer again; if this happens again, try another browser.",
                            "This recording is larger than allowed for a %(num)s-second answer (%(size)s), "
                            "so it was not kept, and it used no take. Reload this page and record the "
                            "answer again; if this happens again, try another browser.",
                            limits(candidate, question)[1], size=size), 413)


def let_go(answer: Answer) -> bool:
    """Delete an open take that will not be finished: its rows, then its stored objects. False
    (nothing done) when it was finalized, let go, or sent more since it was read."""
    return _let_go(answer.id, answer.public_id, answer.candidate_id, answer.updated_at)


def _let_go(answer_id: int, public_id: str, candidate_id: int, seen: datetime) -> bool:
    """let_go, for the take as it was when last seen (`seen`: its updated_at then).

    The folder is noted for the retention pass's later sweeps before the rows go (and nothing is
    deleted when that fails), so objects a racing upload or pass writes late, or that the store
    could not delete now, go by the next pass."""
    from app.services.retention import remember, tell_workers

    lock(candidate_id)
    now = db.session.execute(sa.select(Answer.status, Answer.updated_at)
                             .where(Answer.id == answer_id)).one_or_none()
    if now is None or now.status != AnswerStatus.RECORDING or now.updated_at != seen:
        db.session.rollback()
        return False
    remember([answer_prefix(public_id)], strict=True)
    for statement in (sa.delete(AnswerChunk).where(AnswerChunk.answer_id == answer_id),
                      sa.delete(AnswerStageRun).where(AnswerStageRun.answer_id == answer_id),
                      sa.delete(Answer).where(Answer.id == answer_id)):
        db.session.execute(statement, execution_options={"synchronize_session": False})
    db.session.commit()
    tell_workers([public_id])  # their spool copies of the recording go at once too
    try:
        current_storage().delete_prefix(answer_prefix(public_id))
    except StorageError:
        log.warning("take %s: objects left for the next sweep", public_id, exc_info=True)
    return True


def let_go_abandoned(now: datetime) -> int:
    """Let go of every take that nothing can finish any more (see the module's docstring). The
    hourly retention pass runs this; returns how many went."""
    cfg = current_app.config
    grace = timedelta(hours=cfg["EXPIRY_GRACE_HOURS"])
    silent = now - max(timedelta(hours=cfg["ABANDONED_TAKE_HOURS"]), grace)
    done_with = sa.or_(Candidate.status == CandidateStatus.COMPLETED,
                       sa.and_(Candidate.status.in_(UNFINISHED),
                               Candidate.expires_at < now - grace))
    # Plain values: each take is let go in its own transaction, and checked again under the lock.
    takes = db.session.execute(
        sa.select(Answer.id, Answer.public_id, Answer.candidate_id, Answer.updated_at)
        .join(Candidate, Candidate.id == Answer.candidate_id)
        .where(Answer.status == AnswerStatus.RECORDING, sa.or_(Answer.updated_at < silent, done_with))
        .order_by(Answer.id)).all()
    db.session.rollback()
    gone = 0
    for take in takes:
        try:
            gone += _let_go(*take)
        except (RedisError, IntegrityError):  # no note for the sweeps, or a chunk raced in
            db.session.rollback()
            log.warning("take %s was not let go now; the next pass tries again", take.public_id,
                        exc_info=True)
    if gone:
        log.info("let go of %d abandoned take(s)", gone)
    return gone
