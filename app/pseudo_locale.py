"""The pseudo-locale (en_XA): every message bracketed, accented and 40% longer, so text that is not
wrapped for translation stands out and tight layouts overflow (scripts/translations.py writes its
catalogue; app.i18n offers it to staff who ask for it)."""

from __future__ import annotations

import re

_ACCENTED = dict(zip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
                     "åƀçðéƒĝĥîĵķļɱñöƥʠŕšţûṽŵẋýžÅƁÇÐÉƑĜĤÎĴĶĻṀÑÖƤɊŔŠŢÛṼŴẊÝŽ", strict=True))
# What must reach the page unchanged: placeholders, markup, entities.
_KEEP = re.compile(r"%\([^)]+\)[sdifr]|%%|%[sd]|<[^>]*>|&[#\w]+;")
_PADDING = "ļöŕéɱ îƥšûɱ ðöļöŕ šîţ åɱéţ çöñšéçţéţûŕ åðîƥîšçîñĝ éļîţ šéð ðö éîûšɱöð ţéɱƥöŕ"


def pseudo(text: str) -> str:
    """The pseudo-locale's version of a message: bracketed, every letter accented, 40% longer, its
    placeholders and markup intact, so unwrapped text stands out and tight layouts overflow."""
    out, visible, last = [], 0, 0
    for m in _KEEP.finditer(text):
        chunk = text[last:m.start()]
        out.append("".join(_ACCENTED.get(c, c) for c in chunk))
        visible += len(chunk)
        out.append(m.group())
        last = m.end()
    chunk = text[last:]
    out.append("".join(_ACCENTED.get(c, c) for c in chunk))
    visible += len(chunk)
    extra = round(visible * 0.4)
    padding = (_PADDING * (extra // len(_PADDING) + 1))[:extra].strip()
    return "[" + "".join(out) + (" " + padding if padding else "") + "]"
