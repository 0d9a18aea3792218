"""Dates, durations, numbers, lists and sizes in the page's language (app.i18n chooses it), as the
template filters `when`, `day`, `duration`, `number`, `items` and `bytes` and for e-mails. Formatted
text is locale data, not a message; the pseudo-locale marks it all the same."""

from __future__ import annotations

from datetime import datetime, timedelta

from babel import Locale
from babel.dates import format_date, format_datetime, format_time, format_timedelta
from babel.units import format_unit
from flask import Flask

from app.i18n import PSEUDO, locale_code
from app.pseudo_locale import pseudo


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(when=format_when, day=format_day, duration=format_duration,
                                 number=format_number, bytes=format_bytes, items=format_items)


def _mark(text: str) -> str:
    """Formatted text is locale data, not a message: in the pseudo-locale it is marked all the same,
    so that a page in it shows nothing in plain English."""
    return pseudo(text) if locale_code() == PSEUDO else text


def format_when(moment: datetime) -> str:
    """A moment as the candidate reads it: "14 March 2026, 18:05 (Central European Standard Time)"."""
    from flask_babel import get_locale, get_timezone

    loc, zone = get_locale(), get_timezone()
    date = format_date(moment.astimezone(zone), "long", locale=loc)
    time = format_time(moment, "short", tzinfo=zone, locale=loc)
    joined = str(loc.datetime_formats["medium"]).replace("'", "").replace("{1}", date).replace("{0}", time)
    name = format_datetime(moment, "z" if str(zone) == "UTC" else "zzzz", tzinfo=zone, locale=loc)
    return _mark(f"{joined} ({name})")


def format_day(moment: datetime) -> str:
    """The date alone, in the candidate's time zone: "14 March 2026"."""
    from flask_babel import get_locale, get_timezone

    return _mark(format_date(moment.astimezone(get_timezone()), "long", locale=get_locale()))


def format_duration(seconds: float) -> str:
    """A time limit, exact to the second, in words: "2 minutes, 30 seconds", "2分钟30秒钟",
    "دقيقتان و30 ثانية" (the long style: short units read tersely in running text, "30 ث")."""
    from flask_babel import get_locale

    loc = get_locale()
    minutes, rest = divmod(round(seconds), 60)
    parts = [format_timedelta(timedelta(minutes=minutes), granularity="minute", format="long", locale=loc)
             ] if minutes else []
    if rest or not minutes:
        parts.append(format_timedelta(timedelta(seconds=rest), format="long", locale=loc))
    return _mark(parts[0] if len(parts) == 1 else _pair(loc).format(*parts))


def _pair(loc: Locale) -> str:
    """The locale's pattern for two units ("{0}, {1}", "{0}{1}", "{0} و{1}"): CLDR's unit list style
    where the locale has one, else its running-text "and". (Babel's list formatting repeats the last
    item of a pair in some locales (ar), and not every locale has every style: de has unit-short only.)"""
    for style in ("unit", "unit-short", "unit-narrow", "standard"):
        pattern = (loc.list_patterns.get(style) or {}).get("2")
        if pattern:
            return pattern
    return "{0} {1}"


def format_number(value: float) -> str:
    """A number with the locale's digits and grouping: 123,456 / 123.456 / 123 456."""
    from flask_babel import format_decimal

    return _mark(format_decimal(value))


def format_items(items: list[str]) -> str:
    """A list in running text: "a, b and c", "a、b和c"."""
    from babel.lists import format_list
    from flask_babel import get_locale

    items = [str(i) for i in items]
    if len(items) == 2:  # Babel's pair formatting repeats the last item in some locales (ar)
        return get_locale().list_patterns["standard"]["2"].format(*items)
    return format_list(items, locale=get_locale()) if items else ""


_UNITS = ((1e9, "digital-gigabyte"), (1e6, "digital-megabyte"), (1e3, "digital-kilobyte"))


def format_bytes(size: int) -> str:
    """A size as people read it, in the locale's words: "1.2 MB", "1,2 Mo", "512 byte"."""
    from flask_babel import get_locale

    for step, unit in _UNITS:
        if size >= step:
            return _mark(format_unit(round(size / step, 1), unit, "short", locale=get_locale()))
    return _mark(format_unit(size, "digital-byte", "short", locale=get_locale()))


