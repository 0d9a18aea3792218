"""Candidates in their own language, in a real browser: the whole flow in Simplified Chinese and in Arabic
(right to left) on a desktop and a phone, axe-clean at every step, with answers recorded, sent and
receipted; and every candidate page in the pseudo-locale (each message marked and 40% longer) at 360 px,
where no unmarked text shows and nothing overflows."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from babel.support import Translations

from app.extensions import db
from app.i18n import PSEUDO, TRANSLATIONS
from app.models import Answer, utcnow
from tests.factories import make_candidate, make_interview, make_ready_answer, mark_completed
from tests.test_accessibility import (
    DESKTOP,
    PIXEL_7,
    SMALL_PHONE,
    _fits,
    assert_accessible,
    base,  # noqa: F401  (fixtures)
    browser,  # noqa: F401
    open_page,  # noqa: F401
    wait_for_camera,
)
from tests.test_accessibility import pytestmark as _accessibility_marks

pytestmark = _accessibility_marks


WRITTEN = {
    "zh_Hans": ("软件工程师", ["请介绍一个您解决过的难题。", "您为什么想加入我们？"]),
    "ar": ("مهندس برمجيات", ["حدثنا عن مشكلة صعبة قمت بحلها.", "لماذا تريد الانضمام إلينا؟"]),
}


def _tr(code: str):
    """gettext in that language, from the compiled catalogue the server uses."""
    return Translations.load(str(TRANSLATIONS), [code]).gettext


def _wait_text(page, selector: str, text: str, timeout: int = 30_000) -> None:
    page.locator(selector).filter(has_text=text).wait_for(timeout=timeout)


def _countdown_reads_minutes_first(page) -> None:
    """The m:ss of a countdown is laid out left to right on a right-to-left page: the minutes' digit
    is drawn left of the seconds' digits (Unicode isolates around it, recorder.js)."""
    found = page.evaluate("""() => {
        const node = document.getElementById('timer').firstChild;
        const text = node.textContent, colon = text.lastIndexOf(':');
        const box = (i) => { const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + 1);
                             return r.getBoundingClientRect().left; };
        return {text, minutes: box(colon - 1), seconds: box(colon + 1)};
    }""")
    assert found["minutes"] < found["seconds"], found


def _record(page, seconds: float = 2.0) -> None:
    """Record an answer by hand and wait for its receipt (bytes and checksum, in any language)."""
    page.locator("#btn-start").click()
    page.locator("#btn-stop").wait_for(state="visible", timeout=15_000)
    page.wait_for_timeout(int(seconds * 1000))
    page.locator("#btn-stop").click()
    try:
        page.locator("#receipt:not(:empty)").wait_for(timeout=30_000)
    except Exception:
        raise AssertionError(f"no receipt: status={page.inner_text('#status')!r} "
                             f"error={page.inner_text('#error')!r}") from None
    assert re.search(r"[0-9a-f]{12}", page.inner_text("#receipt")), page.inner_text("#receipt")


@pytest.mark.parametrize("code", ["zh_Hans", "ar"])
@pytest.mark.parametrize("device", [DESKTOP, PIXEL_7], ids=["desktop", "phone"])
def test_whole_candidate_flow_in_chinese_and_arabic(app, base, open_page, code, device):  # noqa: F811
    gettext = _tr(code)
    interview = make_interview(questions=2, think=30, answer=20)
    interview.interface_language = code
    # What the hiring manager writes, in the candidate's language too.
    interview.title, prompts = WRITTEN[code]
    for question, prompt in zip(interview.questions, prompts, strict=True):
        question.prompt = prompt
    db.session.commit()
    candidate, token = make_candidate(interview, consent=False)
    page = open_page(device)
    english = re.compile(r"\b(the|and|your|you|to|of|answer|question|record)\b", re.I)

    page.goto(f"{base}/i/{token}")
    html = page.locator("html")
    assert (html.get_attribute("lang"), html.get_attribute("dir")) == (
        ("zh-Hans", "ltr") if code == "zh_Hans" else ("ar", "rtl"))
    assert gettext("Your privacy") in page.inner_text("main")
    assert not english.search(page.inner_text("main")), page.inner_text("main")
    assert_accessible(page, f"{code} landing")
    page.locator("#consent").check()
    page.locator("form[action$='/consent'] button[type=submit]").click()
    page.wait_for_url("**/record")

    wait_for_camera(page)
    assert_accessible(page, f"{code} device check")
    page.locator("#btn-continue").click()
    _wait_text(page, "#timer", gettext("Thinking time: %(time)s").split("%")[0].strip())
    if code == "ar":
        _countdown_reads_minutes_first(page)
    assert_accessible(page, f"{code} practice question")
    page.locator("#btn-start").click()
    page.locator("#btn-stop").wait_for(state="visible")
    page.wait_for_timeout(1500)
    page.locator("#btn-stop").click()
    page.locator("#btn-begin").wait_for(state="visible")
    assert_accessible(page, f"{code} practice played back")
    page.locator("#btn-begin").click()
    _record(page)
    assert_accessible(page, f"{code} first answer received")
    page.locator("#btn-next").click()
    _record(page)
    page.locator("#btn-finish").click()
    page.wait_for_url("**/done")
    assert page.locator("[data-receipt]").count() == 2
    assert not english.search(page.inner_text("main")), page.inner_text("main")
    assert_accessible(page, f"{code} done page")
    page.goto(f"{base}/i/{token}/data")
    assert_accessible(page, f"{code} data page")
    if device is not DESKTOP:
        _fits(page, f"{code} data page")
    db.session.expire_all()
    assert db.session.query(Answer).filter_by(candidate_id=candidate.id).count() == 2
    db.session.refresh(candidate)
    assert candidate.consent_locale == code  # the notice they agreed to, in the language they read


# -- the pseudo-locale ---------------------------------------------------------------------------------

# A text node passes if it is marked (pseudo-locale letters or its brackets) or has no Latin letters
# (numbers, times, punctuation). Names marked translate="no" (the product's, each language's own name in
# the switcher) are left as they are.
_UNMARKED = """(root) => {
    const marked = /[åƀçðéƒĝĥîĵķļɱñöƥʠŕšţûṽŵẋýžÅƁÇÐÉƑĜĤÎĴĶĻṀÑÖƤɊŔŠŢÛṼŴẊÝŽ\\[\\]]/;
    const out = [];
    const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
        const el = n.parentElement, text = n.textContent.trim();
        if (!text || !/[A-Za-z]/.test(text) || marked.test(text)) continue;
        if (el.closest('[translate=no], script, style, template, [hidden]')) continue;
        if (!el.getClientRects().length || getComputedStyle(el).visibility === 'hidden') continue;
        out.push(text.slice(0, 80));
    }
    return out;
}"""
# An element whose text is wider than its box (clipped or spilling out), visible on screen.
_OVERFLOWING = """() => [...document.querySelectorAll('body *')].filter((el) => {
    if (!el.getClientRects().length || ['HTML', 'BODY', 'VIDEO', 'SELECT', 'OPTION'].includes(el.tagName))
        return false;
    const s = getComputedStyle(el);
    if (s.overflowX === 'auto' || s.overflowX === 'scroll') return false;
    return el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 1;  // (1 px: visually hidden)
}).map((el) => `${el.tagName}#${el.id}.${el.className}: ${el.scrollWidth} > ${el.clientWidth}`)"""


def _check(page, what: str) -> None:
    assert page.locator("html").get_attribute("lang") == "en-XA", what
    unmarked = page.evaluate(_UNMARKED, page.locator("body").element_handle())
    assert unmarked == [], f"{what}: text not wrapped for translation: {unmarked}"
    assert page.evaluate(_OVERFLOWING) == [], f"{what}: overflows at 360 px"
    _fits(page, what)


def _pseudo_candidate(interview=None, **kw):
    interview = interview or make_interview(questions=2, think=120, answer=60)
    # What the hiring manager wrote is shown as written: make it look marked too, so that any English
    # left on the page can only be ours.
    interview.title, interview.intro = "Ŝéñîöŕ ðéṽéļöƥéŕ", "Ŵéļçöɱé"
    interview.organisation.name = "Åçɱé Ļţð"
    for q in interview.questions:
        q.prompt = "Ţéļļ ûš åƀöûţ å ţîɱé ŷöû ðîšåĝŕééð ŵîţĥ å çöļļéåĝûé åƀöûţ ĥöŵ ţö ðö å ƥîéçé öƒ ŵöŕķ"
    candidate, token = make_candidate(interview, **kw)
    candidate.locale, candidate.name = PSEUDO, "Åðå Ļöṽéļåçé"
    db.session.commit()
    return candidate, token


def test_every_candidate_page_in_the_pseudo_locale_is_marked_and_fits_360px(app, base, open_page):  # noqa: F811
    app.config["PSEUDO_LOCALE"] = True
    _, fresh = _pseudo_candidate(consent=False)
    _, recording = _pseudo_candidate()
    done, done_token = _pseudo_candidate()
    for i, q in enumerate(done.interview.questions):
        make_ready_answer(done, q, original_size=123_456 + i, original_sha256=f"{i}" * 64,
                          uploaded_at=utcnow())
    mark_completed(done)
    expired, expired_token = _pseudo_candidate()
    expired.expires_at = utcnow() - timedelta(days=1)
    db.session.commit()
    page = open_page(SMALL_PHONE)

    page.goto(f"{base}/i/{fresh}")
    _check(page, "landing")
    page.locator("form[action$='/consent']").evaluate("f => { f.noValidate = true; }")
    page.locator("form[action$='/consent'] button[type=submit]").click()
    page.get_by_role("alert").wait_for()
    _check(page, "landing with the consent error")
    page.goto(f"{base}/i/{fresh}/decline")
    _check(page, "another way to apply")

    page.goto(f"{base}/i/{recording}/record")
    wait_for_camera(page)
    _check(page, "device check")
    page.locator("#btn-continue").click()
    page.locator("#timer:not(:empty)").wait_for()
    _check(page, "practice question, thinking")
    page.locator("#btn-start").click()
    page.locator("#btn-stop").wait_for(state="visible")
    page.wait_for_timeout(1000)
    _check(page, "practice question, recording")
    page.locator("#btn-stop").click()
    page.locator("#btn-begin").wait_for(state="visible")
    _check(page, "practice played back")
    page.locator("#btn-begin").click()
    page.locator("#timer:not(:empty)").wait_for()
    _check(page, "question 1, thinking")
    _record(page, 1.5)
    _check(page, "question 1, answer received")

    for path in ("done", "data", "about-you"):
        page.goto(f"{base}/i/{done_token}/{path}")
        _check(page, f"{path} page")
    page.locator("form[action$='/about-you'] button[type=submit]").click()
    page.wait_for_url("**/done?saved=about-you")
    _check(page, "done page, voluntary answers saved")
    page.goto(f"{base}/i/{done_token}/data")
    page.locator("#confirm-delete").check()
    page.locator("form[action$='/deletion'] button[type=submit]").click()
    page.locator("[data-field=deletion-countdown]").wait_for()
    _check(page, "data page, deletion counting down")
    assert page.goto(f"{base}/i/{expired_token}").status == 410
    _check(page, "expired link")
