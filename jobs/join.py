"""Job: join a sent answer's chunks into its original, check it whole, then start its processing.

Finalize (app.services.recording) only counts the chunks, each checked as it arrived, so that it
answers at once however busy the machine is; this job does the rest. A run again (a killed
worker, the reconciler) joins again into the same key; the chunks go only once the joined
original's size and SHA-256 are the browser's, and its key is committed.
"""

from __future__ import annotations

import logging

from jobs import run_answer_stage

log = logging.getLogger(__name__)


def run(answer_id: int) -> None:
    run_answer_stage("join", answer_id, _join, _then)


def _join(answer) -> None:
    from app.media import MediaError
    from app.storage import answer_key, chunks_prefix, current_storage, read_chunk

    if answer.original_key is not None:  # joined by an earlier run, or sent through again
        return
    store = current_storage()
    kind = answer.content_type.split(";")[0].strip().lower()
    key = answer_key(answer.public_id, f"original.{_extension(kind)}")
    folder = chunks_prefix(answer.public_id)
    parts = (read_chunk(store, folder, seq, sha256) for seq, sha256 in _recorded(answer))
    result = store.put_stream(key, parts, kind)
    if (result.size, result.sha256) != (answer.original_size, answer.original_sha256):
        store.delete(key)  # the chunks stay: they are what the server received
        # Failed at once (never retried: the same chunks join to the same bytes), with the
        # reason staff read on the answer.
        raise MediaError(
            f"The recording's {answer.chunk_count} chunks join to {result.size} bytes with SHA-256 "
            f"{result.sha256}, but the candidate's browser sent {answer.original_size} bytes with "
            f"SHA-256 {answer.original_sha256}. Every chunk is kept as received; nothing was deleted.")
    answer.original_key = key


def _extension(kind: str) -> str:
    from app.services.take_types import CONTAINERS

    return CONTAINERS[kind]


def _recorded(answer) -> list[tuple[int, str]]:
    """(number, SHA-256) of each chunk the take recorded, in order: finalize checked that they
    run from 0 to its count without a gap."""
    from app.extensions import db
    from app.models import AnswerChunk

    return [tuple(r) for r in db.session.execute(
        db.select(AnswerChunk.seq, AnswerChunk.sha256).where(AnswerChunk.answer_id == answer.id)
        .order_by(AnswerChunk.seq))]


def remove_chunks(answer) -> None:
    """Delete the chunks of an answer whose original is joined, checked and committed: the
    chunks' folder, so that a chunk that lost a race for its number goes too; what cannot be
    deleted now goes with the answer's folder at the latest."""
    from app.storage import StorageError, chunks_prefix, current_storage

    if answer.original_key is None or not answer.chunk_count:
        return
    try:
        current_storage().delete_prefix(chunks_prefix(answer.public_id))
    except StorageError:
        log.warning("answer %s: its chunks could not be deleted now", answer.public_id, exc_info=True)


def _then(answer, _result: None) -> None:
    from app.services import pipeline

    remove_chunks(answer)
    pipeline.after_join(answer)
