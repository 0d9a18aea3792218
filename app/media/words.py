"""Words into text in any script: Latin, Cyrillic, Arabic and Korean put a space between words; Chinese,
Japanese, Thai, Lao, Khmer and Burmese do not, and Whisper gives their "words" as characters or short
runs. Transcript lines, captions, search and the grader's transcript all join words here, so a character
offset in a line's text always falls in the word that was said there."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from functools import cache

# Scripts written without spaces between words (Unicode blocks), and the full-width punctuation used
# with them.
_SPACELESS = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x2E80, 0x2FDF),  # CJK radicals
    (0x3000, 0x303F),  # CJK symbols and punctuation (、。「」)
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3100, 0x312F),  # Bopomofo
    (0x31F0, 0x31FF),  # Katakana extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF00, 0xFFEF),  # full-width forms (，！？：)
    (0x20000, 0x3134F),  # CJK extensions B-G
)
# Punctuation that closes onto the word before it, in any script.
_CLOSING = set(".,;:!?)]}%»\u201d\u2019…،؛؟")


def spaceless(ch: str) -> bool:
    """Whether this character belongs to a script written without spaces between words."""
    code = ord(ch)
    return any(lo <= code <= hi for lo, hi in _SPACELESS)


def gap(before: str, after: str) -> str:
    """What goes between two words: a space, or nothing beside a spaceless script or closing
    punctuation."""
    if not before or not after:
        return ""
    if spaceless(before[-1]) or spaceless(after[0]) or after[0] in _CLOSING:
        return ""
    return " "


def join(words: Iterable[str]) -> str:
    """The words as text, spaced as their script is written."""
    text = ""
    for word in words:
        word = word.strip()
        if word:
            text += gap(text, word) + word
    return text


def gaps(words: Sequence[str]) -> list[str]:
    """For each word, what follows it when joined (the last gets ""): for pages that show each word
    as its own element and must space them as join() does."""
    stripped = [w.strip() for w in words]
    return [gap(stripped[i], stripped[i + 1]) if i + 1 < len(stripped) else ""
            for i in range(len(stripped))]


def word_at(words: Sequence[str], offset: int) -> int | None:
    """The index of the word that holds character `offset` of join(words) (a gap belongs to the word
    after it), or None past the end."""
    at = 0
    text = ""
    for i, word in enumerate(words):
        word = word.strip()
        if not word:
            continue
        at += len(gap(text, word))
        text += gap(text, word) + word
        if offset < at + len(word):
            return i
        at += len(word)
    return None


def right_to_left(text: str) -> bool:
    """Whether the text is mostly in a right-to-left script (Arabic, Hebrew, Persian, Urdu...)."""
    rtl = ltr = 0
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            rtl += 1
        elif kind == "L":
            ltr += 1
    return rtl > ltr


@cache
def _simplifier():
    import opencc

    return opencc.OpenCC("t2s.json")


def fold(text: str) -> str:
    """The text as search compares it, character for character (same length, so an offset in one is an
    offset in the other): lower case, and Chinese in Simplified characters, since Whisper writes
    Chinese in either (我們 / 我们) and a grader searches in the one they type."""
    text = text.lower()
    if text.isascii():
        return text
    folded = _simplifier().convert(text)
    if len(folded) == len(text):
        return folded
    # A phrase rule changed the length: character by character then, keeping one-for-one ones only.
    return "".join(c2 if len(c2 := _simplifier().convert(c)) == 1 else c for c in text)
