"""A hiring manager's own video (or sound) asking a question, or welcoming candidates on the landing
page: recorded in the browser chunk by chunk (as a candidate's answer is) or uploaded as a file,
processed into an MP4 with captions (jobs/prompt_media.py), replaced or removed with its objects.
Candidates reach only the prompts of their own interview (their own draw of a pool), staff only those
of interviews they may see."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import mimetypes
import re
import tempfile
from datetime import timedelta
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.models import Candidate, Interview, PromptMedia, Question, User, new_public_id, utcnow
from app.queue import ASR_QUEUE, MEDIA_QUEUE, enqueue, job_alive, requeue
from app.services import ServiceError, authoring, interviews, lifecycle
from app.states import AnswerStatus
from app.storage import StorageError, chunk_in, current_storage, prompt_key, prompt_prefix, read_chunk

log = logging.getLogger(__name__)

# The slot of the interview's landing page (a question's slot is its public id).
WELCOME = "welcome"
# What a prompt may be, by declared type: the original's extension and the only ffmpeg demuxer that
# may read it (app.media.probe). The browser's recorder makes the first five; phones save .mov.
TYPES = {"video/webm": ("webm", "matroska"), "audio/webm": ("webm", "matroska"),
         "video/mp4": ("mp4", "mov"), "audio/mp4": ("m4a", "mov"), "audio/ogg": ("ogg", "ogg"),
         "video/quicktime": ("mov", "mov"), "audio/x-m4a": ("m4a", "mov")}
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")
# How the editing page and the candidate's pages name each status.
STATUS_SAID = {AnswerStatus.RECORDING: _l("Being recorded"),
               AnswerStatus.UPLOADED: _l("Waiting to be processed"),
               AnswerStatus.PROCESSING: _l("Being processed (captions are made from its speech)"),
               AnswerStatus.READY: _l("Ready: candidates see it"),
               AnswerStatus.FAILED: _l("Could not be used")}


def base_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def demuxer(media: PromptMedia) -> str:
    return TYPES[base_type(media.content_type)][1]


def _require_type(content_type: str) -> str:
    kind = base_type(content_type)
    if kind not in TYPES:
        raise ServiceError(_l("Files of type “%(type)s” cannot be a question's video: use a WebM, MP4, MOV, "
                              "M4A or Ogg recording.", type=(content_type or "?")[:100]), 415)
    return kind


def place(interview: Interview, slot: str) -> Question | None:
    """The question a slot names (None: the welcome); 404 for anything not in this interview."""
    if slot == WELCOME:
        return None
    question = next((q for q in interview.questions if q.public_id == slot), None)
    if question is None:
        raise ServiceError(_l("That question is not part of this interview."), 404)
    return question


def _require_changeable(user: User, question: Question | None) -> None:
    """Authors only; a question's prompt is frozen once candidates answered it (as its wording
    is): the question's row is held until the caller commits, so no take starts meanwhile."""
    authoring.require_author(user)
    if question is not None:
        interviews.lock_question(question)
        if interviews.is_answered(question):
            db.session.rollback()
            raise ServiceError(_l("Candidates have answered this question, so its video can no longer be "
                                  "changed: each answer keeps the question as it was asked."), 409)


def _rows(interview: Interview, question: Question | None):
    query = db.select(PromptMedia).filter_by(interview_id=interview.id)
    if question is None:
        return query.filter(PromptMedia.question_id.is_(None))
    return query.filter_by(question_id=question.id)


def current(interview: Interview, question: Question | None) -> PromptMedia | None:
    """The place's prompt (being processed, ready or failed), not one still being recorded."""
    return db.session.execute(
        _rows(interview, question).filter(PromptMedia.status != AnswerStatus.RECORDING)
        .order_by(PromptMedia.id.desc()).limit(1)).scalar_one_or_none()


def for_interview(interview: Interview, ready_only: bool = False) -> dict[int | None, PromptMedia]:
    """Each place's prompt, by question id (None: the welcome), in one query."""
    query = db.select(PromptMedia).filter(PromptMedia.interview_id == interview.id,
                                          PromptMedia.status != AnswerStatus.RECORDING)
    if ready_only:
        query = query.filter(PromptMedia.status == AnswerStatus.READY)
    return {m.question_id: m for m in db.session.execute(query.order_by(PromptMedia.id)).scalars()}


def start_recording(user: User, interview: Interview, slot: str, content_type: str) -> PromptMedia:
    """Open a recording for a place; an earlier one left unfinished there is let go."""
    question = place(interview, slot)
    kind = _require_type(content_type)
    _require_changeable(user, question)
    interviews.discard_prompt_media(list(db.session.execute(
        _rows(interview, question).filter(PromptMedia.status == AnswerStatus.RECORDING)).scalars()))
    media = PromptMedia(org_id=interview.org_id, interview_id=interview.id,
                        question_id=question.id if question else None, created_by_id=user.id,
                        content_type=(content_type or kind)[:100], chunk_hashes=[])
    db.session.add(media)
    db.session.commit()
    return media


def _recording(user: User, interview: Interview, media_public_id: str) -> PromptMedia:
    authoring.require_author(user)
    media = db.session.execute(db.select(PromptMedia).filter_by(
        public_id=media_public_id, interview_id=interview.id)).scalar_one_or_none()
    if media is None:
        raise ServiceError(_l("That recording is not part of this interview, or it was replaced."), 404)
    return media


def put_chunk(user: User, interview: Interview, media_public_id: str, seq: int, data: bytes) -> dict:
    """Store chunk `seq` once; a replay of the same bytes is acknowledged again."""
    media = _recording(user, interview, media_public_id)
    if seq < 0:
        raise ServiceError(_l("A chunk's number cannot be negative."))
    if not data:
        raise ServiceError(_l("That chunk was empty."))
    digest = hashlib.sha256(data).hexdigest()
    hashes = list(media.chunk_hashes or [])
    if seq < len(hashes):
        if hashes[seq] != digest:
            raise ServiceError(_l("Chunk %(seq)s was already received with different content.", seq=seq), 409)
        return {"media_id": media.public_id, "bytes": len(data), "duplicate": True}
    if media.status != AnswerStatus.RECORDING:
        raise ServiceError(_l("This recording is already finished."), 409)
    if seq != len(hashes):
        raise ServiceError(_l("Chunk %(seq)s arrived out of order: chunk %(expected)s is expected next.",
                              seq=seq, expected=len(hashes)), 409)
    if media.received_bytes + len(data) > current_app.config["PROMPT_MAX_BYTES"]:
        interviews.discard_prompt_media([media])
        db.session.commit()
        raise _too_large()
    try:
        # Named by its checksum too, as an answer's chunks are (app.storage.chunk_in).
        current_storage().put_bytes(chunk_in(prompt_key(media.public_id, "chunks/"), seq, digest), data,
                                    "application/octet-stream", digest)
    except StorageError:
        log.exception("chunk upload failed for prompt %s", media.public_id)
        raise ServiceError(_l("The recording could not be saved just now; it will be retried."), 503)
    media.chunk_hashes = [*hashes, digest]
    media.received_bytes += len(data)
    db.session.commit()
    return {"media_id": media.public_id, "bytes": len(data), "duplicate": False}


def _too_large() -> ServiceError:
    mib = current_app.config["PROMPT_MAX_BYTES"] // (1024 * 1024)
    return ServiceError(_l("A question's video may be at most %(mib)s MiB.", mib=mib), 413)


def finalize(user: User, interview: Interview, media_public_id: str, chunks: int, sha256: str) -> PromptMedia:
    """Join the chunks into the original, check it against the browser's checksum, put it in the
    place of the one before (whose objects go), then process it."""
    media = _recording(user, interview, media_public_id)
    sha256 = (sha256 or "").lower()
    if not _SHA_RE.match(sha256):
        raise ServiceError(_l("Finalize needs the recording's SHA-256 checksum."), 400)
    if media.status != AnswerStatus.RECORDING:
        if media.original_sha256 == sha256:
            return media
        raise ServiceError(_l("This recording was already finished with different content."), 409)
    if chunks < 1 or chunks != media.chunk_count:
        raise ServiceError(_l("The server holds %(held)s chunks of this recording, not %(sent)s; the "
                              "missing ones must be sent first.", held=media.chunk_count, sent=chunks), 409)
    _require_changeable(user, media.question)
    store = current_storage()
    hashes, folder = list(media.chunk_hashes or []), prompt_key(media.public_id, "chunks/")
    key = prompt_key(media.public_id, f"original.{TYPES[base_type(media.content_type)][0]}")
    try:
        put = store.put_stream(key, (read_chunk(store, folder, seq, hashes[seq])
                                     for seq in range(chunks)), base_type(media.content_type))
    except StorageError:
        log.exception("joining prompt %s failed", media.public_id)
        raise ServiceError(_l("The recording could not be saved just now; try again."), 503)
    if put.sha256 != sha256:
        store.delete(key)
        raise ServiceError(_l("The recording on the server does not match the one in your browser "
                              "(checksum differs); it must be uploaded again."), 422)
    _take_place(media, put.key, put.size, sha256)
    try:  # the chunks' folder: a copy refused in a race goes too
        store.delete_prefix(folder)
    except StorageError:  # the prompt's folder goes whole when it is replaced or removed
        log.warning("could not delete the chunks of prompt %s", media.public_id, exc_info=True)
    return media


def upload(user: User, interview: Interview, slot: str, file) -> PromptMedia:
    """A video or sound file chosen on the page (a werkzeug FileStorage): refused at once when it
    is not one (415), too large (413), unreadable or too long (422); else stored and processed."""
    question = place(interview, slot)
    if file is None or not file.filename:
        raise ServiceError(_l("Choose a video or sound file to upload."), 400, field="file")
    declared = base_type(file.mimetype)
    if declared not in TYPES:  # a browser that knows no type for it: its name's extension
        declared = base_type(mimetypes.guess_type(file.filename)[0]) or declared
    kind = _require_type(declared)
    authoring.require_author(user)
    limit = current_app.config["PROMPT_MAX_BYTES"]
    with tempfile.TemporaryDirectory(prefix="oneway-prompt-") as tmp:
        path = Path(tmp) / f"upload.{TYPES[kind][0]}"
        digest, size = hashlib.sha256(), 0
        with open(path, "wb") as out:
            while block := file.stream.read(1024 * 1024):
                size += len(block)
                if size > limit:
                    raise _too_large()
                digest.update(block)
                out.write(block)
        if size == 0:
            raise ServiceError(_l("The file is empty."), 422, field="file")
        _check_media(path, TYPES[kind][1])
        _require_changeable(user, question)
        media = PromptMedia(org_id=interview.org_id, interview_id=interview.id,
                            question_id=question.id if question else None, created_by_id=user.id,
                            content_type=kind, chunk_hashes=[])
        db.session.add(media)
        db.session.flush()  # its public id, for the object's key
        try:
            put = current_storage().put_file(prompt_key(media.public_id, f"original.{TYPES[kind][0]}"),
                                             path, kind)
        except StorageError:
            db.session.rollback()
            log.exception("storing an uploaded prompt failed")
            raise ServiceError(_l("The file could not be saved just now; try again."), 503)
    _take_place(media, put.key, put.size, digest.hexdigest())
    return media


def _check_media(path: Path, container: str) -> None:
    """What a candidate's upload goes through first (ffprobe, read only as what it claims to
    be), and the prompt's own limit on length; a refusal is a 422 that says why."""
    from app.media import MediaError
    from app.media.probe import play_length, probe

    try:
        probe(path, container=container)
        seconds = play_length(path, container=container, timeout=current_app.config["FFMPEG_TIMEOUT"])
    except MediaError as exc:
        raise ServiceError(_l("This file cannot be used: %(reason)s", reason=str(exc)), 422, field="file")
    most = current_app.config["PROMPT_MAX_SECONDS"]
    if seconds > most:
        raise ServiceError(_l("This video plays %(seconds)s seconds; a question's video may be at most "
                              "%(most)s seconds.", seconds=round(seconds), most=most), 422, field="file")


def _take_place(media: PromptMedia, key: str, size: int, sha256: str) -> None:
    """The new original is stored: it replaces the place's earlier prompt (rows and objects),
    is committed, then processed."""
    media.original_key, media.original_size, media.original_sha256 = key, size, sha256
    lifecycle.move_prompt_media(media, AnswerStatus.UPLOADED)
    older = db.session.execute(_rows(media.interview, media.question)
                               .filter(PromptMedia.id != media.id)).scalars().all()
    interviews.discard_prompt_media(list(older))
    db.session.commit()
    enqueue_step("convert", media.id)


def remove(user: User, interview: Interview, slot: str) -> bool:
    """Take the place's prompt away (its objects too); False when it had none."""
    question = place(interview, slot)
    _require_changeable(user, question)
    rows = list(db.session.execute(_rows(interview, question)).scalars())
    interviews.discard_prompt_media(rows)
    db.session.commit()
    return bool(rows)


def for_candidate(candidate: Candidate, media_public_id: str) -> PromptMedia | None:
    """A ready prompt of the candidate's own interview: its welcome, or a question they are given
    (not another draw of a pool); None for anything else."""
    media = db.session.execute(db.select(PromptMedia).filter_by(
        public_id=media_public_id, interview_id=candidate.interview_id,
        status=AnswerStatus.READY)).scalar_one_or_none()
    if media is None or (media.question_id is not None
                         and media.question_id not in {q.id for q in candidate.questions}):
        return None
    return media


def for_staff(interview: Interview, media_public_id: str) -> PromptMedia:
    """A prompt of this interview (which the caller found the user may see); 404 for any other."""
    media = db.session.execute(db.select(PromptMedia).filter_by(
        public_id=media_public_id, interview_id=interview.id)).scalar_one_or_none()
    if media is None:
        raise ServiceError("Video not found.", 404)
    return media


# The steps of a prompt's processing, by what it still lacks: each one's job, queue and job id.
STEP_JOBS = {"convert": ("jobs.prompt_media.convert", MEDIA_QUEUE),
             "transcribe": ("jobs.prompt_media.transcribe", ASR_QUEUE)}
# A prompt still not processed this long after its last change is failed (a worker killed on it each
# time): recording or uploading it again is the way on.
GIVE_UP_S = 3600


def _job_id(step: str, media_id: int) -> str:
    return f"prompt-{step}-{media_id}"


def enqueue_step(step: str, media_id: int, again: bool = False) -> None:
    """Queue a prompt's step (after its row is committed); the first joins the back of its queue,
    the next goes to the front, as an answer's stages do (app.services.pipeline)."""
    path, queue = STEP_JOBS[step]
    (requeue if again else enqueue)(path, media_id, queue=queue, job_id=_job_id(step, media_id),
                                    at_front=step != "convert")


def reconcile(min_age_s: int, lease_s: int = 30) -> list[str]:
    """Queue again the step of each prompt that no live job will move on (a worker killed mid-job,
    a lost enqueue), as pipeline.reconcile does for answers; fail one stuck for GIVE_UP_S. Returns
    the public ids it acted on."""
    now = utcnow()
    stuck = db.session.execute(db.select(PromptMedia).filter(
        PromptMedia.status.in_([AnswerStatus.UPLOADED, AnswerStatus.PROCESSING]),
        PromptMedia.updated_at < now - timedelta(seconds=min_age_s))).scalars().all()
    acted = []
    for media in stuck:
        step = "convert" if media.mp4_key is None else "transcribe"
        if job_alive(_job_id(step, media.id), lease_s):
            continue
        acted.append(media.public_id)
        if media.updated_at < now - timedelta(seconds=GIVE_UP_S):
            lifecycle.move_prompt_media(media, AnswerStatus.FAILED, "Processing was interrupted too often; "
                                        "record or upload it again.")
            db.session.commit()
            continue
        enqueue_step(step, media.id, again=True)
        log.warning("prompt %s: %s had no live job; queued again", media.public_id, step)
    return acted


_OBJECT_KEYS = ("original_key", "mp4_key", "audio_key", "poster_key", "captions_key")
_COPIED = ("content_type", "received_bytes", "original_size", "original_sha256", "ready_at", "duration_s",
           "width", "height", "mp4_size", "poster_size", "transcript")


def duplicate(user: User, interview: Interview, template: bool = False,
              title: str | None = None) -> Interview:
    """authoring.duplicate (a copy, a template, or an interview from a template), with the ready
    prompt videos copied too: the welcome and each question's. Nothing is saved unless all of it is."""
    copy = authoring.duplicate(user, interview, template=template, title=title, commit=False)
    db.session.flush()
    try:
        _copy_ready(interview, copy, dict(zip((q.id for q in interview.questions), copy.questions,
                                              strict=True)), user)
    except ServiceError:
        db.session.rollback()
        raise
    db.session.commit()
    return copy


def _copy_ready(source: Interview, target: Interview, questions: dict[int, Question], user: User) -> None:
    """Rows of their own for the source's ready prompt videos, in the target's organisation, their
    objects copied on the server under the new rows' folders. A copy that fails takes back the
    objects it copied."""
    store, copied = current_storage(), []
    try:
        for media in for_interview(source, ready_only=True).values():
            clone = PromptMedia(public_id=new_public_id(), org_id=target.org_id, interview_id=target.id,
                                question_id=questions[media.question_id].id if media.question_id else None,
                                created_by_id=user.id, status=media.status,
                                **{name: getattr(media, name) for name in _COPIED})
            old, new = prompt_prefix(media.public_id), prompt_prefix(clone.public_id)
            for name in _OBJECT_KEYS:
                key = getattr(media, name)
                if key:
                    store.copy(key, new + key.removeprefix(old))
                    copied.append(new + key.removeprefix(old))
                    setattr(clone, name, new + key.removeprefix(old))
            db.session.add(clone)
    except StorageError:
        log.exception("could not copy the prompt videos of interview %s", source.public_id)
        with contextlib.suppress(StorageError):
            store.delete(*copied)
        raise ServiceError(_l("The interview's videos could not be copied just now; try again."),
                           503) from None
