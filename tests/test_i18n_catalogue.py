"""The catalogues are in sync with the sources: every msgid the code uses is in messages.pot and in each
.po; the compiled .mo files, the page scripts' catalogues and the pseudo-locale are what the .po files
give; each language has the plural forms its grammar needs, and the page scripts choose the same form
as gettext for every count; and a finished language translates every message a candidate can see."""

from __future__ import annotations

import gettext
import importlib.util
import json
import shutil
import subprocess

import pytest
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from app.i18n import LOCALES, PSEUDO, TRANSLATIONS
from tests.conftest import ROOT

# The languages whose translators have not finished yet: their candidate pages fall back to English
# (app.i18n.offered). A translator who finishes a language removes it from this list, and from then on
# this test fails if any candidate-facing message of that language is left empty.
TRANSLATIONS_IN_PROGRESS: list[str] = []


def _script():
    spec = importlib.util.spec_from_file_location("translations", ROOT / "scripts" / "translations.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def script():
    return _script()


@pytest.fixture(scope="module")
def extracted(script):
    return script.extract()


def _read(code: str):
    with (TRANSLATIONS / code / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=None if code == PSEUDO else code)


def _ids(catalog) -> set:
    return {m.id if isinstance(m.id, str) else tuple(m.id) for m in catalog if m.id}


def test_every_msgid_the_code_uses_is_in_the_template_and_every_catalogue(extracted):
    used = _ids(extracted)
    with (TRANSLATIONS / "messages.pot").open("rb") as f:
        template = _ids(read_po(f))
    assert used - template == set(), "run `make translations`: messages.pot lacks these"
    assert template - used == set(), "run `make translations`: messages.pot has msgids no code uses"
    for code in (*LOCALES, PSEUDO):
        assert used - _ids(_read(code)) == set(), f"run `make translations`: {code}'s .po lacks these"


@pytest.mark.parametrize("code", [*LOCALES, PSEUDO])
def test_compiled_files_are_what_the_po_gives(script, code):
    """The .mo and the page scripts' JSON, compiled again here, match the committed ones byte for byte."""
    catalog = _read(code)
    for name, data in script.compiled(catalog).items():
        committed = (TRANSLATIONS / code / "LC_MESSAGES" / name).read_bytes()
        assert committed == data, f"run `make translations`: {code}/{name} is stale"


def test_the_pseudo_locale_is_generated_never_edited(script, extracted):
    expected = {m.id if isinstance(m.id, str) else tuple(m.id): m.string
                for m in script.pseudo_catalog(extracted) if m.id}
    found = {m.id if isinstance(m.id, str) else tuple(m.id): m.string for m in _read(PSEUDO) if m.id}
    assert found == expected
    sample = found["Start recording now"]
    assert sample.startswith("[") and sample.endswith("]") and "Start" not in sample
    assert len(sample) >= 1.4 * len("Start recording now")
    plural = found[("Record again (%(num)s take left)", "Record again (%(num)s takes left)")]
    assert all("%(num)s" in form for form in plural)  # placeholders survive


def test_the_coverage_file_counts_what_each_po_translates(script):
    report = json.loads((TRANSLATIONS / "catalogues.json").read_text())
    for code in (*LOCALES, PSEUDO):
        assert report[code] == script.coverage(_read(code)), f"run `make translations`: {code}"
    assert report["en"]["candidate"][1] > 200 and report["en"]["staff"][1] > 200


@pytest.mark.parametrize("code", LOCALES)
def test_each_language_has_the_plural_forms_of_its_grammar(code):
    catalog = _read(code)
    assert catalog.num_plurals == get_plural(code).num_plurals
    assert {"ar": 6, "zh_Hans": 1, "de": 2}.get(code, catalog.num_plurals) == catalog.num_plurals


@pytest.mark.parametrize("code", [c for c in LOCALES if c not in TRANSLATIONS_IN_PROGRESS])
def test_a_finished_language_translates_every_message_a_candidate_can_see(script, code):
    missing = [m.id for m in _read(code) if m.id and script.candidate_facing(m) and not script.translated(m)]
    assert not missing, f"{code}: {len(missing)} candidate-facing messages untranslated: {missing[:5]}"


def test_languages_in_progress_are_languages_we_support():
    assert set(TRANSLATIONS_IN_PROGRESS) <= set(LOCALES) and "en" not in TRANSLATIONS_IN_PROGRESS


COUNTS = [*range(0, 230), 1000, 1001, 1002, 1003, 1011, 1099, 100000, 1000000]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_page_scripts_choose_the_same_plural_form_as_gettext():
    """i18n.js reads each catalogue's Plural-Forms with its own small parser (no eval under the CSP):
    for every language and these counts it picks the form Python's gettext picks."""
    source = (ROOT / "app" / "static" / "js" / "i18n.js").read_text()
    compile_fn = source[source.index("function compile(expr)"):source.index("// Which plural form")]
    expressions = {code: _read(code).plural_expr for code in (*LOCALES, PSEUDO)}
    program = compile_fn + f"""
const out = {{}};
for (const [code, expr] of Object.entries({json.dumps(expressions)})) {{
  const f = compile(expr);
  out[code] = {json.dumps(COUNTS)}.map((n) => f(n));
}}
console.log(JSON.stringify(out));
"""
    result = subprocess.run(["node", "-e", program], capture_output=True, text=True, timeout=60, check=True)
    found = json.loads(result.stdout)
    for code, expr in expressions.items():
        rule = gettext.c2py(expr)
        assert found[code] == [rule(n) for n in COUNTS], code
    assert set(found["ar"]) == {0, 1, 2, 3, 4, 5}
