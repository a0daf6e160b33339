"""A sparkline as inline SVG, drawn on the server: no chart library, no script, CSP-clean."""

from __future__ import annotations

from markupsafe import Markup


def sparkline(
    points: list[int], errors: list[int] | None = None, width: int = 120, height: int = 24
) -> Markup:
    """Calls per time slot as a polyline, slots with errors marked red; oldest on the left."""
    if not points:
        return Markup("")
    top = max(points) or 1
    step = width / max(1, len(points) - 1)

    def y(value: int) -> float:
        return round(height - 1 - (height - 2) * value / top, 1)

    line = " ".join(f"{round(i * step, 1)},{y(v)}" for i, v in enumerate(points))
    marks = "".join(
        f'<circle cx="{round(i * step, 1)}" cy="{y(points[i])}" r="1.5" class="err"/>'
        for i, e in enumerate(errors or [])
        if e
    )
    return Markup(
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}"'
        f' role="img" aria-label="calls per slot, peak {top}"><polyline points="{line}"/>{marks}</svg>'
    )
