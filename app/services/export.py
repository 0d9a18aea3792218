"""A candidate's ZIP export (media, captions, transcripts, scores), streamed as it is built."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable, Iterator

from app.extensions import db
from app.models import Candidate, User
from app.services import ServiceError, access, ai_export, audit, grading
from app.services.package import build_manifest
from app.services.takes import current_answers
from app.states import AnswerStatus
from app.storage import current_storage


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


# One file of a ZIP: its name, its bytes in pieces, and whether to compress it.
Entry = tuple[str, Iterable[bytes], bool]


def stream_zip(entries: Iterable[Entry]) -> Iterator[bytes]:
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


def start_candidate_export(user: User, public_id: str) -> tuple[Candidate, bool, frozenset[int]]:
    """The candidate whose ZIP this user may download, whether the scores go in, and the questions
    whose AI evaluations go in (the blind rule holds here too); the download is recorded in the
    audit log before it starts."""
    candidate = access.get_candidate(user, public_id)
    if not user.can_author:  # names and media whole: not for (possibly anonymised) reviewers
        raise ServiceError("Only owners and recruiters may download a candidate's whole review.", 403)
    scores = grading.my_review(user, candidate) is not None
    ai_seen = ai_export.visible_questions(user, candidate, scores)
    audit.record("candidate.exported", candidate, actor=user, scores=scores)
    db.session.commit()
    return candidate, scores, ai_seen


def text_entry(s: str) -> list[bytes]:
    """A text file's bytes, for an Entry."""
    return [s.encode()]



def candidate_entries(candidate_id: int, include_scores: bool = True,
                      ai_questions: frozenset[int] = frozenset()) -> Iterator[Entry]:
    """What goes into a candidate's export, in order; media streams straight from storage.

    Takes the candidate's id, not the row: the server sends this after the view has returned,
    when the view's database session is gone, so every row is read here, in the stream's own.
    The scores are the page's, under the same blind rule: submitted reviews only (a draft is
    nobody's opinion yet) and guests' scores, and only for a viewer who has submitted or chosen
    to see them (`include_scores`); otherwise the scores file says why. The AI's evaluations go in
    for `ai_questions` only, its overall and summary with the scores (app.services.ai_export)."""
    candidate = db.session.get(Candidate, candidate_id)
    if candidate is None:  # erased between the view and the stream: nothing left to send
        return
    store = current_storage()
    answers = current_answers(candidate)
    yield "manifest.json", text_entry(json.dumps(build_manifest(candidate, answers), indent=2)), True
    if include_scores:
        yield "scores.csv", text_entry(_scores_csv(candidate)), True
    else:
        yield "scores.txt", text_entry("Other graders' scores stay hidden until you submit your own "
                                  "review of this candidate, or choose to see them without grading.\n"), True
    ai = ai_export.document(candidate, ai_questions, include_scores)
    if ai is not None:
        yield "ai-evaluations.json", text_entry(ai), True
    for q in candidate.questions:
        yield from _question_entries(store, q, answers.get(q.id))


def _scores_csv(candidate: Candidate) -> str:
    """Each submitted grader's and each guest's score and comment per question, with the
    grader's overall recommendation, as the candidate's page shows them."""
    summary = grading.summary(candidate)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["question", "grader", "grader_kind", "score", "comment", "recommendation"])
    for number, q in enumerate(candidate.questions, 1):
        for g in summary.graders + summary.guests:
            if q.id in g.values:
                writer.writerow([number, grading.spreadsheet_text(g.name), g.kind, f"{g.values[q.id]:.3g}",
                                 grading.spreadsheet_text(g.comments.get(q.id, "")),
                                 g.recommendation or ""])
    return out.getvalue()


def _question_entries(store, q, a) -> Iterator[Entry]:
    """One question's folder: its prompt, and the answer's media, captions and transcripts."""
    folder = f"question-{q.position + 1:02d}"
    yield f"{folder}/question.txt", text_entry(q.prompt + "\n"), True
    if a is None or a.status != AnswerStatus.READY:
        return
    if a.written_text is not None:
        yield f"{folder}/answer.txt", text_entry(a.written_text + "\n"), True
        return
    # Only what exists: a ZIP already streaming cannot turn into an error page any more.
    if a.mp4_key:
        ext = "mp4" if a.width else "m4a"
        yield f"{folder}/answer.{ext}", store.iter_range(a.mp4_key, 0, a.mp4_size), False
    if a.captions_key:
        yield f"{folder}/captions.vtt", store.iter_object(a.captions_key), True
    t = a.transcript or {}
    yield f"{folder}/transcript.txt", text_entry(t.get("text", "") + "\n"), True
    yield f"{folder}/transcript.json", text_entry(json.dumps(t, indent=2)), True
