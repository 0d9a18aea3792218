"""WebVTT captions from a transcript's timed words (or segments where words are missing): text, not
media, so the web pages that serve captions and the job that stores them share it."""

from __future__ import annotations

MAX_CHARS = 42
MAX_CUE_S = 6.0


def _ts(seconds: float) -> str:
    ms = max(0, round(seconds * 1000))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("-->", "->")


def cues(segments: list[dict]) -> list[tuple[float, float, str]]:
    """Split segments into short readable cues on word boundaries."""
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
            parts.append(w["word"].strip())
            text = " ".join(parts)
            nxt = words[i + 1] if i + 1 < len(words) else None
            long = nxt and (len(text) + 1 + len(nxt["word"].strip()) > MAX_CHARS
                            or nxt["end"] - start > MAX_CUE_S)
            if nxt is None or long:
                out.append((start, max(w["end"], start + 0.2), text))
                parts = []
                if nxt:
                    start = nxt["start"]
    return out


def to_webvtt(segments: list[dict]) -> str:
    lines = ["WEBVTT", ""]
    for i, (start, end, text) in enumerate(cues(segments), 1):
        lines += [str(i), f"{_ts(start)} --> {_ts(end)}", _escape(text), ""]
    return "\n".join(lines)
