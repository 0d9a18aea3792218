"""The candidate's own settings: the language of their pages and their time zone, kept for their link."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app import i18n
from app.extensions import db
from app.models import Candidate
from app.services import ServiceError


def choose_language(candidate: Candidate, code: str | None, time_zone: str | None = None) -> None:
    """The candidate's own interface language, kept for their link (the switcher on every page)."""
    code = i18n.supported(code)
    if code is None:
        raise ServiceError(_l("Choose a language from the list."))
    remember_time_zone(candidate, time_zone)
    candidate.locale = code
    db.session.commit()
    i18n.use_candidate(candidate)


def set_time_zone(candidate: Candidate, time_zone: str | None) -> None:
    """The candidate's time zone as their browser names it; a name zoneinfo does not know is refused."""
    if i18n.valid_time_zone(time_zone) is None:
        raise ServiceError(_l("That is not a time zone this server knows."), 422)
    remember_time_zone(candidate, time_zone)
    db.session.commit()


def remember_time_zone(candidate: Candidate, time_zone: str | None) -> None:
    """Keep the zone the browser named, where zoneinfo knows it; the caller commits."""
    known = i18n.valid_time_zone(time_zone)
    if known and known != candidate.time_zone:
        candidate.time_zone = known
        i18n.use_candidate(candidate)
