"""Server-side SVG charts: pure functions from numbers to SVG markup, no script, no style.

Colours come from CSS classes (`fill-critical`, `fill-accent`, ... defined in app.css on
the theme variables) so the charts follow light and dark mode. Every chart is an
`<svg role="img">` labelled by its `<title>` and `<desc>`; the pages also show the numbers
as text. All text is escaped and the output is well-formed XML. The SVG has a viewBox and
width 100%: it scales with its box, down to a phone's width.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from oncallnova.transport.web.render import duration

WIDTH = 480
WIDE = 600
SVG_NS = "http://www.w3.org/2000/svg"
LEFT, RIGHT, TOP, BOTTOM = 52, 10, 12, 30
DASH = "\u2013"  # marks a category without data
ROW, LABEL_WIDTH, LABEL_CHARS = 30, 180, 16


@dataclass(frozen=True)
class Series:
    """One coloured part of the bars: its name, a value per category (None: no data) and
    its colour class."""

    name: str
    values: Sequence[float | None]
    cls: str = "fill-accent"


def _safe(markup: str) -> Markup:
    """Markup built here: every text in it went through `_e`."""
    return Markup(markup)  # noqa: S704 - all text is escaped by _e


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _n(x: float) -> str:
    """A coordinate or number, short: 12, 12.5, 0.25."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def short(label: str, limit: int = LABEL_CHARS) -> str:
    """`label` cut to `limit` characters with an ellipsis."""
    return label if len(label) <= limit else label[: limit - 1] + "…"


def nice_step(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten that is at least `value`."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for multiple in (1, 2, 5, 10):
        if multiple * power >= value * (1 - 1e-9):
            return float(multiple * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def axis(highest: float, *, seconds: bool = False) -> tuple[float, list[tuple[float, str]]]:
    """The top of a value axis holding `highest`, and its ticks (value, label): about four
    steps; counts step by whole numbers, seconds in s, m, h or d."""
    unit, suffix = 1.0, ""
    if seconds:
        unit, suffix = next(
            (u, s)
            for u, s in ((86_400, "d"), (3_600, "h"), (60, "m"), (1, "s"))
            if highest >= 2 * u or u == 1
        )
    step = nice_step(highest / unit / 4)
    if not seconds:
        step = max(step, 1.0)
    top = max(step, step * math.ceil(highest / unit / step - 1e-9))
    marks = [(i * step * unit, _n(i * step) + suffix) for i in range(round(top / step) + 1)]
    return top * unit, marks


def value_text(value: float, *, seconds: bool = False) -> str:
    return duration(value) if seconds else _n(value)


def _open(chart_id: str, title: str, desc: str, width: int, height: int, cls: str) -> str:
    ident = _e(chart_id)
    return (
        f'<svg xmlns="{SVG_NS}" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'class="{_e(cls)}" aria-labelledby="{ident}-title {ident}-desc">'
        f'<title id="{ident}-title">{_e(title)}</title><desc id="{ident}-desc">{_e(desc)}</desc>'
    )


def _no_data(chart_id: str, title: str, desc: str, width: int, message: str) -> Markup:
    return _safe(
        _open(chart_id, title, desc, width, 60, "chart-svg chart-empty")
        + f'<text x="{width // 2}" y="34" text-anchor="middle">{_e(message)}</text></svg>'
    )


def stacked_bars(
    chart_id: str,
    title: str,
    desc: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    seconds: bool = False,
    width: int = WIDTH,
    height: int = 220,
    max_labels: int = 8,
    label: Callable[[int], bool] | None = None,
) -> Markup:
    """Vertical bars, one per category, each stacking the series' values bottom-up.

    Heights are proportional to the values (the axis starts at zero). At most `max_labels`
    category names are written under the bars (every k-th), or those where `label(i)`.
    A category with no value in any series shows a dash."""
    if not categories:
        return _no_data(chart_id, title, desc, width, "No data")
    totals = [sum(s.values[i] or 0 for s in series) for i in range(len(categories))]
    top, marks = axis(max(totals, default=0), seconds=seconds)
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    base = TOP + plot_h
    band = plot_w / len(categories)
    bar = max(band * 0.72, 1.0)
    out = [_open(chart_id, title, desc, width, height, "chart-svg")]
    out.append('<g class="ticks">')
    for value, text in marks:
        y = base - value / top * plot_h
        out.append(
            f'<line class="grid-line" x1="{LEFT}" x2="{width - RIGHT}" y1="{_n(y)}" y2="{_n(y)}"/>'
            f'<text x="{LEFT - 6}" y="{_n(y + 4)}" text-anchor="end">{_e(text)}</text>'
        )
    out.append('</g><g class="bars">')
    for i, category in enumerate(categories):
        x = LEFT + i * band + (band - bar) / 2
        y = base
        if all(s.values[i] is None for s in series):
            out.append(
                f'<text x="{_n(x + bar / 2)}" y="{_n(base - 4)}" text-anchor="middle">{DASH}</text>'
            )
        for s in series:
            value = s.values[i] or 0
            if value <= 0:
                continue
            h = value / top * plot_h
            y -= h
            tip = f"{category} · {s.name}: {value_text(value, seconds=seconds)}"
            out.append(
                f'<rect class="{_e(s.cls)}" x="{_n(x)}" y="{_n(y)}" width="{_n(bar)}" '
                f'height="{_n(h)}" data-value="{_n(value)}"><title>{_e(tip)}</title></rect>'
            )
    out.append('</g><g class="labels">')
    every = max(1, math.ceil(len(categories) / max(1, max_labels)))
    for i, category in enumerate(categories):
        shown = label(i) if label is not None else i % every == 0
        if shown:
            x, anchor = LEFT + i * band + band / 2, "middle"
            if x > width - RIGHT - 24:  # keep the last label inside the box
                x, anchor = width - 2, "end"
            out.append(
                f'<text x="{_n(x)}" y="{height - 8}" text-anchor="{anchor}">{_e(category)}</text>'
            )
    out.append(f'</g><line class="axis" x1="{LEFT}" x2="{width - RIGHT}" y1="{_n(base)}" ')
    out.append(f'y2="{_n(base)}"/></svg>')
    return _safe("".join(out))


def hbars(
    chart_id: str,
    title: str,
    desc: str,
    rows: Sequence[tuple[str, float]],
    *,
    cls: str = "fill-accent",
    seconds: bool = False,
    width: int = WIDTH,
    empty: str = "No data",
) -> Markup:
    """Horizontal bars, one row per (label, value), lengths proportional to the values;
    labels longer than 16 characters are cut (the full label is the bar's tooltip)."""
    if not rows:
        return _no_data(chart_id, title, desc, width, empty)
    highest = max((v for _, v in rows), default=0) or 1
    room = width - LABEL_WIDTH - 70
    height = TOP + ROW * len(rows) + 4
    out = [_open(chart_id, title, desc, width, height, "chart-svg")]
    for i, (name, value) in enumerate(rows):
        y = TOP + i * ROW
        length = max(value, 0) / highest * room
        text = value_text(value, seconds=seconds)
        out.append(
            f'<g class="hbar"><title>{_e(name)}: {_e(text)}</title>'
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 19}" text-anchor="end">{_e(short(name))}</text>'
            f'<rect class="{_e(cls)}" x="{LABEL_WIDTH}" y="{y + 4}" width="{_n(length)}" '
            f'height="{ROW - 8}" data-value="{_n(value)}"/>'
            f'<text class="value" x="{_n(LABEL_WIDTH + length + 6)}" y="{y + 19}">{_e(text)}</text>'
            "</g>"
        )
    out.append(
        f'<line class="axis" x1="{LABEL_WIDTH}" x2="{LABEL_WIDTH}" y1="{TOP}" '
        f'y2="{height - 4}"/></svg>'
    )
    return _safe("".join(out))


def legend(series: Sequence[Series], label: str = "Legend") -> Markup:
    """The visible legend of a chart: a swatch in each series' colour and its name."""
    items = "".join(
        f'<li><span class="chart-swatch {_e(s.cls)}" aria-hidden="true"></span>{_e(s.name)}</li>'
        for s in series
    )
    return _safe(f'<ul class="chart-legend" aria-label="{_e(label)}">{items}</ul>')
