"""A take's recording arriving: each chunk stored and counted as it comes, and the finalize that
records the take as sent and queues its processing. Hundreds of chunks a second at a recruitment
day's peak (issue 22), so both cost as little as they can."""

from __future__ import annotations

import functools
import hashlib
import logging
import re

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from redis.exceptions import RedisError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import db
from app.models import Answer, AnswerChunk, Candidate, utcnow
from app.services import ServiceError, commit_keeping_loaded, lifecycle, pipeline, takes
from app.services.recording import (
    Receipt,
    candidate_with_take,
    no_such_take,
    queue_after_commit,
    require_recording_allowed,
    require_take_open,
)
from app.states import AnswerStatus
from app.storage import StorageError, chunk_key, current_storage

log = logging.getLogger(__name__)
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")


def put_chunk(token: str, answer_public_id: str, seq: int, data: bytes, sha256: str | None = None,
              attempt: int = 1) -> Receipt:
    """Store chunk `seq` of a take of the link's candidate once; a replay of the same bytes is
    acknowledged again, in any state. `sha256`, the browser's checksum of the chunk, if it sent one:
    a chunk that differs from it is refused before anything is stored, so every chunk held is the
    one the browser recorded.

    Hundreds a second at a recruitment day's peak (issue 22), so it costs as little as it can: the
    link, the take and its question in one query, then the stored chunk recorded by two statements
    rather than the ORM's flush, and nothing read back after the commit."""
    candidate, answer = candidate_with_take(token, answer_public_id)
    if answer is None:
        raise no_such_take()
    if seq < 0:
        raise ServiceError(_l("A chunk's number cannot be negative."))
    if not data:
        raise ServiceError(_l("That chunk was empty."))
    digest = hashlib.sha256(data).hexdigest()
    if sha256 is not None and sha256.strip().lower() != digest:
        raise ServiceError(_l("Chunk %(seq)s arrived damaged (its checksum differs from the one your "
                              "browser sent); it must be sent again.", seq=seq), 422)
    existing = db.session.execute(  # chunks are held in order: none at or past chunk_count
        db.select(AnswerChunk).filter_by(answer_id=answer.id, seq=seq)
    ).scalar_one_or_none() if seq < answer.chunk_count else None
    if existing is not None:
        if existing.sha256 != digest:
            raise ServiceError(_l("Chunk %(seq)s was already received with different content.", seq=seq),
                               409)
        return Receipt(answer.public_id, existing.size, digest, answer.chunk_count, duplicate=True)
    _require_next_chunk(candidate, answer, seq, len(data))
    try:
        current_storage().put_bytes(chunk_key(answer.public_id, seq), data, "application/octet-stream",
                                    digest)
    except StorageError:
        log.exception("chunk upload failed for answer %s", answer.public_id)
        raise ServiceError(_l("The recording could not be saved just now; it will be retried."), 503)
    if not _record_chunk(answer, seq, len(data), digest):
        # The same chunk raced in twice (the first one won), a finalize came first, or the take was
        # let go meanwhile: asked again, the take as it is now answers (a receipt, a 409, a 404).
        db.session.rollback()
        if attempt >= 3:
            raise ServiceError(_l("The recording could not be saved just now; it will be retried."), 503)
        return put_chunk(token, answer_public_id, seq, data, sha256, attempt + 1)
    _start_early_passes(answer)
    return Receipt(answer.public_id, len(data), digest, answer.chunk_count)


def _record_chunk(answer: Answer, seq: int, size: int, digest: str) -> bool:
    """Record the stored chunk and move the take's count past it, and commit; False (nothing
    written) where the take is no longer the one that was read: no longer recording, or with
    chunk `seq` already (the UPDATE counts only from the count that was read, so two requests
    of one chunk cannot both count it)."""
    move, add = _chunk_statements()
    connection = db.session.connection()
    if connection.execute(move, {"answer_id": answer.id, "seq": seq, "next": seq + 1,
                                 "size": size}).rowcount != 1:
        return False
    try:
        connection.execute(add, {"answer_id": answer.id, "seq": seq, "size": size, "sha256": digest,
                                 "created_at": utcnow()})
        commit_keeping_loaded()
    except IntegrityError:
        return False
    # What was written, as the session's copy (kept loaded by the commit): the receipt and the
    # early passes read only these, and no query.
    received = answer.received_bytes + size
    set_committed_value(answer, "chunk_count", seq + 1)
    set_committed_value(answer, "received_bytes", received)
    return True


@functools.cache
def _chunk_statements() -> tuple[sa.Update, sa.Insert]:
    """Built once, run on the connection (the ORM's machinery is not needed for two plain writes):
    the take's count moved past chunk `seq` while it records (updated_at moves with it, as
    takes.let_go expects), and the chunk's row."""
    answers = Answer.__table__
    move = (answers.update()
            .where(answers.c.id == sa.bindparam("answer_id"), answers.c.chunk_count == sa.bindparam("seq"),
                   answers.c.status == AnswerStatus.RECORDING.value)
            .values(chunk_count=sa.bindparam("next"),
                    received_bytes=answers.c.received_bytes + sa.bindparam("size")))
    return move, AnswerChunk.__table__.insert()


def _require_next_chunk(candidate: Candidate, answer: Answer, seq: int, size: int) -> None:
    """Refuse a new chunk that this take may not have: finished, closed, written, out of order,
    or past the take's byte cap (such a take can never be finished, so it is let go)."""
    if answer.status != AnswerStatus.RECORDING:
        raise ServiceError(_l("This recording is already finished."), 409)
    require_take_open(candidate, answer)
    require_recording_allowed(candidate)
    if answer.content_type == "text/plain":
        raise ServiceError(_l("A written answer is sent as text, not in chunks."), 409)
    if seq != answer.chunk_count:
        raise ServiceError(_l("Chunk %(seq)s arrived out of order: chunk %(expected)s is expected next.",
                              seq=seq, expected=answer.chunk_count), 409)
    if answer.received_bytes + size > takes.max_bytes(candidate, answer.question):
        refusal = takes.too_large(candidate, answer.question)
        try:  # it can never be finished: it must neither hold space nor block the next take
            takes.let_go(answer)
        except (RedisError, IntegrityError):  # no note for the sweeps, or a chunk raced in
            db.session.rollback()
            log.warning("take %s is too large but stays until the next sweep", answer.public_id)
        raise refusal


def _start_early_passes(answer: Answer) -> None:
    """Every few chunks, queue the passes that work on the recording while it is still made.

    The video pass first: an idle worker takes whichever job comes first, and if this chunk is
    the last, the video pass's work is used by the final transcode (which waits for it) while
    the transcription pass only waits for the finalize and then stands aside."""
    cfg = current_app.config
    every = cfg["EARLY_VIDEO_CHUNKS"]
    if every and answer.chunk_count % every == 0 and pipeline.may_need_reencode(answer.content_type):
        pipeline.start_early_video(answer)
    every = cfg["EARLY_TRANSCRIBE_CHUNKS"]
    # With an alignment model the final pass aligns the whole answer, so early work is not used.
    if every and answer.chunk_count % every == 0 and not cfg["WHISPER_ALIGN_MODEL"]:
        pipeline.start_early(answer)


def finalize(token: str, answer_public_id: str, body: object) -> Receipt:
    """Record the answer as sent, from what the database holds of its chunks, and queue the job that
    joins them (jobs/join.py): each chunk was stored and checked as it arrived, so this request
    only counts them, and answers in milliseconds however busy the machine is. The join checks
    the whole recording against the browser's checksum before any chunk is deleted.

    `body`: the request's JSON, read once the link and the take are found: `chunks`, `sha256` and
    optionally `duration_ms`, the recording's length as the browser measured it."""
    candidate, answer = candidate_with_take(token, answer_public_id)
    if answer is None:
        raise no_such_take()
    chunks, sha256, duration_ms = _finalize_body(body)
    if not _SHA_RE.match(sha256):
        raise ServiceError(_l("Finalize needs the recording's SHA-256 checksum."), 400)
    if answer.status != AnswerStatus.RECORDING:
        return _finished_already(answer, chunks, sha256)
    require_take_open(candidate, answer)
    require_recording_allowed(candidate)
    # Counted before the lock, which holds every other write of this database (SQLite) until the
    # commit: a take's chunks below its count never change, so the count stands if the take is
    # as it was once the lock is held.
    size = _held_whole(answer, chunks)
    counted = (answer.chunk_count, answer.received_bytes)
    # Under the candidate's lock (held until commit) a second finalize, a take kept meanwhile or
    # the take let go cannot slip between the checks and the move.
    takes.lock(candidate.id)
    if not _still_recording(answer):
        return _finished_already(answer, chunks, sha256)
    try:
        if (answer.chunk_count, answer.received_bytes) != counted:  # a chunk arrived meanwhile
            size = _held_whole(answer, chunks)
        takes.require_take_left(candidate, answer.question)
    except ServiceError:
        db.session.rollback()
        raise
    answer.original_size, answer.original_sha256 = size, sha256
    if duration_ms is not None and 0 < duration_ms < 24 * 3600 * 1000:
        answer.client_duration_ms = duration_ms
    answer.uploaded_at = utcnow()
    lifecycle.move_answer(answer, AnswerStatus.UPLOADED)
    db.session.commit()
    # The answer is safe and recorded as sent: the reconcile pass queues a join left unqueued.
    queue_after_commit(pipeline.start, answer, f"answer {answer.public_id}: join")
    return Receipt(answer.public_id, size, sha256, chunks)


def _finalize_body(body: object) -> tuple[int, str, int | None]:
    """(chunks, sha256 in lower case, duration_ms or None) from a finalize's JSON; a 400 otherwise."""
    if not isinstance(body, dict):
        raise ServiceError(_l("Finalize needs a JSON body with chunks and sha256."), 400)
    try:
        chunks = int(body.get("chunks"))
        duration = body.get("duration_ms")
        duration = int(duration) if duration is not None else None
    except (TypeError, ValueError, OverflowError):  # OverflowError: 1e999, read as infinity
        raise ServiceError(_l("chunks and duration_ms must be whole numbers."), 400) from None
    return chunks, str(body.get("sha256") or "").lower(), duration


def _still_recording(answer: Answer) -> bool:
    """Look again, under the lock, at the take: True while it is still being recorded; False when a
    finalize sent twice finished it meanwhile (the caller answers as for a repeat); 404 when it
    was let go meanwhile."""
    # One query, read into the session's copy of the take (populate_existing).
    now = db.session.execute(db.select(Answer).where(Answer.id == answer.id)
                             .execution_options(populate_existing=True)).scalar_one_or_none()
    if now is None:
        db.session.rollback()
        raise ServiceError(_l("This recording was let go while it was being joined (nothing of it "
                              "arrived for a day); record the answer again."), 404)
    if now.status == AnswerStatus.RECORDING:
        return True
    db.session.rollback()
    return False


def _held_whole(answer: Answer, chunks: int) -> int:
    """The recording's size, once the database holds chunks 0 to `chunks` - 1, each stored and
    checked, and their sizes add up to what the take received; a 409 otherwise."""
    if chunks < 1 or chunks != answer.chunk_count:
        raise ServiceError(_l("The server holds %(held)s chunks of this recording, not %(sent)s; the "
                              "missing ones must be sent first.", held=answer.chunk_count, sent=chunks), 409)
    count, total, first, last = db.session.execute(
        db.select(db.func.count(), db.func.sum(AnswerChunk.size), db.func.min(AnswerChunk.seq),
                  db.func.max(AnswerChunk.seq)).where(AnswerChunk.answer_id == answer.id)
    ).one()
    # (answer, seq) is unique, so as many rows as chunks from 0 to chunks - 1 leave no gap.
    if (count, first, last) != (chunks, 0, chunks - 1) or total != answer.received_bytes:
        raise ServiceError(_l("Some chunks of this recording are missing."), 409)
    return int(total)


def _finished_already(answer: Answer, chunks: int, sha256: str) -> Receipt:
    """A finalize sent again for a finished take: the same receipt for the same recording."""
    if answer.original_sha256 == sha256 and answer.chunk_count == chunks:
        return Receipt(answer.public_id, answer.original_size, sha256, chunks, duplicate=True)
    raise ServiceError(_l("This recording was already finished with different content."), 409)
