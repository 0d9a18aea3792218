"""Languages: which one a page speaks, its catalogue (Python, templates and page scripts), and dates,
times, durations, numbers and sizes formatted for it and for the candidate's time zone.

How a page's language is chosen (``locale_code``)
  * Candidate pages (everything under ``/i/``, their error pages too): the candidate's own choice
    (``candidates.locale``, set by the switcher on every page and kept for their link), else the
    interview's interface language (``interviews.interface_language``; ``interviews.language`` is
    the *spoken* language and drives transcription only), else the best ``Accept-Language`` match,
    else English. Only *offered* languages count at each step (below).
  * Staff pages (and share-link guests): English, unless the browser asks for a language whose
    staff messages are all translated.
  * Offered: English; each of ``LOCALES`` whose candidate-facing messages are all translated
    (``catalogues.json``, written by ``make translations``), or every one of them where
    ``OFFER_INCOMPLETE_LOCALES`` is on (development: translators see their work as it grows); and the
    pseudo-locale ``en_XA`` where ``PSEUDO_LOCALE`` is on (development and tests only).
  * The candidate's time zone (``candidates.time_zone``, an IANA name their browser sends on the
    first page and with consent, checked against zoneinfo) dates their pages; UTC until it is known,
    and then the zone is named beside each time.

Translating (see the README's "Languages")
  ``make translations`` runs scripts/translations.py: extract (babel.cfg: Python, Jinja2, and the page
  scripts' ``t()``/``nt()``) into ``app/translations/messages.pot``, update each ``.po``, fill the English
  one, regenerate the pseudo-locale, compile the ``.mo`` files, the page scripts' catalogues
  (``<locale>/LC_MESSAGES/messages.json``) and ``catalogues.json``. Translators edit only the ``.po``
  files of the real languages; everything else there is generated and committed, so nothing is built
  at run time. Messages are stored as msgids (quality warnings) or raised lazily (ServiceError), and
  translated when shown, never stored translated.
"""

from __future__ import annotations

import json
import re
import zoneinfo
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.support import NullTranslations, Translations
from flask import Flask, current_app, g, has_request_context, request
from flask_babel import Babel, Domain, refresh
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from werkzeug.utils import cached_property

from app.media.words import gaps as word_gaps
from app.pseudo_locale import pseudo
from app.states import CandidateStatus

# The interface languages candidates can read (gettext names; the pseudo-locale is extra).
LOCALES = ("en", "zh_Hans", "es", "fr", "de", "pt_BR", "ar")
DEFAULT = "en"
PSEUDO = "en_XA"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
# The sources of what a candidate can see: a msgid found in one of these is candidate-facing (every
# candidate language must translate it); any other is a staff message.
CANDIDATE_SOURCES = (
    "app/templates/candidate/", "app/templates/base.html", "app/templates/error.html",
    "app/static/js/recorder.js", "app/static/js/uploader.js", "app/static/js/api.js",
    "app/static/js/i18n.js", "app/static/js/timezone.js", "app/static/js/promptvideo.js",
    "app/blueprints/candidate.py",
    "app/services/recording.py", "app/services/chunk_uploads.py", "app/services/take_types.py",
    "app/services/takes.py",
    "app/services/accommodations.py",
    "app/services/ratelimit.py", "app/services/preferences.py", "app/errors.py", "app/media/quality.py",
    "app/i18n.py", "app/templates/_language.html", "app/blueprints/apply.py", "app/services/applying.py",
    "app/services/mail_content.py", "app/services/deadline_requests.py", "app/services/selfid.py",
    "app/services/rights.py", "app/services/own_export.py",
)
_TIME_ZONE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,2}$")


def init_app(app: Flask) -> None:
    """Flask-Babel with Oneway's selectors, and the template helpers every page uses (the formatting
    filters: app.locale_format)."""
    _Babel(app, locale_selector=_formatting_locale, timezone_selector=_time_zone)
    app.jinja_env.policies["ext.i18n.trimmed"] = True  # as babel.cfg extracts them
    app.jinja_env.globals.update(
        page_lang=page_lang, page_dir=page_dir, language_choices=language_choices,
        js_catalogue=js_catalogue, current_time_zone=current_time_zone, language_switch=language_switch,
        role_label=role_label, language_name=language_name, interface_languages=LOCALES,
        share_state=share_state, word_gaps=word_gaps)


_ROLES = {"owner": _l("owner"), "recruiter": _l("recruiter"), "reviewer": _l("reviewer")}
_SHARE_STATES = {"active": _l("active"), "expired": _l("expired"), "revoked": _l("revoked")}


def share_state(state: str) -> str:
    """A share link's state in words ("active", "expired", "revoked")."""
    return str(_SHARE_STATES.get(state, state))


def role_label(role: str) -> str:
    """A member's role in words, in the page's language ("owner"; `|capitalize` for a heading)."""
    return str(_ROLES.get(role, role))


# -- choosing the language ------------------------------------------------------------------------

@cache
def _coverage() -> dict:
    """catalogues.json: per locale, [translated, total] candidate-facing and staff messages."""
    path = TRANSLATIONS / "catalogues.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _complete(code: str, part: str) -> bool:
    done, total = _coverage().get(code, {}).get(part, (0, 1))
    return done >= total


def offered() -> list[str]:
    """The languages a candidate may read now, in LOCALES order (the pseudo-locale last)."""
    cfg = current_app.config
    codes = [c for c in LOCALES if c == DEFAULT or cfg.get("OFFER_INCOMPLETE_LOCALES")
             or _complete(c, "candidate")]
    return codes + ([PSEUDO] if cfg.get("PSEUDO_LOCALE") else [])


def _staff_offered() -> list[str]:
    return [c for c in offered() if c in (DEFAULT, PSEUDO) or _complete(c, "staff")]


def supported(code: str | None) -> str | None:
    """`code` as one of LOCALES (or the pseudo-locale where it is on), else None."""
    if code in LOCALES or (code == PSEUDO and current_app.config.get("PSEUDO_LOCALE")):
        return code
    return None


_SIMPLIFIED_CHINESE = {"zh", "zh-cn", "zh-hans", "zh-sg"}


def interface_for_spoken(spoken: str | None) -> str:
    """The interface language an interview gets by default from its spoken language: the same where
    Oneway has pages in it (zh -> zh_Hans, pt -> pt_BR), else English (migration 0012 agrees)."""
    spoken = (spoken or "").strip().lower().replace("_", "-")
    if spoken in _SIMPLIFIED_CHINESE:
        return "zh_Hans"
    first = spoken.split("-")[0]
    return {"pt": "pt_BR", "es": "es", "fr": "fr", "de": "de", "ar": "ar"}.get(first, DEFAULT)


def _tag(code: str) -> str:
    """The BCP 47 tag of a gettext name: zh_Hans -> zh-Hans, pt_BR -> pt-BR."""
    return code.replace("_", "-")


def _accept_language(codes: list[str]) -> str | None:
    """The browser's preferred language among `codes` (zh-CN finds zh_Hans, pt finds pt_BR)."""
    for asked, _quality in request.accept_languages:
        asked = asked.lower()
        exact = [c for c in codes if _tag(c).lower() == asked]
        close = [c for c in codes if _tag(c).lower().split("-")[0] == asked.split("-")[0]]
        if exact or close:
            return (exact or close)[0]
    return None


def on_candidate_page() -> bool:
    return has_request_context() and (request.blueprint in ("candidate", "apply")
                                      or request.path.startswith(("/i/", "/apply/")))


def use_interview(interview) -> None:
    """A public page of this interview (its apply link): the interview's language for candidates."""
    g.candidate_language = (interview.interface_language,)
    g.pop("locale_code", None)
    refresh()


def use_candidate(candidate) -> None:
    """The page belongs to this candidate: their language and time zone apply from now on (also to a
    refusal raised later in the request, such as an expired link's page)."""
    g.candidate_language = (candidate.locale, candidate.interview.interface_language)
    g.candidate_time_zone = candidate.time_zone
    # An expired link may still read its own data, but changes nothing: no switcher there.
    g.candidate_may_switch = candidate.effective_status != CandidateStatus.EXPIRED
    g.pop("locale_code", None)
    refresh()


# (language, time zone) while something is written away from a page (an e-mail): see speaking().
_SPEAKING: ContextVar[tuple[str, str] | None] = ContextVar("oneway_speaking", default=None)


@contextmanager
def speaking(code: str | None, time_zone: str | None = None):
    """Within the block, messages, dates and numbers are in `code` (English unless it is offered) and
    times in `time_zone` (UTC unless valid), whatever the request: for e-mail to a candidate, written
    on a staff page or in a worker. Yields the language used."""
    code = code if code in offered() else DEFAULT
    token = _SPEAKING.set((code, valid_time_zone(time_zone) or "UTC"))
    refresh()
    try:
        yield code
    finally:
        _SPEAKING.reset(token)
        refresh()


def locale_code() -> str:
    """The language this request's page speaks (one of offered()), chosen once per request."""
    if _SPEAKING.get():
        return _SPEAKING.get()[0]
    if not has_request_context():
        return DEFAULT
    if "locale_code" not in g:
        g.locale_code = _choose()
    return g.locale_code


def _choose() -> str:
    if not on_candidate_page():
        return _accept_language(_staff_offered()) or DEFAULT
    codes = offered()
    for wanted in g.get("candidate_language", ()):
        if wanted in codes:
            return wanted
    return _accept_language(codes) or DEFAULT


def _formatting_locale() -> Locale:
    """Babel's locale for dates and numbers: the page's language, in the browser's region where it
    names one for that language (en-GB dates as 14 March, en-US as March 14)."""
    code = locale_code()
    base = Locale.parse(DEFAULT if code == PSEUDO else code)
    if not has_request_context() or _SPEAKING.get():
        return base
    for asked, _quality in request.accept_languages:
        parts = asked.replace("_", "-").split("-")
        if parts[0].lower() == base.language and len(parts) > 1 and len(parts[-1]) == 2:
            try:
                return Locale(base.language, territory=parts[-1].upper(), script=base.script)
            except (UnknownLocaleError, ValueError):
                break
    return base


def page_lang() -> str:
    """The page's `lang` attribute."""
    return _tag(locale_code())


def page_dir() -> str:
    """The page's `dir` attribute: rtl for Arabic."""
    return Locale.parse(DEFAULT if locale_code() == PSEUDO else locale_code()).text_direction


@cache
def _native_name(code: str) -> str:
    if code == PSEUDO:
        return pseudo("English (pseudo)")
    name = Locale.parse(code).get_display_name(code)
    return name[:1].upper() + name[1:]


def language_name(code: str) -> str:
    """A language's name in its own words ("Deutsch"), for one of LOCALES or the pseudo-locale."""
    return _native_name(code) if code in (*LOCALES, PSEUDO) else code


def language_choices() -> list[dict]:
    """The switcher's options, each named in its own language: [{code, tag, name, dir, current}]."""
    current = locale_code()
    return [{"code": c, "tag": _tag(c), "name": _native_name(c), "current": c == current,
             "dir": "ltr" if c == PSEUDO else Locale.parse(c).text_direction} for c in offered()]


def language_switch() -> dict | None:
    """Where the switcher on a candidate's page posts, and the page it comes back to; None where there
    is nothing to switch (one language offered) or no candidate (an unknown link's page)."""
    from flask import url_for

    token = (request.view_args or {}).get("token") if on_candidate_page() else None
    if not token or not g.get("candidate_may_switch") or len(offered()) < 2:
        return None
    return {"url": url_for("candidate.language", token=token),
            "page": (request.endpoint or "").rpartition(".")[2]}


# -- time zones -----------------------------------------------------------------------------------

def valid_time_zone(name: str | None) -> str | None:
    """An IANA time zone name zoneinfo knows (Europe/Paris), else None."""
    name = (name or "").strip()
    if not name or len(name) > 64 or not _TIME_ZONE_NAME.match(name):
        return None
    return name if name in _zones() else None


@cache
def _zones() -> frozenset[str]:
    # zoneinfo walks the whole tz database on every call (~30 ms): once per process is enough.
    return frozenset(zoneinfo.available_timezones())


def _time_zone() -> zoneinfo.ZoneInfo:
    if _SPEAKING.get():
        return zoneinfo.ZoneInfo(_SPEAKING.get()[1])
    name = g.get("candidate_time_zone") if on_candidate_page() else None
    return zoneinfo.ZoneInfo(valid_time_zone(name) or "UTC")


def current_time_zone() -> str | None:
    """The time zone this candidate's pages are dated in, or None while it is not known (UTC)."""
    return valid_time_zone(g.get("candidate_time_zone")) if on_candidate_page() else None


# -- catalogues -----------------------------------------------------------------------------------

def catalogue_dir(code: str) -> Path:
    return TRANSLATIONS / code / "LC_MESSAGES"


@cache
def _js_messages(code: str) -> dict:
    path = catalogue_dir(code) / "messages.json"
    return json.loads(path.read_text()) if path.exists() else {"plural": "n != 1", "messages": {}}


def js_catalogue() -> Markup:
    """The page scripts' messages in this page's language, as a JSON block (CSP allows data)."""
    from flask.json import dumps

    data = {"locale": page_lang(), **_js_messages(locale_code())}
    # `<`, `>` and `&` escaped as \u003c etc. keep the block from ending early, whatever a message holds.
    text = dumps(data).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(f'<script type="application/json" id="i18n">{text}</script>')


class _CatalogueDomain(Domain):
    """Flask-Babel's domain, keyed by Oneway's own locale code: the pseudo-locale has a catalogue of
    its own but formats dates as English, which Babel's locale alone cannot say."""

    def get_translations(self):
        return _load(locale_code())


@cache
def _load(code: str) -> Translations | NullTranslations:
    path = catalogue_dir(code) / "messages.mo"
    if not path.exists():
        return NullTranslations()
    with path.open("rb") as fp:
        return Translations(fp, domain="messages")


class _Babel(Babel):
    @cached_property
    def domain_instance(self):
        return _CatalogueDomain()
