"""`make translations`: extract -> update -> fill English -> pseudo-locale -> compile -> JS catalogues.

Everything under app/translations/ except the real languages' .po files is generated here (and
committed, so nothing is built at run time):
  messages.pot                      every msgid, from babel.cfg (Python, Jinja2, the page scripts)
  <locale>/LC_MESSAGES/messages.po  updated from the .pot (translators fill these; English is filled
                                    with the msgids themselves; en_XA is regenerated whole)
  <locale>/LC_MESSAGES/messages.mo  compiled, for Flask-Babel
  <locale>/LC_MESSAGES/messages.json  the page scripts' messages and the Plural-Forms expression
  catalogues.json                   per locale, how many candidate-facing and staff msgids are translated
Run from the repository root: `python scripts/translations.py` (or `make translations`).
"""

from __future__ import annotations

import copy
import io
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.i18n import CANDIDATE_SOURCES, DEFAULT, LOCALES, PSEUDO, TRANSLATIONS  # noqa: E402
from app.pseudo_locale import pseudo  # noqa: E402

PYTHON_KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None, "lazy_ngettext": (1, 2),
                   "_ln": (1, 2)}
JS_KEYWORDS = {"t": None, "nt": (1, 2)}
# Fixed dates keep the generated files the same from one run to the next (git shows real changes only).
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
WIDTH = 100


def extract() -> Catalog:
    """Every message babel.cfg finds, with the files and lines it comes from."""
    method_map, options_map = parse_mapping_cfg(io.StringIO((ROOT / "babel.cfg").read_text()))
    catalog = Catalog(project="Oneway", version="1", copyright_holder="Oneway", creation_date=EPOCH,
                      revision_date=EPOCH, fuzzy=False)
    for methods, keywords in (([m for m in method_map if m[1] != "javascript"], PYTHON_KEYWORDS),
                              ([m for m in method_map if m[1] == "javascript"], JS_KEYWORDS)):
        found = extract_from_dir(str(ROOT), methods, options_map, keywords=keywords, strip_comment_tags=True)
        for filename, lineno, message, comments, context in found:
            catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def candidate_facing(message) -> bool:
    """Whether a candidate can see this message: it comes from one of app.i18n.CANDIDATE_SOURCES."""
    return any(path.startswith(CANDIDATE_SOURCES) for path, _line in message.locations)


def translated(message) -> bool:
    strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
    return not message.fuzzy and all(strings)


def _po_path(code: str) -> Path:
    return TRANSLATIONS / code / "LC_MESSAGES" / "messages.po"


def update(template: Catalog, code: str) -> Catalog:
    """The locale's catalogue brought up to the template: new msgids added (empty), gone ones dropped."""
    path = _po_path(code)
    if path.exists():
        with path.open("rb") as f:
            catalog = read_po(f, locale=code)
    else:
        catalog = Catalog(locale=code, project="Oneway", version="1", copyright_holder="Oneway",
                          creation_date=EPOCH, revision_date=EPOCH, fuzzy=False)
    catalog.update(copy.deepcopy(template), no_fuzzy_matching=True)  # (update shares its messages)
    catalog.obsolete.clear()
    if code == DEFAULT:  # English reads as the source says, until someone edits a msgstr
        for m in catalog:
            strings = m.string if isinstance(m.string, tuple | list) else (m.string,)
            if m.id and not all(strings):
                m.string = m.id if isinstance(m.id, str) else tuple(m.id)
    return catalog


def pseudo_catalog(template: Catalog) -> Catalog:
    """en_XA: every message bracketed, accented and 40% longer; never edited by hand."""
    catalog = Catalog(project="Oneway", version="1", copyright_holder="Oneway", creation_date=EPOCH,
                      revision_date=EPOCH, fuzzy=False)
    catalog.locale = None
    for m in template:
        if not m.id:
            continue
        string = tuple(pseudo(s) for s in m.id) if isinstance(m.id, tuple | list) else pseudo(m.id)
        catalog.add(m.id, string, m.locations, flags=m.flags, context=m.context)
    return catalog


def js_catalogue(catalog: Catalog) -> dict:
    """The page scripts' messages: {"plural": Plural-Forms expression, "messages": {msgid: str | [forms]}}."""
    messages = {}
    for m in catalog:
        if m.id and translated(m) and any(p.startswith("app/static/js/") for p, _l in m.locations):
            key = m.id[0] if isinstance(m.id, tuple | list) else m.id
            messages[key] = list(m.string) if isinstance(m.string, tuple | list) else m.string
    return {"plural": catalog.plural_expr, "messages": dict(sorted(messages.items()))}


def coverage(catalog: Catalog) -> dict:
    """How many candidate-facing and staff msgids this catalogue translates: [translated, total]."""
    counts = {"candidate": [0, 0], "staff": [0, 0]}
    for m in catalog:
        if m.id:
            part = counts["candidate" if candidate_facing(m) else "staff"]
            part[0] += translated(m)
            part[1] += 1
    return counts


def po_bytes(catalog: Catalog, **options) -> bytes:
    out = io.BytesIO()
    write_po(out, catalog, width=WIDTH, **options)
    return out.getvalue()


def mo_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog)
    return out.getvalue()


def compiled(catalog: Catalog) -> dict[str, bytes]:
    """What a .po compiles to: the .mo and the page scripts' JSON."""
    text = json.dumps(js_catalogue(catalog), ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    return {"messages.mo": mo_bytes(catalog), "messages.json": text.encode()}


def build() -> dict[Path, bytes]:
    """Every generated file, by path, from the sources and the translators' .po files."""
    template = extract()
    files = {TRANSLATIONS / "messages.pot": po_bytes(template, omit_header=False)}
    report = {}
    for code in (*LOCALES, PSEUDO):
        catalog = pseudo_catalog(template) if code == PSEUDO else update(template, code)
        files[_po_path(code)] = po_bytes(catalog)
        # Compiled from the .po as written, as a translator's own compile would be.
        catalog = read_po(io.BytesIO(files[_po_path(code)]), locale=None if code == PSEUDO else code)
        for name, data in compiled(catalog).items():
            files[_po_path(code).with_name(name)] = data
        report[code] = coverage(catalog)
    files[TRANSLATIONS / "catalogues.json"] = (json.dumps(report, indent=1, sort_keys=True) + "\n").encode()
    return files


def main() -> int:
    files = build()
    for path, data in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
            print("wrote", path.relative_to(ROOT))
    report = json.loads(files[TRANSLATIONS / "catalogues.json"])
    for code, parts in report.items():
        print(f"{code:8} candidate {parts['candidate'][0]}/{parts['candidate'][1]}"
              f"  staff {parts['staff'][0]}/{parts['staff'][1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
