"""Small inline SVG charts for the HTML report: bars (grouped or stacked, with reference lines) and lines.

Hand-made, so the report needs no plotting library and no network: text stays text (the
browser draws the Chinese with its own fonts), every label from a workbook is escaped, and
the charts scale with the page (``viewBox``) and print as vectors.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

PALETTE = ("#2E75B6", "#C00000", "#548235", "#BF8F00", "#7030A0", "#ED7D31", "#44546A", "#A5A5A5",
           "#00B0F0", "#FF66CC", "#92D050", "#996633")  # fmt: skip
FONT = "font-family=\"'Noto Sans CJK SC','Microsoft YaHei','PingFang SC',sans-serif\""


@dataclass(frozen=True)
class Series:
    """A named row of values (None: no value) in a colour."""

    name: str
    values: Sequence[float | None]
    color: str = ""


@dataclass(frozen=True)
class Line:
    """A horizontal reference line (a cap)."""

    name: str
    value: float
    color: str = "#7F7F7F"


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _nice(top: float) -> tuple[float, float]:
    """A round axis maximum and tick step for values up to ``top``."""
    if top <= 0:
        return 1.0, 0.25
    raw = top / 4
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    return step * math.ceil(top / step), step


def _label(value: float, percent: bool) -> str:
    if percent:
        return f"{value:.0%}"
    if abs(value) >= 10_000:
        return f"{value / 10_000:,.0f}万" if abs(value) < 100_000_000 else f"{value / 100_000_000:,.1f}亿"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _frame(width: int, height: int, title: str, body: list[str]) -> Markup:
    """The chart: its title drawn at the top, then ``body``."""
    return Markup(
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{_e(title)}" '
        f'xmlns="http://www.w3.org/2000/svg" {FONT} font-size="12">'
        f"<title>{_e(title)}</title>"
        f'<text x="12" y="20" font-size="15" font-weight="bold" fill="#1F4E78">{_e(title)}</text>'
        + "".join(body)
        + "</svg>"
    )


def _width(text: str) -> float:
    """The drawn width of ``text`` at 12 px, roughly (CJK characters are square)."""
    return sum(12.0 if ord(c) > 0x2E7F else 7.0 for c in text)


def _fitted(text: str, room: float) -> str:
    """``text`` cut (with …) to about ``room`` px at 12 px, whole when it fits."""
    if _width(text) <= room:
        return text
    while text and _width(text) + 12 > room:
        text = text[:-1]
    return text.rstrip() + "…"


def _legend(items: Sequence[tuple[str, str, bool]], left: float, right: float) -> tuple[list[str], float]:
    """Legend entries (name, colour, dashed) wrapped into rows from ``left`` to ``right``; where it ends."""
    parts: list[str] = []
    x, y = left, 42.0
    for name, color, dashed in items:
        size = 30 + _width(name)
        if x > left and x + size > right:
            x, y = left, y + 17
        if dashed:
            parts.append(
                f'<line x1="{x:.1f}" y1="{y - 4:.1f}" x2="{x + 18:.1f}" y2="{y - 4:.1f}" stroke="{color}" '
                'stroke-width="2" stroke-dasharray="5 3"/>'
            )
        else:
            parts.append(f'<rect x="{x:.1f}" y="{y - 10:.1f}" width="12" height="12" fill="{color}"/>')
        parts.append(f'<text x="{x + 22:.1f}" y="{y:.1f}">{_e(name)}</text>')
        x += size + 14
    return parts, y + 18


def _colored(series: Sequence[Series]) -> list[Series]:
    """Each series with its colour, a value that is not a number (a share of no customers: NaN) as none."""
    return [
        Series(
            s.name,
            [v if v is None or math.isfinite(v) else None for v in s.values],
            s.color or PALETTE[i % len(PALETTE)],
        )
        for i, s in enumerate(series)
    ]


def _keys(
    series: Sequence[Series], refs: Sequence[Line], percent: bool, left: float, right: float
) -> tuple[list[str], float]:
    items = [(s.name, s.color, False) for s in series]
    items += [(f"{r.name} {_label(r.value, percent)}", r.color, True) for r in refs]
    return _legend(items, left, right)


def _axis(
    left: float, right: float, top: float, bottom: float, maximum: float, step: float, percent: bool
) -> list[str]:
    parts = []
    tick = 0.0
    while tick <= maximum + step / 2:
        y = bottom - (bottom - top) * tick / maximum
        parts.append(f'<line x1="{left:.1f}" y1="{y:.1f}" x2="{right:.1f}" y2="{y:.1f}" stroke="#E0E0E0"/>')
        parts.append(
            f'<text x="{left - 6:.1f}" y="{y + 4:.1f}" text-anchor="end" fill="#555">{_label(tick, percent)}</text>'
        )
        tick += step
    parts.append(
        f'<line x1="{left:.1f}" y1="{bottom:.1f}" x2="{right:.1f}" y2="{bottom:.1f}" stroke="#888"/>'
    )
    return parts


def bars(
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    lines: Sequence[Line] = (),
    percent: bool = False,
    stacked: bool = False,
    width: int = 900,
    height: int = 320,
) -> Markup:
    """Vertical bars per category: grouped, or stacked; reference lines across."""
    colored = _colored(series)
    left, right = 64.0, width - 16.0
    keys, top = _keys(colored, lines, percent, left, right)
    slanted = len(categories) > 8 or max((len(c) for c in categories), default=0) > 6
    bottom = height - (86.0 if slanted else 34.0)
    totals = (
        [sum(v or 0 for v in column) for column in zip(*(s.values for s in colored), strict=True)]
        if stacked and colored
        else [v or 0 for s in colored for v in s.values]
    )
    maximum, step = _nice(max([*totals, *(line.value for line in lines), 0.0]) * 1.08)
    body = _axis(left, right, top, bottom, maximum, step, percent)
    slot = (right - left) / max(len(categories), 1)
    group = slot * 0.72
    for index, category in enumerate(categories):
        x0 = left + slot * index + (slot - group) / 2
        base = bottom
        for number, s in enumerate(colored):
            value = s.values[index]
            if value is None:
                continue
            h = (bottom - top) * value / maximum
            if stacked:
                base -= h
                x, w, y = x0, group, base
            else:
                w = group / len(colored)
                x, y = x0 + w * number, bottom - h
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w - 1, 1):.1f}" height="{max(h, 0):.1f}" fill="{s.color}">'
                f"<title>{_e(category)} {_e(s.name)}: {_label(value, percent)}</title></rect>"
            )
        cx = left + slot * (index + 0.5)
        if slanted:  # at 45°, a label longer than the room under the axis runs off the chart
            shown = _fitted(category, (height - bottom - 14) * math.sqrt(2))
            tip = f"<title>{_e(category)}</title>" if shown != category else ""
            body.append(
                f'<text transform="translate({cx:.1f},{bottom + 10:.1f}) rotate(-45)" text-anchor="end" fill="#333">{tip}{_e(shown)}</text>'
            )
        else:
            body.append(
                f'<text x="{cx:.1f}" y="{bottom + 18:.1f}" text-anchor="middle" fill="#333">{_e(category)}</text>'
            )
    for line in lines:
        y = bottom - (bottom - top) * line.value / maximum
        body.append(
            f'<line x1="{left:.1f}" y1="{y:.1f}" x2="{right:.1f}" y2="{y:.1f}" stroke="{line.color}" stroke-width="2" stroke-dasharray="6 4"/>'
        )
    return _frame(width, height, title, keys + body)


def lines(
    title: str, months: Sequence[str], series: Sequence[Series], *, percent: bool = False, refs: Sequence[Line] = (),
    width: int = 440, height: int = 260,
) -> Markup:  # fmt: skip
    """A line per series over the months, with dots; reference lines across."""
    colored = _colored(series)
    left, right, bottom = 64.0, width - 20.0, height - 30.0
    keys, top = _keys(colored, refs, percent, left, right)
    values = [v for s in colored for v in s.values if v is not None]
    maximum, step = _nice(max([*values, *(r.value for r in refs), 0.0]) * 1.08)
    body = _axis(left, right, top, bottom, maximum, step, percent)
    gap = (right - left) / max(len(months) - 1, 1)
    for index, month in enumerate(months):
        if len(months) <= 6 or index % 2 == 0 or index == len(months) - 1:
            body.append(
                f'<text x="{left + gap * index:.1f}" y="{bottom + 18:.1f}" text-anchor="middle" fill="#333">{_e(month)}</text>'
            )
    for ref in refs:
        y = bottom - (bottom - top) * ref.value / maximum
        body.append(
            f'<line x1="{left:.1f}" y1="{y:.1f}" x2="{right:.1f}" y2="{y:.1f}" stroke="{ref.color}" stroke-width="1.5" stroke-dasharray="6 4"/>'
        )
    for s in colored:
        points = [
            (left + gap * i, bottom - (bottom - top) * v / maximum, v)
            for i, v in enumerate(s.values)
            if v is not None
        ]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
            body.append(f'<polyline points="{path}" fill="none" stroke="{s.color}" stroke-width="2"/>')
        for x, y, v in points:
            body.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{s.color}"><title>{_e(s.name)}: {_label(v, percent)}</title></circle>'
            )
    return _frame(width, height, title, keys + body)
