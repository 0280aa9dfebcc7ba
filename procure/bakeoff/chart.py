"""The geometry of the bake-off results chart: a horizontal grouped bar chart, drawn as SVG by
``templates/bakeoff/_chart.html``.

Pure: plain values in, plain values out; no Flask, no request, no clock, so the same chart can
be drawn on a signed-in page and on the public open record. The rules, stated once:

- one group per supplier, in the order given, each with three bars: assessed total, outcome
  score and final bake-off score, every one a percentage;
- the scale runs from 0 to 100 % across the plot: 100 % fills the plot's width exactly;
- a value outside 0…100 is clamped for drawing only: its bar stops at the edge, and the number
  printed beside it (and in the description) is the value itself;
- the chart grows downwards, by one group's pitch per supplier; nothing is drawn outside the
  view box. A supplier's name longer than ``LABEL_LIMIT`` characters is shortened with an
  ellipsis where it is drawn; its full name is kept for the description.

Every coordinate is in view-box units (the template scales the whole to its container), rounded
to 2 decimal places so the markup stays short.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

ZERO, HUNDRED = Decimal(0), Decimal(100)
TWO_PLACES = Decimal("0.01")
KINDS = ("assessed", "outcome", "final")

MIN_WIDTH = 320
LABEL_LIMIT = 28          # characters of a supplier's name drawn, the ellipsis included
LABEL_SHARE = 27 / 80     # of the width, for the suppliers' names (216 of 640)
LABEL_GAP = 12            # between the names and the plot
VALUE_ROOM = 64           # right of the plot, for "100.00%" beside a full bar
LEGEND_HEIGHT = 28
PLOT_TOP = LEGEND_HEIGHT + 8
BAR_HEIGHT = 14
BAR_GAP = 3               # between the bars of one group
GROUP_GAP = 20            # between groups
GROUP_HEIGHT = 3 * BAR_HEIGHT + 2 * BAR_GAP
GROUP_PITCH = GROUP_HEIGHT + GROUP_GAP
AXIS_HEIGHT = 28          # below the plot, for the tick labels
TICKS = (0, 25, 50, 75, 100)


def _r(value: float) -> float:
    return round(value, 2)


def format_number(value: Decimal) -> str:
    """A percentage's number as shown: two decimal places, half up ("72.50")."""
    return str(Decimal(value).quantize(TWO_PLACES, rounding=ROUND_HALF_UP))


def format_percent(value: Decimal) -> str:
    return f"{format_number(value)}%"


def _plain(value: Decimal) -> str:
    """A number without needless zeros: 50 → "50", 33.50 → "33.5"."""
    text = f"{Decimal(value).normalize():f}"
    return "0" if text in ("-0", "") else text


def clamp(value: Decimal) -> Decimal:
    return min(HUNDRED, max(ZERO, Decimal(value)))


def truncate(label: str, limit: int = LABEL_LIMIT) -> str:
    """``label`` if it is at most ``limit`` characters, else its start and an ellipsis."""
    label = " ".join(label.split())
    if len(label) <= limit:
        return label
    return label[:limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class ChartRow:
    """One supplier's three percentages (0–100); ``highlight`` marks a winner."""
    label: str
    assessed: Decimal
    outcome: Decimal
    final: Decimal
    highlight: bool = False


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float            # of the clamped value
    height: float
    value: Decimal          # the value itself, not clamped
    kind: str               # "assessed" | "outcome" | "final"

    @property
    def number(self) -> str:
        """The value's number, for a sentence: "72.50"."""
        return format_number(self.value)

    @property
    def text(self) -> str:
        """The value as printed beside the bar: "72.50%"."""
        return format_percent(self.value)

    @property
    def text_x(self) -> float:
        return _r(self.x + self.width + 6)

    @property
    def text_y(self) -> float:
        """The baseline of the value beside the bar (12-unit text on a 14-unit bar)."""
        return _r(self.y + self.height - 3)


@dataclass(frozen=True)
class Group:
    label: str              # the supplier's full name
    y: float                # the top of its first bar
    bars: tuple[Bar, ...]   # assessed, outcome, final
    highlight: bool = False

    @property
    def display_label(self) -> str:
        return truncate(self.label)

    @property
    def height(self) -> float:
        return GROUP_HEIGHT

    @property
    def label_y(self) -> float:
        """The baseline of the name: centred on the group, or above the "Winner" note."""
        return _r(self.y + (20 if self.highlight else 29))

    @property
    def note_y(self) -> float:
        return _r(self.y + 39)

    def bar(self, kind: str) -> Bar:
        return next(b for b in self.bars if b.kind == kind)

    @property
    def assessed(self) -> Decimal:
        return self.bar("assessed").value

    @property
    def outcome(self) -> Decimal:
        return self.bar("outcome").value

    @property
    def final(self) -> Decimal:
        return self.bar("final").value


@dataclass(frozen=True)
class Chart:
    width: int
    height: float
    groups: tuple[Group, ...]
    ticks: tuple[tuple[float, str], ...]   # (x, "50%") for 0, 25, 50, 75 and 100
    label_width: float                     # the column of names, from x = 0
    plot_x: float                          # where 0 % is
    plot_width: float                      # 0 % to 100 %
    plot_top: float                        # the gridlines run from here…
    plot_bottom: float                     # …to here
    axis_y: float                          # the baseline of the tick labels
    legend_y: float                        # the top of the legend's swatches
    legend_x: tuple[float, float, float]   # where each kind's swatch starts
    outcome_share: Decimal | None = None   # s, as a percentage, when known

    @property
    def empty(self) -> bool:
        return not self.groups

    @property
    def shares(self) -> tuple[str, str] | None:
        """The weights of the assessed total and the outcome score in the final score, as
        numbers for a sentence ("50", "50"); None when the outcome share is not known."""
        if self.outcome_share is None:
            return None
        return _plain(HUNDRED - self.outcome_share), _plain(self.outcome_share)


def bake_off_chart(rows: Sequence[ChartRow], *, width: int = 640,
                   outcome_share: Decimal | None = None) -> Chart:
    """The chart's geometry for ``rows`` (one group each, in order), ``width`` units wide.

    ``outcome_share`` (s, a percentage such as 50) is only carried to the description."""
    if width < MIN_WIDTH:
        raise ValueError(f"a chart must be at least {MIN_WIDTH} units wide")
    label_width = float(round(width * LABEL_SHARE))
    plot_x = label_width + LABEL_GAP
    plot_width = float(width - plot_x - VALUE_ROOM)
    plot_bottom = PLOT_TOP + GROUP_PITCH * len(rows)
    slot = width / 3

    def length(value: Decimal) -> float:
        return _r(plot_width * float(clamp(value)) / 100)

    groups = []
    for index, row in enumerate(rows):
        top = PLOT_TOP + GROUP_GAP / 2 + GROUP_PITCH * index
        values = (row.assessed, row.outcome, row.final)
        bars = tuple(
            Bar(x=plot_x, y=_r(top + i * (BAR_HEIGHT + BAR_GAP)), width=length(value),
                height=BAR_HEIGHT, value=Decimal(value), kind=kind)
            for i, (kind, value) in enumerate(zip(KINDS, values, strict=True)))
        groups.append(Group(label=row.label, y=_r(top), bars=bars, highlight=row.highlight))

    return Chart(
        width=width,
        height=float(plot_bottom + AXIS_HEIGHT) if rows else 0.0,
        groups=tuple(groups),
        ticks=tuple((_r(plot_x + plot_width * t / 100), f"{t}%") for t in TICKS),
        label_width=label_width, plot_x=plot_x, plot_width=plot_width,
        plot_top=float(PLOT_TOP), plot_bottom=float(plot_bottom),
        axis_y=float(plot_bottom + 18), legend_y=4.0,
        legend_x=(0.0, _r(slot), _r(2 * slot)),
        outcome_share=Decimal(outcome_share) if outcome_share is not None else None)
