"""A candidate's own download: everything Oneway holds about them, as a ZIP streamed as it is built
(app.services.export.stream_zip): their data page as a document, their details and requests as
JSON, every take's recording as received, the prepared media, captions and transcripts, their
voluntary self-identification, and their scores (graders unnamed) and decision where the
organisation shares them. No AI evaluation exists (issue 18 adds its file here, in
`_evaluation_entries`)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator

from flask_babel import gettext as _

from app.extensions import db
from app.models import Candidate
from app.services import grading, rights, selfid
from app.services.export import Entry, text_entry
from app.services.takes import current_answers
from app.states import AnswerStatus
from app.storage import current_storage

_EXT = {"video/webm": "webm", "video/mp4": "mp4", "audio/webm": "weba", "audio/mp4": "m4a",
        "audio/ogg": "ogg"}


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


def details(candidate: Candidate) -> dict:
    """The candidate's rows in plain JSON (no other person's name)."""
    decision = rights.notice_of_decision(candidate)
    return {
        "name": candidate.name, "email": candidate.email, "invited_at": _iso(candidate.created_at),
        "interview": candidate.interview.title, "organisation": candidate.interview.organisation.name,
        "status": candidate.status, "consent_at": _iso(candidate.consent_at),
        "consent_notice_version": candidate.consent_notice_version,
        "consent_locale": candidate.consent_locale,
        "started_at": _iso(candidate.started_at), "completed_at": _iso(candidate.completed_at),
        "link_expires_at": _iso(candidate.expires_at), "delete_by": _iso(candidate.delete_by),
        "language": candidate.locale, "time_zone": candidate.time_zone,
        "extra_time": {"status": candidate.accommodation_status, "asked": candidate.accommodation_requested,
                       "multiplier": candidate.time_multiplier, "note": candidate.accommodation_note},
        "withdrawn_at": _iso(candidate.withdrawn_at),
        "deletion": {"requested_at": _iso(candidate.deletion_requested_at),
                     "due_at": _iso(candidate.deletion_due_at)},
        "self_identification": dict(selfid.own_labels(candidate)),
        "message_from_the_company": decision.candidate_message if decision else None,
    }


def entries(candidate_id: int, data_page: str) -> Iterator[Entry]:
    """The ZIP's files in order. Takes the candidate's id: it runs after the view returned."""
    candidate = db.session.get(Candidate, candidate_id)
    if candidate is None:  # erased meanwhile
        return
    yield "README.txt", text_entry(_("Everything we hold about you for this application. your-data.html is "
                                     "your data page; your-details.json holds the same details for a "
                                     "computer; each question's folder holds your recordings as we "
                                     "received them, the versions prepared for viewing, and the "
                                     "transcripts. No automated or AI evaluation is made of your "
                                     "answers.") + "\n"), True
    yield "your-data.html", text_entry(data_page), True
    yield "your-details.json", text_entry(json.dumps(details(candidate), indent=2, ensure_ascii=False)), True
    if candidate.interview.organisation.share_outcome:
        yield from _outcome_entries(candidate)
    yield from _evaluation_entries(candidate)
    store = current_storage()
    kept = current_answers(candidate)
    for number, q in enumerate(candidate.questions, 1):
        folder = f"question-{number:02d}"
        yield f"{folder}/question.txt", text_entry(q.prompt + "\n"), True
        for a in sorted((a for a in candidate.answers if a.question_id == q.id), key=lambda a: a.take):
            yield from _take_entries(store, folder, a)
        yield from _prepared_entries(store, folder, kept.get(q.id))


def _take_entries(store, folder: str, a) -> Iterator[Entry]:
    """A take as it arrived (only takes received whole have one file)."""
    if a.written_text is not None:
        yield f"{folder}/take-{a.take}-written.txt", text_entry(a.written_text + "\n"), True
    elif a.original_key and a.original_size and store.exists(a.original_key):
        ext = _EXT.get(a.content_type.split(";")[0].strip(), "bin")
        parts = store.iter_range(a.original_key, 0, a.original_size)
        yield f"{folder}/take-{a.take}-as-received.{ext}", parts, False


def _prepared_entries(store, folder: str, a) -> Iterator[Entry]:
    if a is None or a.status != AnswerStatus.READY or a.written_text is not None:
        return
    if a.mp4_key and a.mp4_size:
        parts = store.iter_range(a.mp4_key, 0, a.mp4_size)
        yield f"{folder}/answer.{'mp4' if a.width else 'm4a'}", parts, False
    if a.captions_key and store.exists(a.captions_key):
        yield f"{folder}/captions.vtt", store.iter_object(a.captions_key), True
    t = a.transcript or {}
    yield f"{folder}/transcript.txt", text_entry(t.get("text", "") + "\n"), True
    yield f"{folder}/transcript.json", text_entry(json.dumps(t, indent=2, ensure_ascii=False)), True


def _outcome_entries(candidate: Candidate) -> Iterator[Entry]:
    """Scores by question with graders as "Grader 1, 2…" (not their comments, written for the
    team), and the current decision; never the team's note on it."""
    summary = grading.summary(candidate)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["question", "grader", "score"])
    for number, q in enumerate(candidate.questions, 1):
        for n, g in enumerate(summary.graders + summary.guests, 1):
            if q.id in g.values:
                writer.writerow([number, f"Grader {n}", f"{g.values[q.id]:.3g}"])
    yield "outcome/scores.csv", text_entry(out.getvalue()), True
    d = rights.latest_decision(candidate)
    decision = {"decision": d.value if d else None, "at": _iso(d.created_at) if d else None,
                "message": d.candidate_message if d else None}
    yield "outcome/decision.json", text_entry(json.dumps(decision, indent=2, ensure_ascii=False)), True


def _evaluation_entries(candidate: Candidate) -> Iterable[Entry]:
    """AI evaluations of the answers: none are made yet (issue 18 yields its files here)."""
    return ()
