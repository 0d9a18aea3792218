"""WebVTT captions from a transcript's timed words (or segments where words are missing): text, not
media, so the web pages that serve captions and the job that stores them share it."""

from __future__ import annotations

from app.media.words import join, right_to_left, spaceless

# A caption line's width in Latin characters; a CJK character is twice as wide (about 21 per cue,
# within the 13-23 that Chinese and Japanese subtitling guides ask for).
MAX_CHARS = 42
MAX_CUE_S = 6.0
# RIGHT-TO-LEFT MARK: a cue of Arabic or Hebrew that starts with a Latin word or a number would
# otherwise be laid out left to right (a cue's direction is its first strong character's).
RLM = "\u200f"


def _ts(seconds: float) -> str:
    ms = max(0, round(seconds * 1000))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("-->", "->")


def width(text: str) -> int:
    """The room a caption needs: two for a full-width (CJK) character, one for any other."""
    return sum(2 if spaceless(ch) and ord(ch) >= 0x2E80 else 1 for ch in text)


def cues(segments: list[dict]) -> list[tuple[float, float, str]]:
    """Split segments into short readable cues on word boundaries (a CJK character is a word)."""
    out: list[tuple[float, float, str]] = []
    for seg in segments:
        words = [w for w in seg.get("words") or [] if w.get("word", "").strip()]
        if not words:
            text = seg.get("text", "").strip()
            if text:
                out.append((seg["start"], seg["end"], text))
            continue
        start, parts = words[0]["start"], []
        for i, w in enumerate(words):
            parts.append(w["word"])
            text = join(parts)
            nxt = words[i + 1] if i + 1 < len(words) else None
            long = nxt and (width(join([*parts, nxt["word"]])) > MAX_CHARS or nxt["end"] - start > MAX_CUE_S)
            if nxt is None or long:
                out.append((start, max(w["end"], start + 0.2), text))
                parts = []
                if nxt:
                    start = nxt["start"]
    return out


def to_webvtt(segments: list[dict]) -> str:
    lines = ["WEBVTT", ""]
    for i, (start, end, text) in enumerate(cues(segments), 1):
        shown = RLM + text if right_to_left(text) else text
        lines += [str(i), f"{_ts(start)} --> {_ts(end)}", _escape(shown), ""]
    return "\n".join(lines)
