"""The bake-off results chart: its geometry (``procure.bakeoff.chart``, pure, no database) and
the SVG that ``templates/bakeoff/_chart.html`` draws from it.

Expected lengths are worked out from the default 640-unit width: the names take 216 units, then
a 12-unit gap, so 0 % is at x = 228; 64 units are kept right of the plot for the values, so the
plot (0…100 %) is 640 − 228 − 64 = 348 units wide.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from flask import Flask, render_template_string
from hypothesis import given
from hypothesis import strategies as st

from procure.bakeoff import chart as chart_module
from procure.bakeoff.chart import Chart, ChartRow, bake_off_chart

D = Decimal
SVG = "{http://www.w3.org/2000/svg}"
MACRO = ('{% from "bakeoff/_chart.html" import bake_off_chart_svg %}'
         '{{ bake_off_chart_svg(chart, id_prefix, caption) }}')


def row(label: str = "Acme Ltd", assessed: str = "72.5", outcome: str = "40",
        final: str = "56.25", highlight: bool = False) -> ChartRow:
    return ChartRow(label=label, assessed=D(assessed), outcome=D(outcome), final=D(final),
                    highlight=highlight)


# --- geometry -----------------------------------------------------------------------------------

def test_the_plot_sits_between_the_names_and_the_values() -> None:
    chart = bake_off_chart([row()])
    assert (chart.label_width, chart.plot_x, chart.plot_width) == (216, 228, 348)
    assert chart.plot_x + chart.plot_width + chart_module.VALUE_ROOM == chart.width == 640


def test_each_group_has_an_assessed_an_outcome_and_a_final_bar_in_that_order() -> None:
    group = bake_off_chart([row()]).groups[0]
    assert [b.kind for b in group.bars] == ["assessed", "outcome", "final"]
    assert [b.value for b in group.bars] == [D("72.5"), D("40"), D("56.25")]
    assert (group.assessed, group.outcome, group.final) == (D("72.5"), D("40"), D("56.25"))
    assert group.label == "Acme Ltd" and not group.highlight


def test_bars_are_proportional_to_their_values() -> None:
    chart = bake_off_chart([row(assessed="50", outcome="25", final="37.5")])
    bars = chart.groups[0].bars
    assert [b.width for b in bars] == [174, 87, 130.5]   # 348 × 0.5, × 0.25, × 0.375
    assert all(b.x == chart.plot_x for b in bars)


def test_a_hundred_percent_fills_the_plot_and_zero_draws_nothing() -> None:
    chart = bake_off_chart([row(assessed="100", outcome="0", final="50")])
    full, empty, half = chart.groups[0].bars
    assert full.width == chart.plot_width
    assert full.x + full.width == chart.ticks[-1][0]
    assert empty.width == 0
    assert half.x + half.width == chart.ticks[2][0]


def test_values_outside_0_to_100_are_clamped_when_drawn_but_kept_as_they_are() -> None:
    chart = bake_off_chart([row(assessed="150", outcome="-10", final="100.01")])
    over, under, just_over = chart.groups[0].bars
    assert over.width == just_over.width == chart.plot_width
    assert under.width == 0
    assert (over.value, under.value, just_over.value) == (D("150"), D("-10"), D("100.01"))
    assert (over.text, under.text) == ("150.00%", "-10.00%")


def test_the_axis_has_ticks_at_0_25_50_75_and_100_percent_evenly_spaced() -> None:
    chart = bake_off_chart([row()])
    assert [label for _x, label in chart.ticks] == ["0%", "25%", "50%", "75%", "100%"]
    assert [x for x, _label in chart.ticks] == [228, 315, 402, 489, 576]


def test_groups_are_stacked_in_order_without_overlapping() -> None:
    chart = bake_off_chart([row("A"), row("B"), row("C"), row("D")])
    assert [g.label for g in chart.groups] == ["A", "B", "C", "D"]
    for group in chart.groups:
        bars = group.bars
        for upper, lower in zip(bars, bars[1:], strict=False):
            assert upper.y + upper.height < lower.y
        assert group.y == bars[0].y
        assert bars[-1].y + bars[-1].height == group.y + group.height
    for upper, lower in zip(chart.groups, chart.groups[1:], strict=False):
        assert upper.y + upper.height < lower.y
    assert chart.plot_top < chart.groups[0].y
    assert chart.groups[-1].y + chart.groups[-1].height < chart.plot_bottom < chart.axis_y
    assert chart.axis_y < chart.height


def test_the_height_grows_by_one_group_per_row() -> None:
    heights = [bake_off_chart([row()] * n).height for n in (1, 2, 3, 10)]
    pitch = chart_module.GROUP_PITCH
    assert heights[1] - heights[0] == heights[2] - heights[1] == pitch
    assert heights[3] == heights[0] + 9 * pitch


def test_no_rows_gives_a_chart_with_no_groups() -> None:
    chart = bake_off_chart([])
    assert chart.groups == () and chart.empty
    assert not bake_off_chart([row()]).empty


def test_a_winner_is_carried_to_its_group() -> None:
    chart = bake_off_chart([row("A"), row("B", highlight=True)])
    assert [g.highlight for g in chart.groups] == [False, True]


def test_other_widths_scale_the_plot_and_a_too_narrow_chart_is_refused() -> None:
    chart = bake_off_chart([row(assessed="100")], width=960)
    assert chart.width == 960 and chart.label_width == 324
    assert chart.groups[0].bars[0].width == chart.plot_width == 960 - 324 - 12 - 64
    with pytest.raises(ValueError, match="at least 320"):
        bake_off_chart([row()], width=319)


def test_the_outcome_share_is_carried_for_the_description() -> None:
    assert bake_off_chart([row()]).shares is None
    assert bake_off_chart([row()], outcome_share=D(50)).shares == ("50", "50")
    assert bake_off_chart([row()], outcome_share=D("30.00")).shares == ("70", "30")
    assert bake_off_chart([row()], outcome_share=D(0)).shares == ("100", "0")


@pytest.mark.parametrize(("value", "shown"), [
    (D("72.5"), "72.50"), (D("72.505"), "72.51"), (D("72.504"), "72.50"), (D(0), "0.00"),
    (D(100), "100.00"), (D("-3"), "-3.00"),
])
def test_numbers_are_shown_to_two_places_half_up(value: Decimal, shown: str) -> None:
    assert chart_module.format_number(value) == shown
    assert chart_module.format_percent(value) == shown + "%"


def test_long_names_are_shortened_with_an_ellipsis_where_drawn() -> None:
    name = "The Very Long Supplier Name Consultancy Limited"
    group = bake_off_chart([row(name), row("Short & sweet")]).groups[0]
    assert group.label == name
    assert len(group.display_label) == chart_module.LABEL_LIMIT == 28
    assert group.display_label == "The Very Long Supplier Name…"
    assert chart_module.truncate("x" * 28) == "x" * 28
    assert chart_module.truncate("x" * 29) == "x" * 27 + "…"
    assert chart_module.truncate("  Acme \n Ltd ") == "Acme Ltd"


@given(st.lists(st.tuples(*[st.decimals(min_value=-1000, max_value=1000, places=2)] * 3),
                max_size=12),
       st.integers(min_value=320, max_value=1600))
def test_every_bar_and_its_value_stay_inside_the_view_box(values, width) -> None:
    chart = bake_off_chart([ChartRow(f"S{i}", a, o, f) for i, (a, o, f) in enumerate(values)],
                           width=width)
    assert len(chart.groups) == len(values)
    for group in chart.groups:
        for bar in group.bars:
            assert chart.plot_x <= bar.x and 0 <= bar.width <= chart.plot_width
            assert chart.plot_top <= bar.y and bar.y + bar.height <= chart.plot_bottom
            # "-1000.00%" at 12 units, bold, is under 0.6 em a character.
            assert bar.text_x + len(bar.text) * 0.6 * 12 <= chart.width + 8
            assert bar.text_y <= chart.height


# --- the SVG ------------------------------------------------------------------------------------

def render(app: Flask, chart: Chart, id_prefix: str = "c1", caption: str = "Caption") -> str:
    with app.test_request_context():
        return render_template_string(MACRO, chart=chart, id_prefix=id_prefix, caption=caption)


def parse(markup: str) -> ET.Element:
    # Raises unless it is well-formed XML. The markup is the app's own, made in the test.
    root = ET.fromstring(markup.strip())  # noqa: S314
    assert root.tag == SVG + "svg"
    return root


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(SVG + "text")]


ROWS = [row("Acme Ltd", "72.5", "40", "56.25", highlight=True),
        row("Beta Co-operative", "65", "90", "77.5"),
        row("Gamma", "100", "0", "50")]


@pytest.fixture
def svg(app: Flask) -> ET.Element:
    return parse(render(app, bake_off_chart(ROWS, outcome_share=D(50)), caption="Bake-off scores"))


def test_the_chart_is_an_image_labelled_by_its_title_and_description(svg: ET.Element) -> None:
    assert svg.get("role") == "img"
    title, desc = svg.find(SVG + "title"), svg.find(SVG + "desc")
    assert title is not None and desc is not None
    assert svg.get("aria-labelledby").split() == [title.get("id"), desc.get("id")]
    assert (title.get("id"), desc.get("id")) == ("c1-title", "c1-desc")
    assert title.text == "Bake-off scores"
    assert list(svg)[:2] == [title, desc]   # first, as assistive technology expects


def test_the_description_states_every_value_in_words(svg: ET.Element) -> None:
    desc = svg.find(SVG + "desc").text
    assert desc == (
        "The final score is 50% of the assessed total plus 50% of the outcome score. "
        "Acme Ltd: assessed total 72.50%, outcome score 40.00%, final score 56.25%. "
        "Acme Ltd is a winner. "
        "Beta Co-operative: assessed total 65.00%, outcome score 90.00%, final score 77.50%. "
        "Gamma: assessed total 100.00%, outcome score 0.00%, final score 50.00%.")


def test_the_description_leaves_out_the_share_when_it_is_not_known(app: Flask) -> None:
    desc = parse(render(app, bake_off_chart(ROWS[1:2]))).find(SVG + "desc").text
    assert desc == "Beta Co-operative: assessed total 65.00%, outcome score 90.00%, final score 77.50%."


def test_every_value_is_printed_beside_its_bar_with_a_legend(svg: ET.Element) -> None:
    shown = texts(svg)
    for value in ["72.50%", "40.00%", "56.25%", "65.00%", "90.00%", "77.50%", "100.00%", "0.00%",
                  "50.00%"]:
        assert value in shown
    for label in ["Acme Ltd", "Beta Co-operative", "Gamma", "Assessed total", "Outcome score",
                  "Final score", "0%", "25%", "50%", "75%", "100%"]:
        assert label in shown
    bars = [r for r in svg.iter(SVG + "rect") if r.get("height") == "14" and r.get("x") == "228.0"]
    assert [r.get("fill") for r in bars] == ["#1d70b8", "#505a5f", "#00703c"] * 3
    assert [r.get("width") for r in bars][:3] == ["252.3", "139.2", "195.75"]


def test_a_winner_is_marked_in_words_and_bold_not_by_colour_alone(svg: ET.Element) -> None:
    names = {"".join(t.itertext()): t for t in svg.iter(SVG + "text")}
    assert names["Acme Ltd"].get("font-weight") == "bold"
    assert names["Beta Co-operative"].get("font-weight") is None
    assert texts(svg).count("Winner") == 1


def test_it_uses_presentation_attributes_only_never_style(app: Flask, svg: ET.Element) -> None:
    markup = render(app, bake_off_chart(ROWS))
    assert "style=" not in markup and "<style" not in markup and "<script" not in markup
    assert all("style" not in el.attrib for el in svg.iter())
    assert svg.get("font-family") == "'GDS Transport', arial, sans-serif"


def test_it_scales_to_its_container(svg: ET.Element) -> None:
    chart = bake_off_chart(ROWS)
    assert svg.get("viewBox") == f"0 0 {chart.width} {chart.height}"
    assert svg.get("width") == "100%" and svg.get("height") is None


def luminance(colour: str) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_text_and_bars_contrast_with_every_background(svg: ET.Element) -> None:
    rects = list(svg.iter(SVG + "rect"))
    backgrounds = {r.get("fill") for r in rects if r.get("x") == "0" and r.get("width") == "640"}
    assert backgrounds == {"#ffffff", "#f3f2f1"}   # the chart, and a winner's band
    for text in svg.iter(SVG + "text"):
        for background in backgrounds:
            assert contrast(text.get("fill"), background) >= 4.5        # WCAG 1.4.3
    for colour in ("#1d70b8", "#505a5f", "#00703c"):
        for background in backgrounds:
            assert contrast(colour, background) >= 3                    # WCAG 1.4.11


def test_supplier_names_are_escaped(app: Flask) -> None:
    name = 'Acme & <script>alert("x")</script> Ltd'
    markup = render(app, bake_off_chart([row(name)]))
    assert "<script" not in markup
    assert "&amp;" in markup and "&lt;script&gt;" in markup
    root = parse(markup)
    assert root.find(f".//{SVG}script") is None
    assert root.find(SVG + "desc").text.startswith(name + ": assessed total 72.50%")
    assert chart_module.truncate(name) in texts(root)


def test_a_long_name_is_shortened_where_drawn_but_whole_in_the_description(app: Flask) -> None:
    name = "The Very Long Supplier Name Consultancy Limited"
    root = parse(render(app, bake_off_chart([row(name)])))
    assert "The Very Long Supplier Name…" in texts(root)
    assert name not in texts(root)
    assert root.find(SVG + "desc").text.startswith(name + ":")
    clip = root.find(f".//{SVG}clipPath")
    assert clip.get("id") == "c1-names"
    names = [g for g in root.iter(SVG + "g") if g.get("clip-path") == "url(#c1-names)"]
    assert names and "The Very Long Supplier Name…" in texts(names[0])


def test_two_charts_on_one_page_do_not_share_ids(app: Flask) -> None:
    first = parse(render(app, bake_off_chart(ROWS), id_prefix="phase-1"))
    second = parse(render(app, bake_off_chart(ROWS), id_prefix="phase-2"))
    ids = [el.get("id") for root in (first, second) for el in root.iter() if el.get("id")]
    assert len(ids) == len(set(ids)) == 6
    assert second.get("aria-labelledby") == "phase-2-title phase-2-desc"


def test_no_rows_draws_no_chart_but_says_so(app: Flask) -> None:
    markup = render(app, bake_off_chart([]))
    assert "<svg" not in markup
    assert markup.strip() == '<p class="govuk-body">There are no bake-off results to show.</p>'


def test_the_caption_is_escaped_too(app: Flask) -> None:
    markup = render(app, bake_off_chart(ROWS), caption="Scores <b>& more</b>")
    assert parse(markup).find(SVG + "title").text == "Scores <b>& more</b>"
