"""Horizontal grouped bar charts drawn with Pillow: PNG bytes at twice their display size.

The digest's only chart shape: one row per label (first on top), one bar per series in each
row, the value at the end of each bar, a legend above, whole-number or "nice" ticks below with
light vertical grid lines. Sizes are in display pixels (the e-mail shows a chart 640 px wide)
and drawn at `SCALE` times that, so text and edges stay sharp on high-DPI screens. Pillow
(bundled FreeType, no numpy) loads inside `draw_bars`; the tick arithmetic is pure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from io import BytesIO

from chalicelib.digest.fonts import font_for

__all__ = ["draw_bars", "nice_ticks", "format_number", "WIDTH", "SCALE"]

WIDTH, SCALE = 640, 2  # display width in px; the PNG is WIDTH * SCALE wide
ROW, TOP, BOTTOM, PAD = 40, 30, 30, 10  # display px: one label's row, legend, axis, margins
LABEL_SIZE, VALUE_SIZE = 12, 11
MAX_LABEL_SHARE = 0.4  # of the width, for the row labels (longer ones are shortened)
INK, AXIS, GRID, BACKGROUND = "#111827", "#374151", "#e5e7eb", "#ffffff"
VALUE_INK = "#374151"


def format_number(value: float, unit: str = "") -> str:
    """`6` -> "6", `6.66` -> "6.7", with `unit` appended ("6.7 h")."""
    if value == int(value):
        return f"{int(value)}{unit}"
    return f"{value:.1f}{unit}"


def nice_ticks(top: float, integer: bool, most: int = 7) -> list[float]:
    """Ticks from 0 up to at most `top` with a 1/2/2.5/5 x 10^n step, at most `most` of them.

    `integer` (counts) keeps steps whole. `top` <= 0 gives [0, 1].
    """
    if top <= 0:
        return [0.0, 1.0]
    raw = top / (most - 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    if integer:
        step = max(1.0, float(math.ceil(step)))
    count = int(math.floor(top / step + 1e-9))
    return [round(i * step, 10) for i in range(count + 1)]


def _ellipsize(text: str, size: int, width: float) -> str:
    if font_for(text, size).getlength(text) <= width:
        return text
    while text and font_for(text, size).getlength(text + "...") > width:
        text = text[:-1]
    return text + "..."


def draw_bars(
    labels: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[float]]],
    unit: str = "",
) -> bytes:
    """Horizontal grouped bars as PNG bytes; `series` = (legend, colour, values per label).

    Zero values get no value label; counts (no `unit`) get whole-number ticks.
    """
    from PIL import Image, ImageDraw

    s = SCALE
    label_size, value_size = LABEL_SIZE * s, VALUE_SIZE * s
    width = WIDTH * s
    height = (TOP + ROW * max(1, len(labels)) + BOTTOM) * s
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)

    shown = [_ellipsize(label, label_size, width * MAX_LABEL_SHARE) for label in labels]
    label_width = max((font_for(t, label_size).getlength(t) for t in shown), default=0)
    left = PAD * s + math.ceil(label_width) + 8 * s
    right = width - PAD * s
    plot = right - left
    top, bottom = TOP * s, height - BOTTOM * s

    values = [max(0.0, float(v)) for _, _, vs in series for v in vs]
    largest = max(values, default=0.0)
    axis_max = largest * 1.15 if largest > 0 else 1.0
    gap = 4 * s
    for value in values:  # room for each value's label right of its bar
        text = format_number(value, unit)
        need = font_for(text, value_size).getlength(text) + gap
        if value > 0 and need < plot:
            axis_max = max(axis_max, value * plot / (plot - need))

    def x(value: float) -> int:
        return left + round(plot * value / axis_max)

    # grid and ticks
    tick_font = font_for("0", value_size)
    for tick in nice_ticks(axis_max, integer=not unit):
        at = x(tick)
        draw.line([(at, top), (at, bottom)], fill=GRID, width=s)
        draw.line([(at, bottom), (at, bottom + 4 * s)], fill=AXIS, width=s)
        draw.text((at, bottom + 6 * s), f"{tick:g}", fill=INK, font=tick_font, anchor="mt")
    draw.line([(left, bottom), (right, bottom)], fill=AXIS, width=s)

    # bars, values and row labels
    row = ROW * s
    bar = row * 0.8 / max(1, len(series))
    for index, label in enumerate(shown):
        middle = top + row * index + row / 2
        first = middle - bar * len(series) / 2
        for number, (_, colour, series_values) in enumerate(series):
            value = max(0.0, float(series_values[index]))
            y0 = round(first + bar * number)
            y1 = round(first + bar * (number + 1))
            if value > 0:
                draw.rectangle([left, y0, max(left, x(value) - 1), y1 - 1], fill=colour)
                text = format_number(value, unit)
                font = font_for(text, value_size)
                draw.text((x(value) + gap, (y0 + y1) / 2), text, fill=VALUE_INK, font=font,
                          anchor="lm")  # fmt: skip
        draw.text((left - 8 * s, middle), label, fill=INK, font=font_for(label, label_size),
                  anchor="rm")  # fmt: skip
    draw.line([(left, top), (left, bottom)], fill=AXIS, width=s)

    # legend above the plot, left-aligned with it
    at = left
    for legend, colour, _ in series:
        font = font_for(legend, value_size)
        swatch = 10 * s
        middle = TOP * s // 2
        draw.rectangle([at, middle - swatch // 2, at + 2 * swatch, middle + swatch // 2],
                       fill=colour)  # fmt: skip
        at += 2 * swatch + 6 * s
        draw.text((at, middle), legend, fill=INK, font=font, anchor="lm")
        at += round(font.getlength(legend)) + 18 * s

    out = BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
