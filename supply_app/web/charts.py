"""Bar charts rendered on the server as inline SVG: no chart library, readable without JS."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640
HEIGHT = 260
PAD_LEFT = 78
PAD_RIGHT = 12
PAD_TOP = 14
PAD_BOTTOM = 46
TICKS = 4
MAX_BAR = 56


@dataclass(frozen=True)
class Series:
    """One set of bars: a name for the legend, integer cents per label, and a colour."""

    name: str
    values: Sequence[int]
    colour: str
    negative_colour: str | None = None


def _money(cents: int) -> str:
    """Axis and tooltip text for cents: "$1,234" (whole dollars) or "−$56"."""
    sign = "−" if cents < 0 else ""
    return f"{sign}${abs(cents) // 100:,}"


def nice_step(span_cents: int, ticks: int = TICKS) -> int:
    """A round step for the axis in cents: 1, 2, 2.5 or 5 times a power of ten dollars."""
    raw = max(span_cents, 100) / ticks
    power = 100  # one dollar
    while power * 10 <= raw:
        power *= 10
    for multiple in (1, 2, 2.5, 5, 10):
        if power * multiple >= raw:
            return int(power * multiple)
    return power * 10  # pragma: no cover - the loop always returns


def _scale(series: Sequence[Series]) -> tuple[int, int, int]:
    """The axis range and step in cents: round ticks that always include zero."""
    values = [v for s in series for v in s.values] or [0]
    low, high = min(0, *values), max(0, *values)
    step = nice_step(high - low)
    low = -(-low // step) * step if low >= 0 else (low // step) * step
    high = -(-high // step) * step
    if low == high:
        high = low + step
    return low, high, step


def bar_chart(title: str, labels: Sequence[str], series: Sequence[Series]) -> Markup:
    """A grouped bar chart of money per label; negative bars hang below the zero line."""
    low, high, step = _scale(series)
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM

    def y(cents: int) -> float:
        return PAD_TOP + plot_h * (high - cents) / (high - low)

    parts = [
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg" font-size="11" font-family="system-ui, sans-serif">',
        f"<title>{escape(title)}</title>",
    ]
    for cents in range(low, high + 1, step):
        parts.append(
            f'<line x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y(cents):.1f}" '
            f'y2="{y(cents):.1f}" stroke="#e1e5ea"/>'
            f'<text x="{PAD_LEFT - 6}" y="{y(cents) + 4:.1f}" text-anchor="end" '
            f'fill="#5b6470">{escape(_money(cents))}</text>'
        )
    slot = plot_w / max(1, len(labels))
    bar_w = min(MAX_BAR, max(2.0, slot * 0.8 / max(1, len(series))))
    # Values are written on the bars when they fit; a negative bar is never thinner than 3 px.
    labelled = bar_w >= 30
    for index, label in enumerate(labels):
        # Centre the group of bars in its slot (bars are capped, so slots may be wider).
        x0 = PAD_LEFT + slot * index + (slot - bar_w * len(series)) / 2
        for k, s in enumerate(series):
            value = s.values[index]
            top, bottom = sorted((y(value), y(0)))
            if value and bottom - top < 3:
                top, bottom = (y(0) - 3, y(0)) if value > 0 else (y(0), y(0) + 3)
            colour = s.negative_colour if value < 0 and s.negative_colour else s.colour
            x = x0 + k * bar_w
            parts.append(
                f'<rect x="{x:.1f}" y="{top:.1f}" width="{bar_w - 1:.1f}" '
                f'height="{max(bottom - top, 0.5):.1f}" fill="{colour}">'
                f"<title>{escape(label)} · {escape(s.name)}: {escape(_money(value))}</title>"
                "</rect>"
            )
            if labelled:
                text_y = top - 3 if value >= 0 else bottom + 11
                parts.append(
                    f'<text x="{x + bar_w / 2:.1f}" y="{text_y:.1f}" text-anchor="middle" '
                    f'fill="#1b1f24" font-size="10">{escape(_money(value))}</text>'
                )
        parts.append(
            f'<text x="{PAD_LEFT + slot * (index + 0.5):.1f}" y="{HEIGHT - PAD_BOTTOM + 14}" '
            f'text-anchor="middle" fill="#1b1f24">{escape(label)}</text>'
        )
    parts.append(
        f'<line x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y(0):.1f}" y2="{y(0):.1f}" '
        'stroke="#1b1f24"/>'
    )
    for k, s in enumerate(series):
        x = PAD_LEFT + k * 190
        parts.append(
            f'<rect x="{x}" y="{HEIGHT - 18}" width="12" height="12" fill="{s.colour}"/>'
            f'<text x="{x + 17}" y="{HEIGHT - 8}" fill="#1b1f24">{escape(s.name)}</text>'
        )
    if not labels:
        parts.append(
            f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" fill="#5b6470">'
            "No cases match the filters</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above
