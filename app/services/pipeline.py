"""An answer's processing: its stages, enqueued after each commit, and the moves they make (through
app.services.lifecycle)."""

from __future__ import annotations

import logging

from flask import current_app

from app.extensions import db
from app.models import Answer, AnswerStageRun, Candidate, QuestionKind, utcnow
from app.queue import ASR_QUEUE, MEDIA_QUEUE, enqueue, redis_conn
from app.services import ai_evaluation, lifecycle, takes
from app.services.backlog import WAITING
from app.states import ANSWER, AnswerStatus, CandidateStatus

log = logging.getLogger(__name__)

FIRST_STAGE = "join"
# The outputs an answer needs before graders can review it.
OUTPUTS = ("mp4_key", "poster_key", "captions_key")
# Each stage's job, by import path, and its queue; job ids are "<stage>-<answer id>".
STAGE_JOBS = {
    "join": ("jobs.join.run", MEDIA_QUEUE),
    "transcode": ("jobs.transcode.run", MEDIA_QUEUE),
    "thumbnail": ("jobs.thumbnail.run", MEDIA_QUEUE),
    "transcribe": ("jobs.transcribe.run", ASR_QUEUE),
}


def enqueue_stage(stage: str, answer_id: int, again: bool = False) -> None:
    from app.queue import requeue

    path, queue = STAGE_JOBS[stage]
    if not again and _waiting_or_running(f"{stage}-{answer_id}"):
        return  # a stage run twice (a join run again, say) queues its next stage once
    # Answers finish in the order they were completed: an answer's first stage joins the back of
    # the queue (at the front, the newest finalize would pass every older one, and under a backlog
    # the oldest answers would wait for ever); its later stages, and a retry, go to the front, so
    # one answer's stages run back to back and the answers already begun finish first.
    (requeue if again else enqueue)(path, answer_id, queue=queue, job_id=f"{stage}-{answer_id}",
                                    at_front=again or stage != FIRST_STAGE)


def _waiting_or_running(job_id: str) -> bool:
    """Whether this job is queued or running now: queued again, RQ would list it twice."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job, JobStatus

    try:
        status = Job.fetch(job_id, connection=redis_conn()).get_status()
    except NoSuchJobError:
        return False
    return status in (JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED, JobStatus.STARTED)


def start_early(answer: Answer) -> None:
    """Transcribe what has arrived of an answer still being recorded (see jobs/early.py), when
    a pass can settle something: a window closes only when speech runs on WINDOW_S past its
    start, so none can before the recording has run WINDOW_S past the last settled window."""
    from app.media import WINDOW_S

    if not settles_windows(current_app.config) or _pass_due("early", answer, WINDOW_S):
        _start_pass("jobs.early.run", ASR_QUEUE, "early", answer, "transcription")


def settles_windows(cfg) -> bool:
    """Whether early passes settle whole voice-activity windows (jobs/early.py): batched
    decoding, with a VAD model that reads forwards only (Silero; app/media/batched.settled_windows).
    Otherwise (sequential decoding, pyannote) they cut at pauses."""
    return cfg["WHISPER_DECODING"] == "batched" and cfg["WHISPER_VAD"] == "silero"


_NEXT_PASS_AFTER = "oneway:early-after:"
NO_MORE_PASSES = 1 << 30  # a chunk count no recording reaches


def next_pass_after(prefix: str, answer_id: int, chunks: float) -> None:
    """Record that no early pass of this kind ("early", "early-video") over this answer can do
    anything before it has more than `chunks` chunks (NO_MORE_PASSES: never again). The passes
    set it, from where their work ends; read by _pass_due when chunks arrive."""
    from redis.exceptions import RedisError

    try:
        redis_conn().set(f"{_NEXT_PASS_AFTER}{prefix}:{answer_id}", chunks, ex=3600)
    except RedisError:  # only saves no-op passes: they find out for themselves
        log.warning("could not record where answer %s's next %s pass can start", answer_id, prefix)


def _pass_due(prefix: str, answer: Answer, first_after: float) -> bool:
    """Whether a pass of this kind up to the latest chunk can do anything: the answer has more
    chunks than its last pass recorded (next_pass_after), or than `first_after` before any pass.
    A chunk holds at least a second of the recording (the recorder sends a piece a second; more
    while its uploads are slow), so a pass this lets through has the seconds it needs; one held
    back by chunks that hold more comes with a later chunk."""
    from redis.exceptions import RedisError

    try:
        after = redis_conn().get(f"{_NEXT_PASS_AFTER}{prefix}:{answer.id}")
    except RedisError:
        return True
    return answer.chunk_count > (float(after) if after is not None else first_after)


def start_early_video(answer: Answer) -> None:
    """Encode what has arrived of a recording whose video must be re-encoded (see
    jobs/early_video.py), once a part of EARLY_VIDEO_MIN_PART_SECONDS can be cut off: the
    margin a pass leaves at the end of what has arrived is left out too."""
    from app.media import PART_MARGIN_S

    if _pass_due("early-video", answer, current_app.config["EARLY_VIDEO_MIN_PART_SECONDS"] + PART_MARGIN_S):
        _start_pass("jobs.early_video.run", MEDIA_QUEUE, "early-video", answer, "video encoding")


def _start_pass(path: str, queue: str, prefix: str, answer: Answer, what: str) -> None:
    """Queue a pass over the chunks so far, unless it would only add to a backlog: an early pass
    saves time on an idle machine, and under load it is work the final stage does anyway. So none
    is queued while more than EARLY_PASSES_MAX_WAITING jobs wait for processing, and an answer has at
    most one pass of a kind waiting: a newer one takes the place of one not started yet. Only an
    optimisation: a failure to enqueue it must never fail the chunk's upload."""
    from redis.exceptions import RedisError

    seq = answer.chunk_count - 1
    last = _LAST_PASS + f"{prefix}-{answer.id}"
    try:
        if busy():
            log.info("early %s of answer %s skipped: its queue is busy", what, answer.public_id)
            return
        _drop_if_waiting(redis_conn().get(last))
        job = enqueue(path, answer.id, seq, queue=queue, job_id=f"{prefix}-{answer.id}-{seq}", retries=0)
        redis_conn().set(last, job.id, ex=3600)
    except RedisError:
        log.warning("could not queue early %s of answer %s", what, answer.public_id)


_LAST_PASS = "oneway:early-pass:"


def busy() -> bool:
    """Whether more jobs wait in the media and transcription queues together than
    EARLY_PASSES_MAX_WAITING: a backlog in either is work the CPU owes finished answers (one worker
    serves both in make run), so an early transcription pass must not jump a waiting transcode."""
    from rq import Queue

    waiting = sum(Queue(q, connection=redis_conn()).count for q in (MEDIA_QUEUE, ASR_QUEUE))
    return waiting > current_app.config["EARLY_PASSES_MAX_WAITING"]


def encode_preset(answer: Answer) -> str:
    """The x264 preset for encoding this answer's whole recording now: X264_PRESET, or, while more
    than X264_BACKLOG_AFTER other answers wait for processing, X264_BACKLOG_PRESET. Under a
    backlog each answer's encode is most of the wait of every answer behind it, and the cheaper
    preset spends less than half the CPU for a larger file of the same picture. The waiting are
    counted from the answers' statuses (app.services.backlog), any organisation's: they share
    the workers."""
    cfg = current_app.config
    cheap = cfg["X264_BACKLOG_PRESET"]
    if not cheap or cheap == cfg["X264_PRESET"]:
        return cfg["X264_PRESET"]
    others = db.session.execute(
        db.select(db.func.count()).select_from(Answer)
        .where(Answer.status.in_(WAITING), Answer.id != answer.id)).scalar_one()
    return cheap if others > cfg["X264_BACKLOG_AFTER"] else cfg["X264_PRESET"]


def _drop_if_waiting(job_id: bytes | None) -> None:
    """Take an answer's earlier pass out of its queue if it has not started (the newer pass covers
    every chunk it would have)."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job, JobStatus

    if not job_id:
        return
    try:
        job = Job.fetch(job_id.decode(), connection=redis_conn())
    except NoSuchJobError:
        return
    if job.get_status() == JobStatus.QUEUED:
        job.delete()


def may_need_reencode(content_type: str) -> bool:
    """Whether the browser's recording may hold video other than H.264 (which is kept as it
    is): it says WebM without naming H.264 (Firefox: VP8). Safari's MP4 is H.264."""
    kind = (content_type or "").lower()
    return kind.startswith("video/webm") and "h264" not in kind and "avc1" not in kind


def steps(answer: Answer) -> list[dict]:
    """What processing has done for an answer and what is left, for the grader's page: read
    from the outputs themselves, so it is right whichever worker did what."""
    picture = answer.question.kind == QuestionKind.VIDEO and not (answer.mp4_key and answer.width is None)
    out = [{"name": "Checked and converted", "done": answer.mp4_key is not None}]
    if picture:
        out.append({"name": "Poster and picture checks", "done": answer.poster_key is not None})
    out.append({"name": "Transcript and captions", "done": answer.captions_key is not None})
    return out


def start(answer: Answer) -> None:
    """Enqueue the first stage, which joins the chunks (jobs/join.py); call after the answer's
    finalize is committed."""
    enqueue_stage(FIRST_STAGE, answer.id)


def after_join(answer: Answer) -> None:
    """The original is whole and checked: convert it next."""
    enqueue_stage("transcode", answer.id)


def after_transcode(answer: Answer) -> None:
    """Poster and transcript need only the transcode's outputs, so they run side by side."""
    if answer.width is not None:
        enqueue_stage("thumbnail", answer.id)
    enqueue_stage("transcribe", answer.id)


def fail(answer_id: int, reason: str) -> None:
    """Record a failure a person can read; a no-op if the answer is gone or already settled."""
    fail_media(Answer, answer_id, reason, lifecycle.move_answer)


def fail_media(model, row_id: int, reason: str, move) -> None:
    """fail() for any row on the answer's lifecycle (an answer, a prompt video): `move` records it."""
    db.session.rollback()
    row = db.session.get(model, row_id)
    if row is None or not ANSWER.can_move(row.status, AnswerStatus.FAILED):
        return
    move(row, AnswerStatus.FAILED, reason[:2000])
    db.session.commit()
    log.warning("%s %s failed: %s", model.__name__, row.public_id, reason)


def record_stage(answer: Answer | int, name: str, seconds: float) -> None:
    """Add one run's timing for an answer (or an answer's id: nothing is loaded); the caller
    commits it, with the stage's outputs. An INSERT, never a read-modify-write, so stages that
    finish together on different workers cannot lose each other's timings."""
    answer_id = answer.id if isinstance(answer, Answer) else answer
    db.session.add(AnswerStageRun(answer_id=answer_id, stage=name, seconds=round(seconds, 3)))


def maybe_ready(answer_id: int) -> bool:
    """Mark the answer ready once every output exists; exactly one caller wins the move."""
    db.session.expire_all()
    answer = db.session.get(Answer, answer_id)
    if answer is None or answer.status != AnswerStatus.PROCESSING:
        return False
    needed = [f for f in OUTPUTS if f != "poster_key" or answer.width is not None]
    if any(getattr(answer, f) is None for f in needed) or answer.transcript is None:
        return False
    # Of two stages finishing together, exactly one wins the move and enqueues the package.
    won = lifecycle.move_answer_where(answer_id, AnswerStatus.PROCESSING, AnswerStatus.READY)
    db.session.commit()
    if won:
        maybe_build_package(answer.candidate_id)
        ai_evaluation.after_ready(answer_id)
    return bool(won)


def maybe_build_package(candidate_id: int) -> None:
    """Enqueue the candidate package when the candidate is done and every kept answer is ready."""
    candidate = db.session.get(Candidate, candidate_id)
    if candidate is None or candidate.status != CandidateStatus.COMPLETED:
        return
    answers = takes.current_answers(candidate)
    if _all_ready(answers):
        enqueue("jobs.package.run", candidate.id, queue=MEDIA_QUEUE, job_id=_package_job(candidate, answers))


def _all_ready(answers: dict[int, Answer]) -> bool:
    return bool(answers) and all(a.status == AnswerStatus.READY for a in answers.values())


def _package_job(candidate: Candidate, answers: dict[int, Answer]) -> str:
    """One package job for one set of kept answers."""
    return f"package-{candidate.id}-{max(a.id for a in answers.values())}"


def reconcile_packages(min_age_s: int, lease_s: int = 30, within_days: int = 14) -> list[str]:
    """Queue the package of completed candidates whose kept answers are all ready but who have
    none, when no live job will build it: its enqueue was lost (Redis away at the finish, or when
    the last answer became ready). Only candidates who completed within `within_days` are looked
    at, so one whose answer failed for good is not read again on every pass for ever. Returns
    their public ids."""
    from datetime import timedelta

    from app.queue import job_alive

    now = utcnow()
    cutoff = now - timedelta(seconds=min_age_s)
    candidates = db.session.execute(db.select(Candidate).where(
        Candidate.status == CandidateStatus.COMPLETED, Candidate.package_key.is_(None),
        Candidate.completed_at >= now - timedelta(days=within_days), Candidate.updated_at < cutoff,
    )).scalars().all()
    acted = []
    for candidate in candidates:
        answers = takes.current_answers(candidate)
        # The last answer's own enqueue may be on its way for min_age_s after it became ready.
        if not _all_ready(answers) or any(a.ready_at and a.ready_at >= cutoff for a in answers.values()):
            continue
        job_id = _package_job(candidate, answers)
        if job_alive(job_id, lease_s):
            continue
        enqueue("jobs.package.run", candidate.id, queue=MEDIA_QUEUE, job_id=job_id)
        acted.append(candidate.public_id)
    return acted


def retry(answer: Answer) -> None:
    """Send a failed (or ready) answer through the pipeline again."""
    if answer.original_key is None and not (answer.chunk_count and answer.original_sha256):
        raise ValueError("this answer was never uploaded whole; the candidate must record it again")
    lifecycle.move_answer(answer, AnswerStatus.UPLOADED)
    answer.recoveries = 0
    answer.mp4_key = answer.poster_key = answer.captions_key = answer.audio_key = None
    answer.transcript = None
    db.session.commit()
    start(answer)


def lacks_sound_only() -> db.ColumnElement[bool]:
    """Ready video answers with no speech WAV: audio-only review has no file to play for them,
    since their MP4 holds the picture. The transcode stage keeps a WAV of every answer with sound
    now; `flask backfill-audio` (jobs/speech.py) makes the missing ones of older answers."""
    return db.and_(Answer.status == AnswerStatus.READY, Answer.mp4_key.is_not(None),
                   Answer.width.is_not(None), Answer.audio_key.is_(None))


def pending_stages(answer: Answer) -> list[str]:
    """The stages whose outputs this answer still lacks."""
    if answer.status not in (AnswerStatus.UPLOADED, AnswerStatus.PROCESSING):
        return []
    # An uploaded answer waits for its first stage, which also removes any chunks left behind.
    if answer.status == AnswerStatus.UPLOADED or answer.original_key is None:
        return [FIRST_STAGE]
    if answer.mp4_key is None:
        return ["transcode"]
    stages = []
    if answer.width is not None and answer.poster_key is None:
        stages.append("thumbnail")
    if answer.transcript is None or answer.captions_key is None:
        stages.append("transcribe")
    return stages


def reconcile(min_age_s: int, max_recoveries: int, lease_s: int = 30) -> list[str]:
    """Find answers that no live job will move on (a worker killed mid-job, a lost enqueue)
    and queue their missing stages again. Returns the public ids it acted on."""
    from datetime import timedelta

    from app.queue import job_alive

    cutoff = utcnow() - timedelta(seconds=min_age_s)
    answers = db.session.execute(
        db.select(Answer).filter(Answer.status.in_([AnswerStatus.UPLOADED, AnswerStatus.PROCESSING]),
                                 Answer.updated_at < cutoff)
    ).scalars().all()
    acted = []
    for answer in answers:
        stages = pending_stages(answer)
        if not stages:
            if maybe_ready(answer.id):
                acted.append(answer.public_id)
            continue
        dead = [s for s in stages if not job_alive(f"{s}-{answer.id}", lease_s)]
        if not dead:
            continue
        # A stage may have committed its outputs while we looked at its job: look again.
        db.session.refresh(answer)
        dead = [s for s in dead if s in pending_stages(answer)]
        if not dead:
            continue
        acted.append(answer.public_id)
        if answer.recoveries >= max_recoveries:
            fail(answer.id, f"Processing was interrupted {answer.recoveries} times "
                            f"(last during {dead[0]}). It can be retried.")
            continue
        for stage in dead:
            enqueue_stage(stage, answer.id, again=True)
        answer.recoveries += 1
        db.session.commit()
        log.warning("answer %s: %s had no live job; queued again", answer.public_id, ", ".join(dead))
    return acted
