"""Every user-visible string in the templates and page scripts goes through the catalogue.

Templates: text between tags, and the attributes people read (title, alt, placeholder, aria-label,
label, a button's value), once every {% trans %} block and every {{ ... }}/{% ... %} is taken out.
Page scripts: text set on the page (textContent, innerText, innerHTML, setError, fail, say, label,
onStatus, alert, confirm) and any sentence-like string literal, outside t() and nt().
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tests.conftest import ROOT

TEMPLATES = sorted((ROOT / "app" / "templates").rglob("*.html"))
SCRIPTS = sorted((ROOT / "app" / "static" / "js").glob("*.js"))
# What is not language: the brand, and keys named by their letter (<kbd>K</kbd>).
NOT_LANGUAGE = {"Oneway"}
WORDS = re.compile(r"[^\W\d_]{2,}")
READ_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "label"}
JINJA = re.compile(r"\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}|\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)


ATTRIBUTES_ONLY = re.compile(r'^\s*([\w-]+="[^"]*"\s*)+$')


def _words(text: str) -> list[str]:
    return [w for w in WORDS.findall(text) if w not in NOT_LANGUAGE]


class _Visible(HTMLParser):
    """Collects the text nodes and read attributes of HTML with Jinja taken out."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        attrs = dict(attrs)
        for name, value in attrs.items():
            # A <button>'s value is sent, not shown; an <input type="submit">'s is its label.
            readable = name in READ_ATTRIBUTES or (
                name == "value" and tag == "input" and attrs.get("type") in ("submit", "button", "reset"))
            if readable and value and _words(value):
                self.found.append(f'{tag} {name}="{value}"')

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)

    def handle_data(self, data):
        # A block of attributes given to a tag in another template ({% block body_attrs %}).
        if ATTRIBUTES_ONLY.match(data):
            return
        if not self._skip and _words(data):
            self.found.append(data.strip())


def unwrapped_in_template(source: str) -> list[str]:
    parser = _Visible()
    parser.feed(JINJA.sub(" ", source))
    return parser.found


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT / "app" / "templates")))
def test_template_text_is_wrapped_for_translation(path):
    found = unwrapped_in_template(path.read_text())
    assert not found, f"wrap in _() or {{% trans %}}: {found}"


# Where a script puts text on the page.
SINKS = re.compile(r"\.(textContent|innerText|innerHTML)\s*=|"
                   r"\b(setError|fail|say|label|onStatus|alert|confirm)\(")
STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`(?:[^`\\]|\\.)*`')
COMPARED = re.compile(r"[=!]==?\s*(\"[^\"]*\"|'[^']*')")
# A sentence: a capital, then words with spaces ("Camera blocked"), not a selector or a MIME type.
SENTENCE = re.compile(r"^[\"'`][A-Z][a-z]+[ ,:.]+\w")


def _without_calls(code: str, names=("t", "nt")) -> str:
    """The code with every t(...)/nt(...) call (balanced parentheses) taken out."""
    out, i = [], 0
    pattern = re.compile(r"\b(" + "|".join(names) + r")\(")
    while (m := pattern.search(code, i)):
        out.append(code[i:m.start()])
        depth, j = 0, m.end() - 1
        while j < len(code):
            depth += {"(": 1, ")": -1}.get(code[j], 0)
            j += 1
            if depth == 0:
                break
        i = j
    out.append(code[i:])
    return "".join(out)


def _balanced(code: str, start: int, until: str) -> str:
    """The code from `start` to the first `until` character outside brackets (or the end)."""
    depth, i = 0, start
    while i < len(code):
        c = code[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                break
            depth -= 1
        elif c in until and depth == 0:
            break
        elif c in "\"'`":
            m = STRING.match(code, i)
            i = m.end() - 1 if m else i
        i += 1
    return code[start:i]


def unwrapped_in_script(source: str) -> list[str]:
    lines = _without_calls(source).splitlines()
    code = "\n".join(line for line in lines if not line.strip().startswith("//"))
    found = []
    for m in SINKS.finditer(code):
        # What the sink receives: the right-hand side of `=`, or the call's arguments.
        value = _balanced(code, m.end(), ";\n" if m.group(1) else ")")
        value = COMPARED.sub("", value)  # q.kind === "written" ? ... : ... compares, shows nothing
        found += [lit for lit in STRING.findall(value) if _words(re.sub(r"\$\{[^}]*\}", "", lit)[1:-1])]
    found += [lit for lit in STRING.findall(code) if SENTENCE.match(lit) and lit not in found]
    return found


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_page_script_text_is_wrapped_for_translation(path):
    found = unwrapped_in_script(path.read_text())
    assert not found, f"wrap in t() or nt(): {found}"


def test_the_checks_catch_what_they_are_for():
    assert unwrapped_in_template('<p title="Hello there">{{ x }} Hi there</p>') == [
        'p title="Hello there"', "Hi there"]
    assert unwrapped_in_template("<p>{% trans n=x %}Hello {{ n }}{% endtrans %} · {{ _('Hi') }}</p>") == []
    assert unwrapped_in_template('<button value="go">Oneway</button><kbd>K</kbd>') == []
    assert unwrapped_in_template('<input type="submit" value="Send it">') == ['input value="Send it"']
    assert unwrapped_in_script('el.textContent = `Saved: ${n}`;') == ["`Saved: ${n}`"]
    assert unwrapped_in_script('setError(t("Blocked: %(why)s", { why: "x" }));') == []
    assert unwrapped_in_script('const why = { A: "Camera was blocked, try again." };') == [
        '"Camera was blocked, try again."']
    assert unwrapped_in_script('document.querySelector("[data-live]"); const T = "video/webm";') == []
