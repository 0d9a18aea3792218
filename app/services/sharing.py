"""Share links for joint evaluation: one candidate or a shortlist, for people without an account.

A link's token (256 random bits) is shown once and stored only as its SHA-256. Every request
through a link, media included, looks the link up again, so revocation and expiry take effect
at once. A link reaches only its own candidates, their questions and their ready answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import (
    Answer,
    Candidate,
    GuestScore,
    Interview,
    ShareGuest,
    ShareLink,
    SharePermission,
    ShareView,
    User,
    share_link_candidates,
    utcnow,
)
from app.security import hash_token, new_token
from app.services import ServiceError, audit, by_token, ratelimit
from app.services.access import interview_visible
from app.services.ratelimit import limit_guessing
from app.services.takes import current_answers
from app.states import AnswerStatus

MAX_DAYS = 90
MAX_CANDIDATES = 100


def _require_author(user: User) -> None:
    if not user.can_author:
        raise ServiceError("Only owners and recruiters may share candidates.", 403)


def create_link(user: User, candidate_ids: list[str], permission: str = SharePermission.VIEW,
                hide_names: bool = False,
                days: str | int = 7, label: str = "") -> tuple[ShareLink, str]:
    """A new link to these candidates (public ids); returns it with its token, which is never stored."""
    _require_author(user)
    if permission not in list(SharePermission):
        raise ServiceError("Choose what the link allows: view, or view and score.")
    try:
        days = int(str(days).strip())
    except ValueError:
        raise ServiceError("The number of days must be a whole number.")
    if not 1 <= days <= MAX_DAYS:
        raise ServiceError(f"A share link may last from 1 to {MAX_DAYS} days.")
    wanted = list(dict.fromkeys(i for i in candidate_ids if i))
    if not wanted:
        raise ServiceError("Choose at least one candidate to share.")
    if len(wanted) > MAX_CANDIDATES:
        raise ServiceError(f"A share link may hold at most {MAX_CANDIDATES} candidates.")
    candidates = list(db.session.execute(
        db.select(Candidate).join(Interview, Interview.id == Candidate.interview_id)
        .filter(Candidate.public_id.in_(wanted), Candidate.org_id == user.org_id, interview_visible(user))
    ).scalars())
    if len(candidates) != len(wanted):
        raise ServiceError("Candidate not found.", 404)
    token = new_token()
    link = ShareLink(org_id=user.org_id, created_by_id=user.id, token_hash=hash_token(token),
                     label=(label or "").strip()[:200], permission=permission, hide_names=bool(hide_names),
                     expires_at=utcnow() + timedelta(days=days))
    link.candidates = candidates
    db.session.add(link)
    audit.record("share_link.created", link, actor=user, permission=permission, count=len(candidates),
                 days=days, hide_names=link.hide_names, candidates=[c.public_id for c in candidates])
    db.session.commit()
    return link, token


def links_for_interview(user: User, interview: Interview) -> list[ShareLink]:
    """The organisation's links that hold a candidate of this interview, newest first."""
    return list(db.session.execute(
        db.select(ShareLink).filter(ShareLink.org_id == user.org_id, ShareLink.id.in_(
            db.select(share_link_candidates.c.share_link_id).join(
                Candidate, Candidate.id == share_link_candidates.c.candidate_id)
            .where(Candidate.interview_id == interview.id)))
        .order_by(ShareLink.created_at.desc())
    ).scalars())


def recent_candidates(interview: Interview, limit: int = 200) -> list[Candidate]:
    """The interview's newest candidates, for the share form (the queue selects from any page)."""
    return list(db.session.execute(
        db.select(Candidate).filter_by(interview_id=interview.id)
        .order_by(Candidate.created_at.desc(), Candidate.id.desc()).limit(limit)).scalars())


def get_link(user: User, public_id: str) -> ShareLink:
    """A link of the user's organisation (staff side); anything else is 404."""
    link = db.session.execute(
        db.select(ShareLink).filter_by(public_id=public_id, org_id=user.org_id)
    ).scalar_one_or_none()
    if link is None or not can_see_link(user, link):
        raise ServiceError("Share link not found.", 404)
    return link


def can_see_link(user: User, link: ShareLink) -> bool:
    """Staff see a link only if they may see every candidate in it (assignments apply)."""
    ids = [c.id for c in link.candidates]
    visible = db.session.execute(
        db.select(db.func.count(Candidate.id)).join(Interview, Interview.id == Candidate.interview_id)
        .filter(Candidate.id.in_(ids), interview_visible(user))
    ).scalar_one()
    return visible == len(ids)


def revoke(user: User, link: ShareLink) -> None:
    """Stop the link working, at once and for good."""
    _require_author(user)
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        audit.record("share_link.revoked", link, actor=user)
        db.session.commit()


def views(link: ShareLink, limit: int = 500) -> list[ShareView]:
    """The latest page views and media fetched through the link, newest first."""
    return list(db.session.execute(
        db.select(ShareView).filter_by(share_link_id=link.id).order_by(ShareView.id.desc()).limit(limit)
        .options(selectinload(ShareView.guest), selectinload(ShareView.candidate),
                 selectinload(ShareView.answer))
    ).scalars())


_MEDIA_WORDS = {"poster": "Loaded the still image of", "captions": "Loaded the captions of"}


def describe_view(view: ShareView) -> str:
    """What a logged request was, in words for the link's owner: "Watched answer 2 (Ada Lovelace)"."""
    if view.answer is None:
        if view.candidate is None:
            return "Opened the list of shared candidates"
        return f"Opened {view.candidate.name}'s page"
    answer = view.answer
    questions = [q.id for q in answer.candidate.questions]
    number = questions.index(answer.question_id) + 1 if answer.question_id in questions else "?"
    if view.kind == "video":
        verb = "Watched" if answer.width else "Listened to"
    else:
        verb = _MEDIA_WORDS.get(view.kind, "Loaded")
    return f"{verb} answer {number} ({answer.candidate.name})"


# The guest's side.

@limit_guessing
def link_for_token(token: str) -> ShareLink:
    """The live link for this token: unknown is 404; revoked or expired is 410."""
    link = by_token(ShareLink, token)
    if link is None:
        raise ServiceError("This share link is not valid. Check that you copied all of it.", 404)
    if link.state != "active":
        raise ServiceError(f"This share link has {'been revoked' if link.state == 'revoked' else 'expired'}. "
                           "Ask the person who shared it for a new one.", 410)
    if not link.candidates:  # each was erased (app.services.retention)
        raise ServiceError("The interviews shared through this link have been deleted, so there is "
                           "nothing left to see.", 410)
    return link


def shared_candidate(link: ShareLink, public_id: str) -> Candidate:
    """A candidate the link holds; any other is 404."""
    found = next((c for c in link.candidates if c.public_id == public_id), None)
    if found is None:
        raise ServiceError("This candidate is not part of the shared link.", 404)
    return found


def shared_answer(link: ShareLink, public_id: str) -> Answer:
    """A ready answer of a shared candidate; anything else is 404."""
    ids = [c.id for c in link.candidates]
    answer = db.session.execute(
        db.select(Answer).filter(Answer.public_id == public_id, Answer.candidate_id.in_(ids),
                                 Answer.status == AnswerStatus.READY)
    ).scalar_one_or_none()
    if answer is None:
        raise ServiceError("Recording not found.", 404)
    return answer


def display_name(link: ShareLink, candidate: Candidate) -> str:
    """The candidate's name, or "Candidate N" when the link hides names."""
    if link.hide_names:
        return f"Candidate {[c.id for c in link.candidates].index(candidate.id) + 1}"
    return candidate.name


def guest_for(link: ShareLink, guest_id: int | None) -> ShareGuest | None:
    """The guest remembered in this browser's session for this link, if any."""
    if not guest_id:
        return None
    guest = db.session.get(ShareGuest, guest_id)
    return guest if guest is not None and guest.share_link_id == link.id else None


def register_guest(link: ShareLink, name: str) -> ShareGuest:
    """Record the name a guest gives before scoring."""
    name = (name or "").strip()
    if not name:
        raise ServiceError("Enter your name; it is shown with your scores.")
    if len(name) > 100:
        raise ServiceError("A name may be at most 100 characters.")
    guest = ShareGuest(share_link_id=link.id, name=name)
    db.session.add(guest)
    db.session.commit()
    return guest


@dataclass
class SharedItem:
    """One question as a guest sees it."""

    question_number: int
    prompt: str
    question_id: str
    answer: Answer | None
    my_score: GuestScore | None
    # The wording was corrected after candidates had answered (graders see the same mark); the
    # answer keeps the words it was given.
    edited: bool = False


def shared_items(candidate: Candidate, guest: ShareGuest | None) -> list[SharedItem]:
    """Each question with its ready answer and, for a named guest, their own score."""
    answers = {qid: a for qid, a in current_answers(candidate).items() if a.status == AnswerStatus.READY}
    mine = {}
    if guest is not None:
        mine = {s.question_id: s for s in db.session.execute(
            db.select(GuestScore).filter_by(guest_id=guest.id, candidate_id=candidate.id)).scalars()}
    return [SharedItem(i + 1, q.prompt, q.public_id, answers.get(q.id), mine.get(q.id),
                       edited=q.edited_at is not None) for i, q in enumerate(candidate.questions)]


def save_guest_score(link: ShareLink, guest: ShareGuest | None, candidate: Candidate,
                     question_public_id: str, value: str, comment: str) -> GuestScore:
    """A named guest's 1-5 score on one question of a shared candidate (score links only)."""
    if link.permission != SharePermission.SCORE:
        raise ServiceError("This link lets you view, not score.", 403)
    if guest is None:
        raise ServiceError("Give your name before scoring.", 403)
    question = next((q for q in candidate.questions if q.public_id == question_public_id), None)
    if question is None:
        raise ServiceError("That question is not part of this interview.", 404)
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ServiceError("Choose a score from 1 to 5.")
    if not 1 <= number <= 5:
        raise ServiceError("Choose a score from 1 to 5.")
    comment = (comment or "").strip()
    if len(comment) > 5000:
        raise ServiceError("A comment may be at most 5000 characters.")
    score = db.session.execute(
        db.select(GuestScore).filter_by(guest_id=guest.id, candidate_id=candidate.id, question_id=question.id)
    ).scalar_one_or_none()
    if score is None:
        score = GuestScore(guest_id=guest.id, candidate_id=candidate.id, question_id=question.id)
        db.session.add(score)
    score.value, score.comment = number, comment
    db.session.commit()
    return score


def log_view(link: ShareLink, path: str, ip: str, user_agent: str, candidate: Candidate | None = None,
             guest: ShareGuest | None = None, answer: Answer | None = None, kind: str = "page") -> None:
    """Record one page view (or one answer's media fetched) through the link for the owner to see."""
    db.session.add(ShareView(share_link_id=link.id, candidate_id=candidate.id if candidate else None,
                             guest_id=guest.id if guest else None, path=path[:500], ip=(ip or "")[:64],
                             user_agent=(user_agent or "")[:300], kind=kind,
                             answer_id=answer.id if answer else None))
    db.session.commit()


def log_media(link: ShareLink, answer: Answer, kind: str, path: str, ip: str, user_agent: str,
              guest: ShareGuest | None = None) -> bool:
    """Record that a guest fetched an answer's media (kind: video, poster or captions), once per
    link, guest, answer and kind every SHARE_MEDIA_LOG_SECONDS, so that the many range requests
    of one playback make one row. A guest with no name is told apart by address. Returns whether
    a row was written."""
    window = current_app.config["SHARE_MEDIA_LOG_SECONDS"]
    who = f"guest:{guest.id}" if guest else f"addr:{ip}"
    first = ratelimit.first_in_window(f"share-media:{link.id}:{who}:{answer.id}:{kind}", window)
    if first is None:  # Redis did not answer: ask the table (two requests at once may both write)
        since = utcnow() - timedelta(seconds=window)
        query = db.select(ShareView.id).filter(
            ShareView.share_link_id == link.id, ShareView.answer_id == answer.id, ShareView.kind == kind,
            ShareView.created_at >= since,
            ShareView.guest_id == guest.id if guest else sa.and_(ShareView.guest_id.is_(None),
                                                                 ShareView.ip == (ip or "")[:64]))
        first = db.session.execute(query.limit(1)).first() is None
    if first:
        log_view(link, path, ip, user_agent, answer.candidate, guest, answer, kind)
    return first
