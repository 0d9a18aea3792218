"""Retention and erasure: everything about a candidate goes on the date they were promised
(Candidate.delete_by: invited + the interview's retention_days), at the end of the countdown a
candidate starts on their own data page (app.services.rights), or at once when an owner erases it.

What goes: every stored object in the folder of each of the candidate's answers (original, chunks,
MP4 or M4A, speech WAV, poster, captions, early passes' files) and of their candidate package; then, in
one transaction, every row about them (answers, chunks, stage runs, scores, reviews, decisions,
stats, guest scores, share-link membership and the views logged of them, self-identification and
requests for a new review) and the candidate row
itself, with its name, email, invite token hash, consent and extra-time records. Nothing is kept
but the audit log's events (app.services.audit), which name a candidate by public id only; the same
transaction adds the one saying who deleted them. The pass also deletes audit events past
AUDIT_RETENTION_DAYS.

Objects first, rows second: a purge that stops half-way leaves the rows, so the candidate is still
due and the next purge finishes the job. A job already running when the rows go may still write an
object (it finds its row gone only when it commits); the folders are swept again after the commit,
and by every purge pass for a day after (RESWEEP_KEY), so nothing written late survives. The
workers' local copies go at once too: the purge announces the answers on ERASED_CHANNEL, and every
worker removes its copies (jobs.worker); one that missed it finds them in RESWEEP_KEY.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from redis.exceptions import RedisError
from sqlalchemy.orm.exc import ObjectDeletedError

from app.extensions import db
from app.models import (
    AIEvaluation,
    AISummary,
    Answer,
    AnswerChunk,
    AnswerStageRun,
    Candidate,
    CandidateStats,
    Decision,
    GuestScore,
    Interview,
    OutboxMessage,
    ReReviewRequest,
    Review,
    Role,
    Score,
    SelfIdentification,
    ShareView,
    User,
    share_link_candidates,
)
from app.services import ServiceError, access, audit
from app.storage import StorageError, answer_prefix, candidate_prefix, current_storage

log = logging.getLogger(__name__)

# Folders purged lately (sorted set: folder -> when), swept again by each pass for RESWEEP_SECONDS:
# longer than any job that could still be writing there may run (JOB_TIMEOUT_ASR and retries).
RESWEEP_KEY = "oneway:retention:purged-prefixes"
RESWEEP_SECONDS = 24 * 3600
# Every worker listens here for the public ids of answers just purged, and removes its local
# copies of them (jobs.spool); one that was not listening finds them in RESWEEP_KEY.
ERASED_CHANNEL = "oneway:retention:erased-answers"


@dataclass(frozen=True)
class Purged:
    """What one purge removed, for logs and the operator: ids and counts, never names."""

    candidate: str  # the candidate's public id
    answers: int
    objects: int
    rows: int


@dataclass(frozen=True)
class Holdings:
    """What an erasure deletes, counted for the owner's confirmation page."""

    recordings: int
    written: int
    scores: int
    reviews: int
    decisions: int
    guest_scores: int
    share_links: int


def purge_candidate(candidate: Candidate, erased_by: User | None = None) -> Purged | None:
    """Delete every stored object and every row about this candidate; None if already gone. The
    audit log records it, by the owner who erased it or else by the automatic retention pass.

    Safe to run twice, at once from two processes, and again after a crash half-way."""
    try:
        public_id, cid, org_id = candidate.public_id, candidate.id, candidate.org_id
        asked = candidate.deletion_due_at is not None
    except ObjectDeletedError:  # purged by an earlier call or by another process
        return None
    store = current_storage()
    prefixes = _prefixes(public_id, _answer_public_ids(cid))
    objects = sum(store.delete_prefix(p) for p in prefixes)
    deleted = _delete_rows(cid)
    if deleted is None:
        db.session.rollback()
        return None
    answer_ids, rows = deleted
    if erased_by is not None:
        audit.record("candidate.erased", ("candidate", public_id), actor=erased_by, answers=len(answer_ids))
    else:
        action = "candidate.purged_on_request" if asked else "candidate.purged"
        audit.record(action, ("candidate", public_id), label=audit.RETENTION, org_id=org_id,
                     answers=len(answer_ids))
    db.session.commit()
    # Answers begun between the sweep above and the delete, and whatever a running job wrote.
    prefixes = _prefixes(public_id, answer_ids)
    remember(prefixes)
    tell_workers(answer_ids)
    objects += sum(store.delete_prefix(p) for p in prefixes)
    purged = Purged(public_id, len(answer_ids), objects, rows)
    log.info("retention: purged candidate %s (%d answers, %d objects, %d rows)", public_id,
             purged.answers, purged.objects, purged.rows)
    return purged


def _answer_public_ids(candidate_id: int) -> list[str]:
    return list(db.session.execute(
        sa.select(Answer.public_id).where(Answer.candidate_id == candidate_id)).scalars())


def _prefixes(candidate_public_id: str, answer_public_ids: list[str]) -> list[str]:
    return [answer_prefix(a) for a in answer_public_ids] + [candidate_prefix(candidate_public_id)]


def _delete_rows(candidate_id: int) -> tuple[list[str], int] | None:
    """Delete the candidate's rows in the open transaction; their answers' public ids and the row
    count, or None if the candidate is gone already.

    The candidate's row is written first, so that two purges take turns (a row lock on PostgreSQL,
    the write lock on SQLite) and no answer can be added to it meanwhile."""
    locked = db.session.execute(sa.update(Candidate).where(Candidate.id == candidate_id)
                                .values(status=Candidate.status), execution_options={
                                    "synchronize_session": False})
    if not locked.rowcount:
        return None
    answers = db.session.execute(
        sa.select(Answer.id, Answer.public_id).where(Answer.candidate_id == candidate_id)).all()
    ids = [a.id for a in answers]
    statements = [
        sa.delete(ShareView).where(sa.or_(ShareView.candidate_id == candidate_id,
                                          ShareView.answer_id.in_(ids))),
        sa.delete(AnswerStageRun).where(AnswerStageRun.answer_id.in_(ids)),
        sa.delete(AnswerChunk).where(AnswerChunk.answer_id.in_(ids)),
        sa.delete(AIEvaluation).where(AIEvaluation.candidate_id == candidate_id),
        sa.delete(AISummary).where(AISummary.candidate_id == candidate_id),
        sa.delete(Answer).where(Answer.candidate_id == candidate_id),
        sa.delete(share_link_candidates).where(share_link_candidates.c.candidate_id == candidate_id),
        # Their e-mails (what was sent to them, and staff notifications naming them) go too.
        sa.delete(OutboxMessage).where(OutboxMessage.candidate_id == candidate_id),
    ] + [sa.delete(model).where(model.candidate_id == candidate_id)
         for model in (GuestScore, Score, Review, Decision, CandidateStats, SelfIdentification,
                       ReReviewRequest)] + [
        sa.delete(Candidate).where(Candidate.id == candidate_id),
    ]
    rows = sum(db.session.execute(s, execution_options={"synchronize_session": False}).rowcount
               for s in statements)
    return [a.public_id for a in answers], rows


def remember(prefixes: list[str], strict: bool = False) -> None:
    """Note the purged folders for the sweeps of the next day (a lost note costs only those;
    `strict`: it raises RedisError instead, for a caller that deletes nothing without it)."""
    from app.queue import redis_conn

    try:
        redis_conn().zadd(RESWEEP_KEY, {p: time.time() for p in prefixes})
    except RedisError:
        if strict:
            raise
        log.warning("retention: could not note %d purged folders for a later sweep", len(prefixes),
                    exc_info=True)


def tell_workers(answer_public_ids: list[str]) -> None:
    """Announce purged answers to every worker, so that each removes its spool copies at once."""
    from app.queue import redis_conn

    if not answer_public_ids:
        return
    try:
        redis_conn().publish(ERASED_CHANNEL, json.dumps(answer_public_ids))
    except RedisError:  # the workers' periodic look at RESWEEP_KEY finds them instead
        log.warning("retention: could not tell the workers of %d purged answers", len(answer_public_ids),
                    exc_info=True)


def recently_purged_answers(conn) -> list[str]:
    """The public ids of the answers purged within RESWEEP_SECONDS (from RESWEEP_KEY)."""
    head, tail = answer_prefix("\0").split("\0")  # the answer's folder around its id: "answers/", "/"
    folders = [f.decode() for f in conn.zrangebyscore(RESWEEP_KEY, time.time() - RESWEEP_SECONDS, "+inf")]
    return [f[len(head):len(f) - len(tail)] for f in folders
            if f.startswith(head) and f.endswith(tail) and len(f) > len(head) + len(tail)]


def resweep() -> int:
    """Sweep again the folders purged in the last day; forget older ones. Returns objects removed."""
    from app.queue import redis_conn

    conn = redis_conn()
    since = time.time() - RESWEEP_SECONDS
    conn.zremrangebyscore(RESWEEP_KEY, "-inf", since)
    store = current_storage()
    return sum(store.delete_prefix(p.decode()) for p in conn.zrangebyscore(RESWEEP_KEY, since, "+inf"))


def due_candidates(now: datetime, limit: int | None = None) -> list[Candidate]:
    """The candidates whose deletion date (Candidate.delete_by, or the date their own request for
    deletion falls due) is at or before `now`, oldest first. Each interview's current
    retention_days counts, so lowering it brings the date forward."""
    now = now.astimezone(UTC)
    retentions = db.session.execute(sa.select(Interview.retention_days).distinct()).scalars().all()
    if not retentions:
        return []
    due = sa.or_(Candidate.deletion_due_at <= now,
                 *(sa.and_(Interview.retention_days == days,
                           Candidate.created_at <= now - timedelta(days=days)) for days in retentions))
    query = (sa.select(Candidate).join(Interview, Interview.id == Candidate.interview_id)
             .where(due).order_by(Candidate.created_at, Candidate.id).limit(limit))
    return list(db.session.execute(query).scalars())


def purge_expired(now: datetime, limit: int | None = None) -> list[Purged]:
    """Purge every candidate whose deletion date has passed at `now` (at most `limit`). A candidate
    the object store fails on is left for the next pass; the others go on. Audit events past
    AUDIT_RETENTION_DAYS go too."""
    audit.expire(now)
    try:
        resweep()
    except (RedisError, StorageError):  # the sweep of late objects waits; the purge goes on
        log.warning("retention: could not sweep lately purged folders again", exc_info=True)
    done = []
    for candidate, public_id in [(c, c.public_id) for c in due_candidates(now, limit)]:
        try:
            purged = purge_candidate(candidate)
        except StorageError:
            db.session.rollback()
            log.warning("retention: could not purge candidate %s now; the next pass tries again",
                        public_id, exc_info=True)
            continue
        if purged is not None:
            done.append(purged)
    if done:
        log.info("retention: purged %d candidate(s) past their deletion date: %s", len(done),
                 ", ".join(p.candidate for p in done))
    return done


# Erasure on request, by an owner of the candidate's organisation.

def erasable(user: User, public_id: str) -> Candidate:
    """A candidate this owner may erase: another organisation's (or an unseen one) is 404, and
    anyone but an owner is refused (403)."""
    candidate = access.get_candidate(user, public_id)
    if user.role != Role.OWNER:
        raise ServiceError("Only owners may delete a candidate's data.", 403)
    return candidate


def holdings(candidate: Candidate) -> Holdings:
    """Count what an erasure of this candidate deletes."""

    def count(model, *where) -> int:
        return db.session.execute(sa.select(sa.func.count()).select_from(model).where(*where)).scalar_one()

    mine = Answer.candidate_id == candidate.id
    return Holdings(
        recordings=count(Answer, mine, ~Answer.content_type.startswith("text/plain")),
        written=count(Answer, mine, Answer.content_type.startswith("text/plain")),
        scores=count(Score, Score.candidate_id == candidate.id),
        reviews=count(Review, Review.candidate_id == candidate.id),
        decisions=count(Decision, Decision.candidate_id == candidate.id),
        guest_scores=count(GuestScore, GuestScore.candidate_id == candidate.id),
        share_links=count(share_link_candidates, share_link_candidates.c.candidate_id == candidate.id),
    )


def erase(user: User, public_id: str, confirmed: bool) -> Purged:
    """Delete everything about one candidate now, on their request; the owner must have confirmed."""
    candidate = erasable(user, public_id)
    if not confirmed:
        raise ServiceError("Tick the box to confirm that everything about this candidate is to be "
                           "deleted for good.", 400)
    try:
        purged = purge_candidate(candidate, erased_by=user)
    except StorageError:
        db.session.rollback()
        log.warning("retention: erasure of candidate %s failed in the object store", public_id,
                    exc_info=True)
        raise ServiceError("The candidate's data could not be deleted completely just now: the file "
                           "store did not answer. Try again in a few minutes.", 503)
    if purged is None:
        raise ServiceError("Candidate not found.", 404)
    log.info("retention: candidate %s erased on request by user %s", public_id, user.public_id)
    return purged
