"""Hand-written SVG charts: stacked bars, lines and a heatmap, byte-identical for the same data.

No plotting library: every coordinate is formatted with a fixed number of decimals, series keep
the order they are given in, and every label is XML-escaped here (the charts are embedded in
the HTML as markup). Colours are the Okabe-Ito palette, readable with colour-blindness and in
greyscale print alongside the legend.
"""

from __future__ import annotations

import math
from html import escape

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif"'
WIDTH = 720
LEFT, RIGHT, TOP = 56, 28, 16


def _e(text: str) -> str:
    return escape(str(text), quote=True)


def _f(value: float) -> str:
    """A coordinate: one decimal, no negative zero."""
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def _clip(text: str, width: int) -> str:
    text = str(text)
    return text if len(text) <= width else text[:width - 1] + "…"


def nice_max(value: float) -> tuple[float, float]:
    """A round axis maximum at or above ``value`` and its tick step (5 ticks or fewer)."""
    if value <= 0:
        return 1.0, 0.25
    raw = value / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return step * math.ceil(value / step - 1e-9), step


def _open(title: str) -> list[str]:
    """The opening tag is a placeholder until :func:`_close` knows the size."""
    return ["<svg>", f"<title>{_e(title)}</title>"]


def _y_axis(top: float, plot_h: float, y_max: float, step: float, unit: str) -> list[str]:
    parts = []
    ticks = int(round(y_max / step))
    for i in range(ticks + 1):
        value = step * i
        y = top + plot_h - plot_h * value / y_max
        label = f"{value:,.0f}" if step >= 1 else f"{value:,.1f}" if step * 10 >= 1 else f"{value:,.2f}"
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_f(y)}" y2="{_f(y)}" stroke="#e3e3e3"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{_f(y + 4)}" text-anchor="end" fill="#444">{_e(label + unit)}</text>')
    return parts


def _x_labels(labels: list[str], x_of, baseline: float) -> list[str]:
    every = max(1, math.ceil(len(labels) / 14))
    return [f'<text x="{_f(x_of(i))}" y="{_f(baseline + 14)}" text-anchor="middle" fill="#444">{_e(label)}</text>'
            for i, label in enumerate(labels) if i % every == 0 or i == len(labels) - 1 and len(labels) < 14]


def _legend(names: list[str], top: float) -> tuple[list[str], float]:
    parts, x, y = [], float(LEFT), top
    for i, name in enumerate(names):
        label = _clip(name, 40)
        width = 18 + 6.2 * len(label) + 14
        if x + width > WIDTH - RIGHT and x > LEFT:
            x, y = float(LEFT), y + 16
        parts.append(f'<rect x="{_f(x)}" y="{_f(y - 9)}" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>')
        parts.append(f'<text x="{_f(x + 14)}" y="{_f(y)}" fill="#222">{_e(label)}</text>')
        x += width
    return parts, y + 10


def stacked_bars(labels: list[str], series: list[tuple[str, list[float]]], *, title: str,
                 unit: str = "", height: int = 240) -> str:
    """Vertical bars, one per label, stacked by series (e.g. posts per month by kind)."""
    plot_h = height - TOP - 28
    totals = [sum(values[i] for _, values in series) for i in range(len(labels))]
    y_max, step = nice_max(max(totals, default=0))
    slot = (WIDTH - LEFT - RIGHT) / max(1, len(labels))
    bar = max(1.0, slot * 0.8)
    parts = _open(title)
    parts += _y_axis(TOP, plot_h, y_max, step, unit)
    for i in range(len(labels)):
        y = TOP + plot_h
        for k, (name, values) in enumerate(series):
            h = plot_h * values[i] / y_max
            if h <= 0:
                continue
            y -= h
            parts.append(f'<rect x="{_f(LEFT + slot * i + (slot - bar) / 2)}" y="{_f(y)}" width="{_f(bar)}" '
                         f'height="{_f(h)}" fill="{PALETTE[k % len(PALETTE)]}"><title>{_e(labels[i])} '
                         f'{_e(name)}: {values[i]:,.0f}</title></rect>')
    parts += _x_labels(labels, lambda i: LEFT + slot * i + slot / 2, TOP + plot_h)
    legend, bottom = _legend([name for name, _ in series], TOP + plot_h + 36)
    return _close(parts + legend, bottom + 6)


def lines(labels: list[str], series: list[tuple[str, list[float | None]]], *, title: str,
          unit: str = "%", height: int = 240, positions: list[float] | None = None,
          low: list[bool] | None = None) -> str:
    """One line per series over the labels (e.g. a code's share of each month's posts).

    ``positions`` place the labels on a true axis (e.g. months since the first, so a gap of empty
    months takes its room); default: evenly. Points where ``low`` is true (a month with too few
    posts to trust a share) are drawn hollow and the line is not drawn through them.
    """
    plot_h = height - TOP - 28
    peak = max((v for _, values in series for v in values if v is not None), default=0)
    y_max, step = nice_max(peak)
    where = positions if positions is not None else list(range(len(labels)))
    first, last = (min(where), max(where)) if where else (0, 0)
    span = (WIDTH - LEFT - RIGHT) / (last - first) if last > first else 0.0
    weak = low or [False] * len(labels)

    def x_of(i: int) -> float:
        return LEFT + span * (where[i] - first) if last > first else (LEFT + WIDTH - RIGHT) / 2

    parts = _open(title)
    parts += _y_axis(TOP, plot_h, y_max, step, unit)
    for k, (name, values) in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        run: list[tuple[float, float]] = []
        for i, v in enumerate([*values, None]):
            if v is not None and not weak[i]:
                run.append((x_of(i), TOP + plot_h - plot_h * v / y_max))
                continue
            if len(run) > 1:
                path = " ".join(f"{_f(x)},{_f(y)}" for x, y in run)
                parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
            run = []
        for i, v in enumerate(values):
            if v is None:
                continue
            fill = "#fff" if weak[i] else colour
            parts.append(f'<circle cx="{_f(x_of(i))}" cy="{_f(TOP + plot_h - plot_h * v / y_max)}" r="2.5" '
                         f'fill="{fill}" stroke="{colour}"><title>{_e(name)}: {v:.1f}{_e(unit)}'
                         f'{" (few posts)" if weak[i] else ""}</title></circle>')
    parts += _x_labels(labels, x_of, TOP + plot_h)
    legend, bottom = _legend([name for name, _ in series], TOP + plot_h + 36)
    return _close(parts + legend, bottom + 6)


def month_positions(months: list) -> list[float]:
    """Months (dates) as positions on a true time axis: months since the first."""
    if not months:
        return []
    base = months[0].year * 12 + months[0].month
    return [float(m.year * 12 + m.month - base) for m in months]


def _shade(value: float, top: float) -> str:
    """White (0) to dark blue (``top``), linear in each channel."""
    t = min(1.0, max(0.0, value / top))
    low, high = (247, 251, 255), (8, 48, 107)
    return "#" + "".join(f"{round(a + (b - a) * t):02x}" for a, b in zip(low, high))


def heatmap(rows: list[str], columns: list[str], values: list[list[float | None]], *, title: str) -> str:
    """A grid of percentages with the value written in each cell; None is blank.

    The shade runs from white (0%) to dark blue at the grid's largest value (rounded up), which
    a key under the grid states, so small differences stay visible.
    """
    peak = max((v for row in values for v in row if v is not None), default=0)
    top, _ = nice_max(peak)
    label_w = min(220.0, 14 + 6.8 * max((len(_clip(r, 30)) for r in rows), default=4))
    cell = max(14.0, min(40.0, (WIDTH - label_w - RIGHT) / max(1, len(columns))))
    head = 14 + 6.8 * max((len(_clip(c, 24)) for c in columns), default=4) * 0.71
    parts = _open(title)
    for j, name in enumerate(columns):
        x = label_w + cell * j + cell / 2
        parts.append(f'<text transform="translate({_f(x)},{_f(head)}) rotate(-45)" fill="#222">'
                     f'{_e(_clip(name, 24))}</text>')
    for i, name in enumerate(rows):
        y = head + 8 + cell * i
        parts.append(f'<text x="{_f(label_w - 6)}" y="{_f(y + cell / 2 + 4)}" text-anchor="end" fill="#222">'
                     f'{_e(_clip(name, 30))}</text>')
        for j, value in enumerate(values[i]):
            parts += _cell(label_w + cell * j, y, cell, value, top, f"{name} × {columns[j]}")
    bottom = head + 8 + cell * len(rows) + 6
    for k in range(6):
        parts.append(f'<rect x="{_f(label_w + 14 * k)}" y="{_f(bottom)}" width="14" height="10" '
                     f'fill="{_shade(top * k / 5, top)}" stroke="#ddd"/>')
    parts.append(f'<text x="{_f(label_w + 92)}" y="{_f(bottom + 9)}" fill="#444">0% to {top:g}% '
                 f'(darkest)</text>')
    width = max(WIDTH, label_w + cell * len(columns) + head + RIGHT)
    return _close(parts, bottom + 18, width)


def _cell(x: float, y: float, cell: float, value: float | None, top: float, name: str) -> list[str]:
    fill = "#ffffff" if value is None else _shade(value, top)
    tip = "no data" if value is None else f"{value:.1f}%"
    parts = [f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(cell - 1)}" height="{_f(cell - 1)}" fill="{fill}" '
             f'stroke="#ddd"><title>{_e(name)}: {tip}</title></rect>']
    if value is not None and cell >= 20:
        ink = "#fff" if value > 0.55 * top else "#222"
        parts.append(f'<text x="{_f(x + cell / 2 - 0.5)}" y="{_f(y + cell / 2 + 3.5)}" text-anchor="middle" '
                     f'font-size="9" fill="{ink}">{value:.0f}</text>')
    return parts


def _close(parts: list[str], height: float, width: float = WIDTH) -> str:
    """Write the opening tag now that the size is known, and close the element."""
    parts[0] = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_f(width)} {_f(height)}" '
                f'style="max-width:{_f(width)}px" width="100%" role="img" {FONT} font-size="11">')
    return "\n".join(parts + ["</svg>"])
