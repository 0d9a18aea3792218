"""A candidate's ZIP export (media, captions, transcripts, scores), streamed as it is built."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable, Iterator

from app import states
from app.extensions import db
from app.models import Candidate, Score, User
from app.services import ServiceError, audit, grading, review, storage
from app.services.package import build_manifest
from app.services.recording import current_answers


class _Sink(io.RawIOBase):
    """A write-only, non-seekable stream: zipfile then writes data descriptors, and every byte
    written is handed on at once instead of piling up."""

    def __init__(self):
        self._parts: list[bytes] = []
        self._pos = 0

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        self._parts.append(bytes(b))
        self._pos += len(b)
        return len(b)

    def tell(self) -> int:
        return self._pos

    def take(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


def stream_zip(entries: Iterable[tuple[str, Iterable[bytes], bool]]) -> Iterator[bytes]:
    """Yield a ZIP file piece by piece from (name, byte chunks, compress) entries."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w") as zf:
        for name, chunks, compress in entries:
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
            with zf.open(info, "w", force_zip64=True) as member:
                for chunk in chunks:
                    member.write(chunk)
                    if piece := sink.take():
                        yield piece
            if piece := sink.take():
                yield piece
    yield sink.take()


def start_candidate_export(user: User, public_id: str) -> tuple[Candidate, bool]:
    """The candidate whose whole review this user may download, and whether the scores go in (the
    blind rule holds here too); the download is recorded in the audit log before it starts."""
    candidate = review.get_candidate(user, public_id)
    if not user.can_author:  # names and media whole: not for (possibly anonymised) reviewers
        raise ServiceError("Only owners and recruiters may download a candidate's whole review.", 403)
    scores = grading.my_review(user, candidate) is not None
    audit.record("candidate.exported", candidate, actor=user, scores=scores)
    db.session.commit()
    return candidate, scores


def _text(s: str) -> list[bytes]:
    return [s.encode()]


def candidate_entries(candidate: Candidate, include_scores: bool = True
                      ) -> Iterator[tuple[str, Iterable[bytes], bool]]:
    """What goes into a candidate's export, in order; media streams straight from storage.
    Without `include_scores` (a grader who has not submitted yet) the scores file says why."""
    store = storage()
    answers = current_answers(candidate)
    yield "manifest.json", _text(json.dumps(build_manifest(candidate, answers), indent=2)), True
    scores = db.session.execute(
        db.select(Score).filter_by(candidate_id=candidate.id).order_by(Score.question_id)
    ).scalars().all() if include_scores else []
    positions = {q.id: q.position + 1 for q in candidate.interview.questions}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["question", "grader", "score", "comment", "updated_at"])
    for s in scores:
        writer.writerow([positions.get(s.question_id), s.user.name, s.value, s.comment,
                         s.updated_at.isoformat()])
    if include_scores:
        yield "scores.csv", _text(out.getvalue()), True
    else:
        yield "scores.txt", _text("Other graders' scores stay hidden until you submit your own "
                                  "review of this candidate, or choose to see them without grading.\n"), True
    for q in candidate.interview.questions:
        a = answers.get(q.id)
        folder = f"question-{q.position + 1:02d}"
        yield f"{folder}/question.txt", _text(q.prompt + "\n"), True
        if a is None or a.status != states.READY:
            continue
        if a.written_text is not None:
            yield f"{folder}/answer.txt", _text(a.written_text + "\n"), True
            continue
        # Only what exists: a ZIP already streaming cannot turn into an error page any more.
        if a.mp4_key:
            ext = "mp4" if a.width else "m4a"
            yield f"{folder}/answer.{ext}", store.iter_range(a.mp4_key, 0, a.mp4_size), False
        if a.captions_key:
            yield f"{folder}/captions.vtt", store.iter_object(a.captions_key), True
        t = a.transcript or {}
        yield f"{folder}/transcript.txt", _text(t.get("text", "") + "\n"), True
        yield f"{folder}/transcript.json", _text(json.dumps(t, indent=2)), True
