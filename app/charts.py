"""Bar charts as geometry for server-rendered SVG (templates/insights/_charts.html): pure, no Flask.

Each bar carries its label and its value written out, so a chart reads without colour, and the
template gives the same figures as a table for screen readers."""

from __future__ import annotations

from dataclasses import dataclass

LABEL_WIDTH = 230  # room for the labels, left of the bars
BAR_AREA = 300  # the longest bar
ROW = 28  # one bar and its gap
BAR = 20


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the value written out, beside the bar
    y: int
    width: float


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    width: int
    height: int
    label_width: int = LABEL_WIDTH
    bar_height: int = BAR


def bars(rows: list[tuple[str, float, str]], most: float | None = None) -> Chart:
    """Horizontal bars for (label, value, text) rows, scaled to `most` (else the largest value)."""
    top = most if most else max((v for _, v, _ in rows), default=0) or 1
    out = [Bar(label, value, text, i * ROW + 4, round(BAR_AREA * max(0.0, value) / top, 1))
           for i, (label, value, text) in enumerate(rows)]
    return Chart(out, LABEL_WIDTH + BAR_AREA + 110, len(rows) * ROW + 8)
