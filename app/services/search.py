"""Transcript search across every current answer of an interview; each hit knows its moment."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from app.extensions import db
from app.media.words import fold, join, word_at
from app.models import Answer, Candidate, Interview, User
from app.services import ServiceError, anonymity
from app.states import AnswerStatus

MAX_HITS = 200


@dataclass
class Hit:
    """One place the words are said: who, which question, when, and the words around."""

    candidate: Candidate
    label: str
    question_number: int
    question_id: str
    start: float
    before: str
    match: str
    after: str


def _latest_ready(interview: Interview, query: str):
    """Each candidate's current take per question, ready, whose transcript may contain the query."""
    latest = (sa.select(Answer.candidate_id.label("cid"), Answer.question_id.label("qid"),
                        sa.func.max(Answer.take).label("take"))
              .join(Candidate, Candidate.id == Answer.candidate_id)
              .where(Candidate.interview_id == interview.id, Answer.status != AnswerStatus.RECORDING)
              .group_by(Answer.candidate_id, Answer.question_id).subquery())
    stmt = (sa.select(Answer, Candidate)
            .join(latest, sa.and_(Answer.candidate_id == latest.c.cid, Answer.question_id == latest.c.qid,
                                  Answer.take == latest.c.take))
            .join(Candidate, Candidate.id == Answer.candidate_id)
            .where(Answer.status == AnswerStatus.READY)
            .order_by(Candidate.created_at, Candidate.id, Answer.question_id))
    if query.isascii():
        # A cheap first pass in SQL (JSON is stored as text, non-ASCII escaped: then skip it).
        pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(sa.cast(Answer.transcript, sa.Text).ilike(pattern, escape="\\"))
    return db.session.execute(stmt).all()


def search(user: User, interview: Interview, query: str) -> list[Hit]:
    """Every place the words are spoken, oldest candidate first, at most MAX_HITS."""
    query = " ".join((query or "").split())
    if len(query) < 2:
        raise ServiceError("Search for at least two characters.")
    if len(query) > 100:
        raise ServiceError("Search for at most 100 characters.")
    positions = {q.id: i + 1 for i, q in enumerate(interview.questions)}
    public = {q.id: q.public_id for q in interview.questions}
    labels = anonymity.labeller(user, interview)
    needle = fold(query)
    hits: list[Hit] = []
    for answer, candidate in _latest_ready(interview, query):
        for seg in (answer.transcript or {}).get("segments", []):
            text = seg.get("text", "")
            at = fold(text).find(needle)
            if at < 0:
                continue
            hits.append(Hit(candidate, labels(candidate), positions[answer.question_id],
                            public[answer.question_id], _moment(seg, at),
                            text[max(0, at - 60):at], text[at:at + len(query)],
                            text[at + len(query):at + len(query) + 60]))
            if len(hits) >= MAX_HITS:
                return hits
    return hits


def _moment(segment: dict, at: int) -> float:
    """The start of the word said at character `at` of the segment's text (the match's first word, in
    any script: a Chinese match may begin inside a run Whisper timed as one word), or of the segment
    when its words are not timed."""
    words = [w for w in segment.get("words", []) if w.get("word", "").strip()]
    if words and join(w["word"] for w in words) == segment.get("text", ""):
        i = word_at([w["word"] for w in words], at)
        if i is not None and "start" in words[i]:
            return float(words[i]["start"])
    # Text not made from its words (an aligner's own): the first word that holds the match's first word.
    first = segment.get("text", "")[at:].split()[:1]
    for word in words:
        if first and first[0].lower() in word["word"].lower() and "start" in word:
            return float(word["start"])
    return float(segment.get("start", 0.0))
