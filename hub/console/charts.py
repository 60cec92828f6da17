"""Bar charts drawn on the server as SVG: no script, no library.

Each chart is decorative beside the table of its numbers (the table is
what assistive technology and spreadsheets read): the SVG carries a title
naming what it shows, and each bar a ``<title>`` with its value for a
pointer's hover.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup
from markupsafe import escape

WIDTH, HEIGHT = 720, 220
LEFT, BOTTOM, TOP = 48, 28, 12
COLOURS = ("#0b6e4f", "#c27c0e")


@dataclass(frozen=True)
class Bars:
    """Labels along the bottom and one or two series of values, each with its name."""

    labels: list[str]
    series: list[tuple[str, list[Decimal | int]]]


def _ceiling(value: Decimal) -> Decimal:
    """A round top for the axis: 1, 2 or 5 times a power of ten, at least ``value``."""
    if value <= 0:
        return Decimal(1)
    power = Decimal(10) ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def bar_chart(bars: Bars, title: str, write: Callable[[Decimal], str] = str) -> Markup:
    """An SVG bar chart of ``bars``; grouped bars when there are two series.

    ``write`` writes a value for people (the axis' top and each bar's hover title).
    """
    count = max(len(bars.labels), 1)
    top = _ceiling(max((Decimal(v) for _, values in bars.series for v in values), default=0))
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    slot = plot_w / count
    bar_w = max(slot * 0.8 / max(len(bars.series), 1), 0.5)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - 8}" y2="{TOP + plot_h}" '
        'stroke="#8a94a3"/>',
        f'<text x="{LEFT - 6}" y="{TOP + 10}" text-anchor="end" class="axis">'
        f"{escape(write(top))}</text>",
        f'<text x="{LEFT - 6}" y="{TOP + plot_h}" text-anchor="end" class="axis">0</text>',
    ]
    for s, (name, values) in enumerate(bars.series):
        for i, value in enumerate(values):
            height = float(Decimal(value) / top) * plot_h if value else 0
            x = LEFT + i * slot + slot * 0.1 + s * bar_w
            parts.append(
                f'<rect x="{x:.1f}" y="{TOP + plot_h - height:.1f}" width="{bar_w:.1f}" '
                f'height="{height:.1f}" fill="{COLOURS[s % 2]}"><title>{escape(bars.labels[i])}'
                f" · {escape(name)}: {escape(write(Decimal(value)))}</title></rect>"
            )
    step = max(1, count // 8)
    for i in range(0, count, step):
        x = LEFT + i * slot + slot / 2
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - 8}" text-anchor="middle" class="axis">'
            f"{escape(bars.labels[i])}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
