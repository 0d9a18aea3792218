"""A take's recording arriving: each chunk stored and counted as it comes, and the finalize that
records the take as sent and queues its processing. Hundreds of chunks a second at a recruitment
day's peak (issue 22), so both cost as little as they can."""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass

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
              closing: Mapping[str, str | None] | None = None, attempt: int = 1) -> Receipt:
    """Store chunk `seq` of a take of the link's candidate once; a replay of the same bytes is
    acknowledged again, in any state. `sha256`, the browser's checksum of the chunk, if it sent one:
    a chunk that differs from it is refused before anything is stored, so every chunk held is the
    one the browser recorded.

    `closing`, sent with the last chunk only: the finalize's `chunks`, `sha256` and `duration_ms`
    (the recorder's X-Recording-* headers, unparsed). The chunk is then stored and the take kept
    as sent in one transaction, and the receipt is the whole recording's (`finalized`): a request
    less for every answer, when all of a recruitment day's candidates stop at once (issue 22).
    Where the take cannot be kept (its question's takes are used up), the chunk is still stored
    and its plain receipt says so by not being `finalized`; the recorder then sends the finalize
    on its own, which answers with the reason.

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
    last = _closing(closing, seq) if closing is not None else None
    digest = hashlib.sha256(data).hexdigest()
    if sha256 is not None and sha256.strip().lower() != digest:
        raise ServiceError(_l("Chunk %(seq)s arrived damaged (its checksum differs from the one your "
                              "browser sent); it must be sent again.", seq=seq), 422)
    replay = _replayed(answer, seq, digest, last)
    if replay is not None:
        return replay
    _require_next_chunk(candidate, answer, seq, len(data))
    try:
        # Named by its checksum too: a different chunk under this number, racing this one, is
        # stored beside it, and only the one whose row is recorded below counts.
        current_storage().put_bytes(chunk_key(answer.public_id, seq, digest), data,
                                    "application/octet-stream", digest)
    except StorageError:
        log.exception("chunk upload failed for answer %s", answer.public_id)
        raise ServiceError(_l("The recording could not be saved just now; it will be retried."), 503)
    receipt = _recorded(candidate, answer, seq, len(data), digest, last)
    if receipt is None:
        # The same chunk raced in twice (the first one won), a finalize came first, or the take was
        # let go meanwhile: asked again, the take as it is now answers (a receipt, a 409, a 404).
        db.session.rollback()
        if attempt >= 3:
            raise ServiceError(_l("The recording could not be saved just now; it will be retried."), 503)
        return put_chunk(token, answer_public_id, seq, data, sha256, closing, attempt + 1)
    _start_early_passes(answer)
    if receipt.finalized:  # the answer is safe and recorded as sent, as after a finalize
        queue_after_commit(pipeline.start, answer, f"answer {answer.public_id}: join")
    return receipt


def _replayed(answer: Answer, seq: int, digest: str, last: _Closing | None) -> Receipt | None:
    """The receipt for chunk `seq` sent again (its answer lost on the way), or None when the take
    does not hold it yet; a 409 for other bytes under its number. A last chunk that carried the
    finalize gets the whole recording's receipt again once the take is kept."""
    existing = db.session.execute(  # chunks are held in order: none at or past chunk_count
        db.select(AnswerChunk).filter_by(answer_id=answer.id, seq=seq)
    ).scalar_one_or_none() if seq < answer.chunk_count else None
    if existing is None:
        return None
    if existing.sha256 != digest:
        raise ServiceError(_l("Chunk %(seq)s was already received with different content.", seq=seq), 409)
    if last is not None and answer.status != AnswerStatus.RECORDING:
        return _finished_already(answer, last.chunks, last.sha256)
    return Receipt(answer.public_id, existing.size, digest, answer.chunk_count, duplicate=True)


def _recorded(candidate: Candidate, answer: Answer, seq: int, size: int, digest: str,
              last: _Closing | None) -> Receipt | None:
    """Record the stored chunk (and, with `last`, keep the take as sent) and commit: the receipt;
    None, with nothing written, as for _record_chunk."""
    if last is not None:
        return _record_last_chunk(candidate, answer, seq, size, digest, last)
    if not _record_chunk(answer, seq, size, digest):
        return None
    commit_keeping_loaded()
    return Receipt(answer.public_id, size, digest, answer.chunk_count)


@dataclass(frozen=True)
class _Closing:
    """The finalize a last chunk carries."""
    chunks: int
    sha256: str
    duration_ms: int | None


def _closing(headers: Mapping[str, str | None], seq: int) -> _Closing:
    """The finalize sent with chunk `seq` (X-Recording-Chunks, -SHA256 and -Duration-Ms), read as
    a finalize's body is; a 400 when it cannot be the last chunk's."""
    chunks, sha256, duration_ms = _finalize_body(dict(headers))
    if not _SHA_RE.match(sha256):
        raise ServiceError(_l("A last chunk that finishes the recording needs the whole recording's "
                              "SHA-256 checksum."), 400)
    if chunks != seq + 1:
        raise ServiceError(_l("Chunk %(seq)s cannot finish a recording of %(chunks)s chunks: only its "
                              "last chunk can.", seq=seq, chunks=chunks), 400)
    return _Closing(chunks, sha256, duration_ms)


def _record_chunk(answer: Answer, seq: int, size: int, digest: str) -> bool:
    """Record the stored chunk and move the take's count past it (the caller commits); False where
    the take is no longer the one that was read: no longer recording, or with chunk `seq`
    already (the UPDATE counts only from the count that was read, so two requests of one chunk
    cannot both count it). The caller rolls back then."""
    move, add = _chunk_statements()
    connection = db.session.connection()
    if connection.execute(move, {"answer_id": answer.id, "seq": seq, "next": seq + 1,
                                 "size": size}).rowcount != 1:
        return False
    try:
        connection.execute(add, {"answer_id": answer.id, "seq": seq, "size": size, "sha256": digest,
                                 "created_at": utcnow()})
    except IntegrityError:
        return False
    # What was written, as the session's copy (kept loaded by the commit): the receipt and the
    # early passes read only these, and no query.
    set_committed_value(answer, "chunk_count", seq + 1)
    set_committed_value(answer, "received_bytes", answer.received_bytes + size)
    return True


def _record_last_chunk(candidate: Candidate, answer: Answer, seq: int, size: int, digest: str,
                       last: _Closing) -> Receipt | None:
    """Record the last chunk and keep the take as sent in one transaction, and commit: the
    finalize's receipt. None (nothing written) as for _record_chunk.

    The candidate's lock comes first, as in a finalize and a let-go (candidate, then take), so
    none of them waits on another in a cycle. The count needs no aggregate here, as a finalize
    counts: this transaction moved it from `seq` to `chunks` itself, and every earlier chunk was
    counted in the transaction that stored its row. The join checks the whole recording's
    SHA-256 in any case."""
    takes.lock(candidate.id)
    if not _record_chunk(answer, seq, size, digest):
        return None
    try:
        takes.require_take_left(candidate, answer.question)
    except ServiceError:  # the chunk is kept; the finalize sent on its own says why the take is not
        commit_keeping_loaded()
        return Receipt(answer.public_id, size, digest, answer.chunk_count)
    _keep_as_sent(answer, answer.received_bytes, last.sha256, last.duration_ms)
    commit_keeping_loaded()
    return Receipt(answer.public_id, answer.received_bytes, last.sha256, last.chunks, finalized=True)


def _keep_as_sent(answer: Answer, size: int, sha256: str, duration_ms: int | None) -> None:
    """Record the take as sent, with the receipt's size and checksum (the caller commits)."""
    answer.original_size, answer.original_sha256 = size, sha256
    if duration_ms is not None and 0 < duration_ms < 24 * 3600 * 1000:
        answer.client_duration_ms = duration_ms
    answer.uploaded_at = utcnow()
    lifecycle.move_answer(answer, AnswerStatus.UPLOADED)


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
    _keep_as_sent(answer, size, sha256, duration_ms)
    db.session.commit()
    # The answer is safe and recorded as sent: the reconcile pass queues a join left unqueued.
    queue_after_commit(pipeline.start, answer, f"answer {answer.public_id}: join")
    return Receipt(answer.public_id, size, sha256, chunks, finalized=True)


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
        return Receipt(answer.public_id, answer.original_size, sha256, chunks, duplicate=True,
                       finalized=True)
    raise ServiceError(_l("This recording was already finished with different content."), 409)
