"""A small server-side SVG step chart: what was asked beside what the station reports."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from gateway.commands.profiles import NO_LIMIT


@dataclass(frozen=True)
class Series:
    label: str
    colour: str
    steps: list[tuple[int, float]]  # (seconds from the chart's start, limit)
    dashed: bool = False


def step_chart(
    series: list[Series], *, duration: int, unit: str, width: int = 760, height: int = 260
) -> Markup:
    """Step lines over ``duration`` seconds; 'no limit' is drawn at the top edge."""
    left, right, top, bottom = 56, 12, 22, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    unlimited = NO_LIMIT.get(unit, 1_000_000.0)
    finite = [v for s in series for _, v in s.steps if v < unlimited]
    peak = max(finite) if finite else 1.0
    ceiling = peak * 1.25 if peak > 0 else 1.0

    def x(seconds: float) -> float:
        return left + plot_w * min(max(seconds, 0), duration) / duration

    def y(value: float) -> float:
        return top + plot_h * (1 - min(value, ceiling) / ceiling)

    parts = [
        f'<svg class="schedule-chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="Power limits over {duration // 3600} hours" '
        f'xmlns="http://www.w3.org/2000/svg">'
    ]
    for i in range(5):
        value = ceiling * i / 4
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            'stroke="#e3e8ee"/>'
            f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#6b7785">{value:,.0f}</text>'
        )
    hours = max(1, duration // 3600)
    every = 1 if hours <= 12 else 3 if hours <= 48 else 24
    for hour in range(0, hours + 1, every):
        parts.append(
            f'<text x="{x(hour * 3600):.1f}" y="{height - 12}" text-anchor="middle" '
            f'font-size="11" fill="#6b7785">+{hour}h</text>'
        )
    parts.append(
        f'<text x="{left + 4}" y="{top - 8}" text-anchor="start" font-size="11" '
        f'font-weight="600" fill="#44515f">{unit}</text>'
    )
    for s in series:
        if not s.steps:
            continue
        points: list[str] = []
        for index, (at, value) in enumerate(s.steps):
            end = s.steps[index + 1][0] if index + 1 < len(s.steps) else duration
            points.append(f"{x(at):.1f},{y(value):.1f}")
            points.append(f"{x(end):.1f},{y(value):.1f}")
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        parts.append(
            f'<polyline fill="none" stroke="{escape(s.colour)}" stroke-width="2.5"{dash} '
            f'points="{" ".join(points)}"><title>{escape(s.label)}</title></polyline>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
