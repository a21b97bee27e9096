"""Charts as server-rendered SVG (no script, no image files): bars and lines, labelled."""

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

WIDTH, BAR, GAP = 560, 18, 6
COLOURS = ("#0b6e4f", "#b44d12", "#2f6fb2", "#ba2525", "#7a4fb5", "#5f6b7a", "#c28a00")


def bars(items: Sequence[tuple[str, int]], shown: Sequence[str] | None = None) -> Markup:
    """Horizontal bars, one a row, each with its label and its value as text."""
    if not items:
        return Markup("")
    top = max(value for _, value in items) or 1
    label = min(260, 12 + max(_text_width(name) for name, _ in items))
    span = WIDTH - label - 110
    height = len(items) * (BAR + GAP) + GAP
    rows = []
    for n, (name, value) in enumerate(items):
        y = GAP + n * (BAR + GAP)
        length = max(1, round(span * value / top)) if value else 0
        text = shown[n] if shown is not None else f"{value:,}"
        rows.append(
            f'<text x="{label - 6}" y="{y + BAR - 5}" text-anchor="end">'
            f"{escape(_fitted(name, label - 12))}</text>"
            f'<rect x="{label}" y="{y}" width="{length}" height="{BAR}" fill="{COLOURS[0]}">'
            f"<title>{escape(name)}: {escape(text)}</title></rect>"
            f'<text x="{label + length + 6}" y="{y + BAR - 5}">{escape(text)}</text>'
        )
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{WIDTH}" '
        f'height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" font-size="12">'
        + "".join(rows)
        + "</svg>"
    )


def lines(months: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]]) -> Markup:
    """One line a series over the months (values 0..1 shown as percent), with a legend."""
    if len(months) < 2 or not series:
        return Markup("")
    height, left, bottom, top = 220, 40, 30, 10
    plot_w, plot_h = WIDTH - left - 130, height - bottom - top
    peak = max((v for _, values in series for v in values if v is not None), default=1) or 1

    def x(i: int) -> float:
        return left + plot_w * i / (len(months) - 1)

    def y(v: float) -> float:
        return top + plot_h * (1 - v / peak)

    parts = [f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
             'stroke="#999"/>',
             f'<text x="{left - 4}" y="{top + 8}" text-anchor="end">{peak:.0%}</text>',
             f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end">0%</text>']  # fmt: skip
    for i, month in enumerate(months):
        if i % max(1, len(months) // 6) == 0 or i == len(months) - 1:
            parts.append(f'<text x="{x(i):.1f}" y="{height - 8}" text-anchor="middle">'
                         f"{escape(month)}</text>")  # fmt: skip
    for n, (name, values) in enumerate(series):
        colour = COLOURS[n % len(COLOURS)]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values) if v is not None)
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                     f'points="{points}"><title>{escape(name)}</title></polyline>')  # fmt: skip
        # A dot at each month that has a rate: a series of one month draws no line, and its
        # legend named nothing on the chart (helper-127).
        parts += [f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}"><title>'
                  f"{escape(name)} {escape(months[i])}: {v:.1%}</title></circle>"
                  for i, v in enumerate(values) if v is not None]  # fmt: skip
        parts.append(f'<text x="{left + plot_w + 10}" y="{top + 14 * n + 10}" fill="{colour}">'
                     f"{escape(name)}</text>")  # fmt: skip
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{WIDTH}" '
        f'height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" font-size="12">'
        + "".join(parts)
        + "</svg>"
    )


def _fitted(text: str, width: int) -> str:
    """The text cut to about `width` pixels with an ellipsis (its whole is in the bar's title:
    a rule's name in words is longer than the label column)."""
    if _text_width(text) <= width:
        return text
    while text and _text_width(text + "…") > width:
        text = text[:-1]
    return text + "…"


def _text_width(text: str) -> int:
    """About how wide a label is at 12px: a CJK character twice a Latin one."""
    return sum(13 if ord(ch) > 0x2E80 else 7 for ch in text)
