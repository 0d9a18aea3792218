"""The open apply link of an interview: one public link where a candidate gives their name and e-mail
and gets their own invite. Owners and recruiters turn it on (a new link, shown once: only its hash
is kept) and off (at once: the link stops working). Each address may apply a few times an hour,
each network a few more; an address that already has an invite to the interview gets none again.
The invite link is shown on the page, and e-mailed where e-mail is set up."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from app import mail
from app.extensions import db
from app.models import Candidate, Interview, User
from app.security import hash_token, looks_like_token, new_token
from app.services import ServiceError, audit, forms, ratelimit
from app.services.authoring import require_author
from app.services.forms import FormErrors
from app.services.interviews import enrol, require_open
from app.services.ratelimit import TooManyAttempts, limit_guessing

_EMAIL_KEY = "oneway:apply:email:{}:{}"
_ADDRESS_KEY = "oneway:apply:address:{}"


def turn_on(user: User, interview: Interview) -> str:
    """A new apply link for the interview (any earlier one stops working); the token, shown once."""
    require_author(user)
    require_open(interview)
    token = new_token()
    interview.apply_token_hash = hash_token(token)
    audit.record("interview.edited", interview, actor=user, change="apply link turned on")
    db.session.commit()
    return token


def turn_off(user: User, interview: Interview) -> None:
    """The apply link stops working at once."""
    require_author(user)
    interview.apply_token_hash = None
    audit.record("interview.edited", interview, actor=user, change="apply link turned off")
    db.session.commit()


@limit_guessing
def interview_for_link(token: str) -> Interview:
    """The interview whose apply link this is, and only that one; 404 for any other token."""
    found = None
    if looks_like_token(token):
        found = db.session.execute(sa.select(Interview).where(
            Interview.apply_token_hash == hash_token(token))).scalar_one_or_none()
    if found is None:
        raise ServiceError(_l("This application link does not work: it may have been turned off. Ask the "
                              "company for a new one."), 404)
    return found


def _name(raw) -> str:
    name = (raw or "").strip()
    if not name or len(name) > 200:
        raise ServiceError(_l("Enter your name (at most 200 characters)."), field="name")
    return name


def _email(raw) -> str:
    email = (raw or "").strip().lower()
    if "@" not in email.strip("@") or len(email) > 254 or any(c.isspace() for c in email):
        raise ServiceError(_l("Enter a valid e-mail address."), field="email")
    return email


def _limit(interview: Interview, email: str) -> None:
    """Count this application; refuse (429) an address or network that applied too often lately."""
    cfg = current_app.config
    window = cfg["APPLY_WINDOW_SECONDS"]
    limits = {_EMAIL_KEY.format(interview.id, hash_token(email)): cfg["APPLY_PER_EMAIL"],
              _ADDRESS_KEY.format(ratelimit.client_address()): cfg["APPLY_PER_ADDRESS"]}
    wait = ratelimit.longest_wait(limits, window)
    if wait:
        raise TooManyAttempts(wait, _l("Too many applications from this address or network lately. Try "
                                       "again in %(wait)s.", wait=ratelimit.minutes(wait)), field="email")
    ratelimit.count_failures(list(limits), window)


def apply(interview: Interview, form) -> tuple[Candidate, str]:
    """A new candidate from the apply form, with their invite token; one per e-mail address."""
    values = forms.check_all(form, {"name": _name, "email": _email})
    _limit(interview, values["email"])
    if interview.closed_at is not None or interview.is_template or not interview.questions:
        # Said in the candidate's words (require_open speaks to staff).
        raise ServiceError(_l("This interview is closed to new candidates, so it can no longer be started."),
                           409, field="email")
    # One application at a time per interview: two at once from one address find each other.
    db.session.execute(sa.update(Interview).where(Interview.id == interview.id)
                       .values(updated_at=Interview.updated_at),
                       execution_options={"synchronize_session": False})
    taken = db.session.execute(sa.select(Candidate.id).where(
        Candidate.interview_id == interview.id, Candidate.email == values["email"]).limit(1)).first()
    if taken:
        db.session.rollback()
        contact = interview.contact_email
        raise FormErrors({"email": str(_l(
            "This address has an invite to this interview already: use the link you were given. Lost it? "
            "Write to %(contact)s.", contact=contact) if contact else _l(
            "This address has an invite to this interview already: use the link you were given."))}, 409)
    # The link is on the page they applied from; where e-mail is set up it is sent too, so a closed
    # tab does not lose it (app.services.outbox).
    return enrol(interview, values["name"], values["email"], send_email=mail.configured())
