"""Factories with sensible defaults: make_user(role=...), make_interview(questions=3), make_candidate()."""

from __future__ import annotations

import itertools

from app.extensions import db
from app.services import accounts, interviews
from app.services.interviews import QuestionInput

_seq = itertools.count(1)
PASSWORD = "password123"


def make_org(name: str | None = None):
    org = accounts.create_organisation(name or f"Org {next(_seq)}")
    db.session.commit()
    return org


def make_user(org=None, role: str = "owner", email: str | None = None, all_interviews: bool = True):
    """A member. A reviewer sees every interview of the organisation, unless all_interviews=False
    (then only those they are assigned to): most tests want a reviewer who sees the interview under
    test. The app's own default is the narrow one (a reviewer joining by invite, tests/test_team.py)."""
    org = org or make_org()
    n = next(_seq)
    user = accounts.create_user(org, email or f"user{n}@example.com", f"User {n}", PASSWORD, role)
    user.all_interviews = all_interviews and role == "reviewer"
    db.session.commit()
    return user


def make_interview(user=None, questions: int = 2, think: int = 1, answer: int = 30, takes: int = 2,
                   language: str | None = "en"):
    user = user or make_user()
    qs = [QuestionInput(f"Question {i + 1}: tell us something.", think, answer, takes)
          for i in range(questions)]
    return interviews.create_interview(user, f"Interview {next(_seq)}", "Welcome.", language, qs)


def make_candidate(interview=None, user=None, consent: bool = True):
    """A candidate with an invite; returns (candidate, token)."""
    from app.models import Interview, User
    from app.services.recording import give_consent

    interview = interview or make_interview(user)
    user = user or db.session.get(User, interview.created_by_id)
    interview = db.session.get(Interview, interview.id)
    candidate, token = interviews.invite_candidate(user, interview, "Ada Lovelace", "ada@example.com")
    if consent:
        give_consent(candidate)
    return candidate, token


def mark_completed(candidate):
    """The candidate has finished the interview (without the checks and the package of
    app.services.recording.finish)."""
    from app.services import lifecycle
    from app.states import CandidateStatus

    lifecycle.move_candidate(candidate, CandidateStatus.COMPLETED)
    db.session.commit()
    return candidate


def make_ready_answer(candidate, question, **fields):
    """An answer row marked ready without running the pipeline (media keys only if given)."""
    from app.models import Answer
    from app.states import AnswerStatus

    fields.setdefault("transcript", {"text": "", "segments": []})
    fields.setdefault("take", 1)
    answer = Answer(candidate_id=candidate.id, question_id=question.id, status=AnswerStatus.READY,
                    content_type="video/webm", **fields)
    db.session.add(answer)
    db.session.commit()
    return answer


def make_scores(user, candidate, values, submit: str | None = "yes"):
    """This grader's scores on each question in order; submitted with a recommendation unless None."""
    from app.services import grading, scoring

    for q, v in zip(candidate.interview.questions, values, strict=False):
        scoring.save_score(user, candidate, q.public_id, str(v), f"comment {v} by {user.name}")
    if submit:
        grading.submit_review(user, candidate, submit, f"overall by {user.name}")


def make_media_answer(candidate, question, data: bytes = b"\x00fake-mp4" * 64, **fields):
    """A ready answer whose MP4 really is in the bucket (any bytes; real MP4 for browser tests)."""
    from app.models import new_public_id
    from app.storage import current_storage

    public_id = new_public_id()
    key = f"answers/{public_id}/review.mp4"
    current_storage().put_bytes(key, data, "video/mp4")
    fields.setdefault("width", 320)
    fields.setdefault("height", 240)
    fields.setdefault("transcript", {"language": "en", "text": "hello world", "segments": [
        {"start": 0.0, "end": 1.0, "text": "hello world", "words": [
            {"word": "hello", "start": 0.0, "end": 0.5}, {"word": "world", "start": 0.5, "end": 1.0}]}]})
    return make_ready_answer(candidate, question, public_id=public_id, mp4_key=key, mp4_size=len(data),
                             duration_s=fields.pop("duration_s", 1.0), **fields)
