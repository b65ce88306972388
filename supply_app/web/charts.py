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


def _scale(series: Sequence[Series]) -> tuple[int, int]:
    """The axis range in cents, always including zero, never empty."""
    values = [v for s in series for v in s.values] or [0]
    low, high = min(0, *values), max(0, *values)
    if low == high:
        high = low + 100
    return low, high


def bar_chart(title: str, labels: Sequence[str], series: Sequence[Series]) -> Markup:
    """A grouped bar chart of money per label; negative bars hang below the zero line."""
    low, high = _scale(series)
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM

    def y(cents: int) -> float:
        return PAD_TOP + plot_h * (high - cents) / (high - low)

    parts = [
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg" font-size="11" font-family="system-ui, sans-serif">',
        f"<title>{escape(title)}</title>",
    ]
    for i in range(TICKS + 1):
        cents = low + (high - low) * i // TICKS
        parts.append(
            f'<line x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y(cents):.1f}" '
            f'y2="{y(cents):.1f}" stroke="#e1e5ea"/>'
            f'<text x="{PAD_LEFT - 6}" y="{y(cents) + 4:.1f}" text-anchor="end" '
            f'fill="#5b6470">{escape(_money(cents))}</text>'
        )
    slot = plot_w / max(1, len(labels))
    bar_w = min(MAX_BAR, max(2.0, slot * 0.8 / max(1, len(series))))
    for index, label in enumerate(labels):
        # Centre the group of bars in its slot (bars are capped, so slots may be wider).
        x0 = PAD_LEFT + slot * index + (slot - bar_w * len(series)) / 2
        for k, s in enumerate(series):
            value = s.values[index]
            top, bottom = sorted((y(value), y(0)))
            colour = s.negative_colour if value < 0 and s.negative_colour else s.colour
            parts.append(
                f'<rect x="{x0 + k * bar_w:.1f}" y="{top:.1f}" width="{bar_w - 1:.1f}" '
                f'height="{max(bottom - top, 0.5):.1f}" fill="{colour}">'
                f"<title>{escape(label)} · {escape(s.name)}: {escape(_money(value))}</title>"
                "</rect>"
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
