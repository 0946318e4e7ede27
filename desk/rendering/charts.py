"""Small bar charts as PNG bytes, drawn with Pillow: no external fonts, no network, no matplotlib.

The charts take plain labels and numbers (not digests), so they are tested on their own. Output is
deterministic for the same input, which keeps tests and previews reproducible.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

SIZE = (640, 320)
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 48, 40  # plot margins: axis labels left, title and legend on top
BACKGROUND, INK, GRID = "#ffffff", "#0b0c0c", "#dddddd"
BLUE, GREEN = "#1d70b8", "#00703c"  # GOV.UK blue and green: the councils' own palette


@dataclass(frozen=True)
class Series:
    name: str
    colour: str
    values: tuple[int | None, ...]  # one per group; None = nothing to measure (drawn as "n/a")


Font = ImageFont.ImageFont | ImageFont.FreeTypeFont


def _font(size: int) -> Font:
    """Pillow's own default font (FreeType, Pillow >= 10.1) at `size` px: nothing to install or fetch."""
    return ImageFont.load_default(size=size)


def bars(title: str, groups: Sequence[str], series: Sequence[Series], *, top: int | None = None,
         suffix: str = "", empty: str = "No requests this week") -> bytes:
    """Grouped bars, one group per label; `top` fixes the scale (100 for per cent), else it fits the data.

    With no value above zero, the plot says `empty` instead of drawing a flat line of nothing.
    """
    image = Image.new("RGB", SIZE, BACKGROUND)
    draw = ImageDraw.Draw(image)
    small, large = _font(12), _font(15)
    draw.text((LEFT, 10), title, font=large, fill=INK)
    width, height = SIZE
    plot = (LEFT, TOP, width - RIGHT, height - BOTTOM)
    highest = max((v for s in series for v in s.values if v is not None), default=0)
    if not groups or (highest <= 0 and top is None):
        draw.text(((plot[0] + plot[2]) / 2, (plot[1] + plot[3]) / 2), empty, font=large, fill=INK, anchor="mm")
        return _png(image)
    _legend(draw, series, small)
    scale = top or _nice(highest)
    _axes(draw, plot, scale, suffix, small)
    slot = (plot[2] - plot[0]) / len(groups)
    bar = max(2.0, min(28.0, slot * 0.7 / len(series)))
    for index, label in enumerate(groups):
        centre = plot[0] + slot * (index + 0.5)
        left = centre - bar * len(series) / 2
        for offset, one in enumerate(series):
            value = one.values[index]
            x0 = left + offset * bar
            if value is None:
                draw.text((x0 + bar / 2, plot[3] - 2), "n/a", font=small, fill=INK, anchor="ms")
                continue
            y0 = plot[3] - (plot[3] - plot[1]) * min(value, scale) / scale
            if value > 0:
                draw.rectangle((x0, y0, x0 + bar - 1, plot[3]), fill=one.colour)
        draw.text((centre, plot[3] + 6), _fit(draw, label, slot - 4, small), font=small, fill=INK, anchor="ma")
    return _png(image)


def _legend(draw: ImageDraw.ImageDraw, series: Sequence[Series], font: Font) -> None:
    x = SIZE[0] - RIGHT
    for one in reversed(series):
        x -= draw.textlength(one.name, font=font)
        draw.text((x, 32), one.name, font=font, fill=INK, anchor="lm")
        x -= 16
        draw.rectangle((x, 27, x + 10, 37), fill=one.colour)
        x -= 14


def _axes(draw: ImageDraw.ImageDraw, plot: tuple[float, float, float, float], scale: int, suffix: str,
          font: Font) -> None:
    left, top, right, bottom = plot
    step = _step(scale)
    for tick in range(0, scale + 1, step):
        y = bottom - (bottom - top) * tick / scale
        draw.line((left, y, right, y), fill=GRID if tick else INK)
        draw.text((left - 6, y), f"{tick}{suffix}", font=font, fill=INK, anchor="rm")


def _nice(highest: int) -> int:
    """A scale just above the data that divides into whole ticks: 3 -> 4, 7 -> 8, 13 -> 15, 41 -> 50."""
    for top in (1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 25, 30, 40, 50, 60, 80, 100):
        if highest <= top:
            return top
    magnitude = 10 ** (len(str(highest)) - 1)
    return -(-highest // magnitude) * magnitude


def _step(scale: int) -> int:
    """About five gridlines, each a whole number."""
    return next((s for s in (1, 2, 5, 10, 20, 25, 50, 100) if scale / s <= 5), max(1, scale // 5))


def _fit(draw: ImageDraw.ImageDraw, label: str, room: float, font: Font) -> str:
    """The label, cut with "…" to fit `room` pixels (council names are long, slots are not)."""
    if draw.textlength(label, font=font) <= room:
        return label
    while label and draw.textlength(label + "…", font=font) > room:
        label = label[:-1]
    return label.rstrip() + "…" if label else ""


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
