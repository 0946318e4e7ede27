"""Small charts as inline SVG for the HTML report: no script, no external asset, crisp when printed.

Like `charts.py` (the digests' PNGs) they take plain labels and numbers, never a report, so they are tested
on their own; output is deterministic. Text is escaped here (labels can be council names), and the result
is `Markup` so the autoescaping template embeds it as it is. Each chart is an `<svg role="img">` with an
`aria-label` and a `<title>` per bar or point (the value, as a tooltip on screen). `figure` puts a chart
in a `<figure>` followed by `data_table`, the same figures as a captioned table (WCAG 1.1.1: the text
alternative of a chart is its data), so nothing is only in a picture. No `xmlns`: inline SVG in HTML needs none, and the page
holds no URL at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from desk.rendering.charts import BLUE, GREEN

ORANGE = "#ca5a00"  # darker than GOV.UK orange: 4.2:1 on white (WCAG 1.4.11 asks 3:1 of a bar)
INK, GRID, MUTED = "#0b0c0c", "#b1b4b6", "#505a5f"
WIDTH = 640
LABEL_LIMIT = 32  # characters of a bar label before "…" (the full label is in the bar's tooltip)
__all__ = ["BLUE", "GREEN", "ORANGE", "Series", "data_table", "figure", "nothing_to_plot", "hbars", "line", "vbars"]


@dataclass(frozen=True)
class Series:
    name: str
    colour: str
    values: tuple[float | None, ...]  # one per label; None = nothing to measure (shown as "n/a")


def hbars(title: str, labels: Sequence[str], series: Sequence[Series], *, top: int | None = None,
          suffix: str = "", empty: str = "Nothing to show") -> Markup:
    """Horizontal grouped bars, one group per label (long labels fit on the left); `top` fixes the scale."""
    scale = _scale(series, top)
    if not labels or scale is None:
        return _empty(title, empty)
    left, right, head, bar = 210, 48, 48, 14
    group = bar * len(series) + 10
    height = head + group * len(labels) + 28
    plot = WIDTH - left - right
    out = _open(title, height) + _legend(series)
    for tick in _ticks(scale):
        x = left + plot * tick / scale
        out.append(_line(x, head - 4, x, height - 24, INK if tick == 0 else GRID))
        out.append(_text(x, height - 10, f"{_number(tick)}{suffix}", anchor="middle"))
    for index, label in enumerate(labels):
        y0 = head + index * group
        out.append(_text(left - 8, y0 + group / 2, _clip(label), anchor="end", tip=label))
        for offset, one in enumerate(series):
            value, y = one.values[index], y0 + offset * bar
            if value is None:
                out.append(_text(left + 4, y + bar - 3, "n/a", colour=MUTED))
                continue
            width = plot * min(value, scale) / scale
            tip = f"{label}, {one.name}: {_number(value)}{suffix}"
            out.append(_rect(left, y, width, bar - 2, one.colour, tip))
            out.append(_text(left + width + 4, y + bar - 3, f"{_number(value)}{suffix}"))
    return _close(out)


def vbars(title: str, labels: Sequence[str], series: Sequence[Series], *, top: int | None = None,
          suffix: str = "", empty: str = "Nothing to show") -> Markup:
    """Vertical grouped bars, one group per label (weeks, age buckets), each bar with its value on top."""
    scale = _scale(series, top)
    if not labels or scale is None:
        return _empty(title, empty)
    left, right, head, foot, height = 44, 16, 48, 40, 300
    bottom, plot = height - foot, WIDTH - left - right
    out = _open(title, height) + _legend(series)
    _y_axis(out, scale, suffix, left, WIDTH - right, head, bottom)
    slot = plot / len(labels)
    bar = max(2.0, min(36.0, slot * 0.7 / len(series)))
    for index, label in enumerate(labels):
        centre = left + slot * (index + 0.5)
        for offset, one in enumerate(series):
            value, x = one.values[index], centre - bar * len(series) / 2 + offset * bar
            if value is None:
                out.append(_text(x + bar / 2, bottom - 4, "n/a", anchor="middle", colour=MUTED))
                continue
            if value <= 0:
                continue  # no bar and no "0" above it: an empty slot reads as nothing, the table says 0
            y = bottom - (bottom - head) * min(value, scale) / scale
            tip = f"{label}, {one.name}: {_number(value)}{suffix}"
            out.append(_rect(x, y, bar - 1, bottom - y, one.colour, tip))
            out.append(_text(x + bar / 2, y - 4, f"{_number(value)}{suffix}", anchor="middle"))
        out.append(_text(centre, bottom + 16, _clip(label, 16), anchor="middle", tip=label))
    return _close(out)


def line(title: str, labels: Sequence[str], series: Sequence[Series], *, top: int | None = 100,
         suffix: str = "%", empty: str = "Nothing to show") -> Markup:
    """A line per series across the labels (the weekly trend); a None breaks the line, it is not a zero."""
    scale = _scale(series, top)
    if not labels or scale is None:
        return _empty(title, empty)
    left, right, head, foot, height = 44, 24, 48, 40, 260
    bottom, plot = height - foot, WIDTH - left - right
    out = _open(title, height) + _legend(series)
    _y_axis(out, scale, suffix, left, WIDTH - right, head, bottom)
    step = plot / len(labels)
    for index, label in enumerate(labels):
        x = left + step * (index + 0.5)
        out.append(_text(x, bottom + 16, _clip(label, 16), anchor="middle", tip=label))
    for one in series:
        points = [(i, left + step * (i + 0.5), bottom - (bottom - head) * min(v, scale) / scale, v)
                  for i, v in enumerate(one.values) if v is not None]
        runs: list[list[str]] = []
        for (i, x, y, _), previous in zip(points, [None, *points], strict=False):
            if previous is None or previous[0] != i - 1:
                runs.append([])
            runs[-1].append(f"{x:.1f},{y:.1f}")
        out += [f'<polyline points="{" ".join(run)}" fill="none" stroke="{one.colour}" stroke-width="2"/>'
                for run in runs if len(run) > 1]
        for i, x, y, value in points:
            tip = escape(f"{labels[i]}, {one.name}: {_number(value)}{suffix}")
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{one.colour}">'
                       f"<title>{tip}</title></circle>")
            out.append(_text(x, y - 8, f"{_number(value)}{suffix}", anchor="middle"))
    return _close(out)


def nothing_to_plot(labels: Sequence[str], series: Sequence[Series], top: int | None = None) -> bool:
    """What makes a chart draw its empty frame instead of bars or lines."""
    return not labels or _scale(series, top) is None


def data_table(title: str, labels: Sequence[str], series: Sequence[Series], *, suffix: str = "",
               label_header: str = "") -> Markup:
    """The chart's figures as a table: one row per label, one column per series ("n/a" where None)."""
    head = "".join(f'<th scope="col">{escape(one.name)}</th>' for one in series)
    rows = "".join(
        f'<tr><th scope="row">{escape(label)}</th>'
        + "".join(f"<td>{'n/a' if one.values[i] is None else _number(one.values[i]) + suffix}</td>"
                  for one in series) + "</tr>"
        for i, label in enumerate(labels))
    return Markup(f'<table class="chart-data"><caption>{escape(title)}: the figures</caption>'
                  f'<thead><tr><th scope="col">{escape(label_header)}</th>{head}</tr></thead>'
                  f"<tbody>{rows}</tbody></table>")


def figure(chart: Markup, title: str, table: Markup | None, *, empty: str = "") -> Markup:
    """A chart with its caption, and its figures as a table after it (none for an empty chart)."""
    said = (f"{escape(title)}. The same figures follow as a table." if table is not None
            else f"{escape(title)}: {escape(empty)}.")
    return Markup(f"<figure>{chart}<figcaption>{said}</figcaption></figure>{table or ''}")


# -- pieces ----------------------------------------------------------------------------------------


def _scale(series: Sequence[Series], top: int | None) -> int | None:
    """The axis maximum: `top`, or a round number just above the data; None when there is nothing to draw."""
    highest = max((v for one in series for v in one.values if v is not None), default=None)
    if top is not None:
        return top if highest is not None else None
    if highest is None or highest <= 0:
        return None
    for nice in (1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 25, 30, 40, 50, 60, 80, 100):
        if highest <= nice:
            return nice
    magnitude = 10 ** (len(str(int(highest))) - 1)
    return int(-(-highest // magnitude) * magnitude)


def _ticks(scale: int) -> range:
    """About five gridlines, each a whole number."""
    step = next((s for s in (1, 2, 5, 10, 20, 25, 50, 100) if scale / s <= 5), max(1, scale // 5))
    return range(0, scale + 1, step)


def _y_axis(out: list[str], scale: int, suffix: str, left: float, right: float, head: float,
            bottom: float) -> None:
    for tick in _ticks(scale):
        y = bottom - (bottom - head) * tick / scale
        out.append(_line(left, y, right, y, INK if tick == 0 else GRID))
        out.append(_text(left - 6, y + 4, f"{_number(tick)}{suffix}", anchor="end"))


def _open(title: str, height: int) -> list[str]:
    label = escape(title)
    return [f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
            f'role="img" aria-label="{label}" font-family="Arial, Helvetica, sans-serif" font-size="12">',
            f"<title>{label}</title>", _text(0, 16, title, size=15, weight="bold")]


def _close(parts: list[str]) -> Markup:
    return Markup("\n".join([*parts, "</svg>"]))  # every text part went through escape()


def _empty(title: str, message: str) -> Markup:
    """A chart with nothing to plot still has its frame, title and a sentence saying why."""
    out = _open(title, 120)
    out.append(f'<rect x="0.5" y="28.5" width="{WIDTH - 1}" height="90" fill="none" stroke="{GRID}"/>')
    out.append(_text(WIDTH / 2, 78, message, anchor="middle", colour=MUTED, size=14))
    return _close(out)


def _legend(series: Sequence[Series]) -> list[str]:
    out, x = [], 0.0
    for one in series:
        out.append(f'<rect x="{x:.1f}" y="26" width="10" height="10" fill="{one.colour}"/>')
        out.append(_text(x + 14, 35, one.name))
        x += 24 + 7 * len(one.name)
    return out


def _rect(x: float, y: float, width: float, height: float, colour: str, tip: str) -> str:
    return (f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(width, 0):.1f}" height="{max(height, 0):.1f}" '
            f'fill="{colour}"><title>{escape(tip)}</title></rect>')


def _line(x1: float, y1: float, x2: float, y2: float, colour: str) -> str:
    return f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}"/>'


def _text(x: float, y: float, text: str, *, anchor: str = "start", colour: str = INK, size: int | None = None,
          weight: str | None = None, tip: str | None = None) -> str:
    extra = (f' font-size="{size}"' if size else "") + (f' font-weight="{weight}"' if weight else "")
    title = f"<title>{escape(tip)}</title>" if tip is not None and tip != text else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{colour}"{extra}>'
            f"{title}{escape(text)}</text>")


def _clip(label: str, limit: int = LABEL_LIMIT) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
