"""Server-side SVG charts: proportional bars, axes, empty data, escaping, well-formed XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from oncallnova.transport.web import charts
from oncallnova.transport.web.charts import Series

NS = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> ET.Element:
    root = ET.fromstring(markup)  # well-formed XML, or this raises
    assert root.tag == f"{NS}svg"
    assert root.get("width") == "100%" and root.get("viewBox", "").startswith("0 0 ")
    assert "style" not in markup and "<script" not in markup
    return root


def rects(root: ET.Element, cls: str | None = None) -> list[ET.Element]:
    return [r for r in root.iter(f"{NS}rect") if cls is None or r.get("class") == cls]


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{NS}text")]


def test_bar_heights_are_proportional_to_values() -> None:
    root = parse(
        charts.stacked_bars(
            "c", "Counts", "three bars", ["a", "b", "c"], [Series("n", [1, 2, 4], "fill-low")]
        )
    )
    bars = rects(root, "fill-low")
    heights = [float(r.get("height", 0)) for r in bars]
    assert [float(r.get("data-value", 0)) for r in bars] == [1, 2, 4]
    assert heights[1] == pytest.approx(2 * heights[0], abs=0.02)
    assert heights[2] == pytest.approx(4 * heights[0], abs=0.02)
    # bars stand on the same baseline
    bottoms = {round(float(r.get("y", 0)) + float(r.get("height", 0)), 1) for r in bars}
    assert len(bottoms) == 1


def test_stacked_series_sit_on_each_other() -> None:
    series = [Series("critical", [3, 0], "fill-critical"), Series("low", [1, 2], "fill-low")]
    root = parse(charts.stacked_bars("s", "Stack", "d", ["x", "y"], series))
    critical, low_x, low_y = rects(root, "fill-critical") + rects(root, "fill-low")
    assert float(low_x.get("y", 0)) + float(low_x.get("height", 0)) == pytest.approx(
        float(critical.get("y", 0)), abs=0.02
    )
    assert float(critical.get("height", 0)) == pytest.approx(
        3 * float(low_x.get("height", 0)), abs=0.02
    )
    assert float(low_y.get("height", 0)) == pytest.approx(
        2 * float(low_x.get("height", 0)), abs=0.02
    )
    assert len(rects(root)) == 3  # a zero draws nothing


def test_title_desc_and_labelling() -> None:
    root = parse(charts.stacked_bars("vol", "Per day", "5 in all", ["Mon"], [Series("n", [5])]))
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "vol-title vol-desc"
    assert root.find(f"{NS}title").text == "Per day"  # type: ignore[union-attr]
    assert root.find(f"{NS}desc").text == "5 in all"  # type: ignore[union-attr]
    assert "Mon" in texts(root)


@pytest.mark.parametrize("values", [[0, 0, 0], [None, None, None]])
def test_zero_and_missing_values_draw_no_bars(values: list[float | None]) -> None:
    root = parse(charts.stacked_bars("z", "Zero", "none", ["a", "b", "c"], [Series("n", values)]))
    assert rects(root) == []
    assert "0" in texts(root)  # the axis is still drawn from zero
    if values[0] is None:
        assert texts(root).count(charts.DASH) == 3  # a dash marks a category without data


def test_empty_data() -> None:
    root = parse(charts.stacked_bars("e", "Nothing", "no data", [], []))
    assert texts(root) == ["No data"]
    assert texts(parse(charts.hbars("h", "Nothing", "d", [], empty="No acks"))) == ["No acks"]


def test_labels_are_escaped() -> None:
    nasty = "<b>&\"x'"
    markup = charts.stacked_bars(nasty, nasty, nasty, [nasty], [Series(nasty, [1], nasty)])
    assert "<b>" not in markup and "&lt;b&gt;&amp;&quot;x&#x27;" in markup
    root = parse(markup)
    assert root.find(f"{NS}title").text == nasty  # type: ignore[union-attr]
    assert nasty in texts(root)
    bars = parse(charts.hbars("h", nasty, nasty, [(nasty, 2)]))
    assert nasty in texts(bars)
    legend = charts.legend([Series(nasty, [], "fill-low")])
    assert "<b>" not in legend and "&lt;b&gt;&amp;" in legend


def test_hbars_lengths_and_long_labels() -> None:
    rows = [("checkout-service-in-eu-west", 10.0), ("web", 5.0), ("idle", 0.0)]
    root = parse(charts.hbars("s", "Busiest", "d", rows))
    widths = [float(r.get("width", 0)) for r in rects(root, "fill-accent")]
    assert widths[1] == pytest.approx(widths[0] / 2, abs=0.02) and widths[2] == 0
    assert "checkout-servic…" in texts(root) and "10" in texts(root)
    titles = [t.text for t in root.iter(f"{NS}title")]
    assert "checkout-service-in-eu-west: 10" in titles  # the full label as a tooltip


def test_durations_on_the_axis_and_values() -> None:
    root = parse(
        charts.stacked_bars("d", "MTTA", "d", ["a", "b"], [Series("m", [90, 3600])], seconds=True)
    )
    labels = texts(root)
    assert "0s" not in labels and "0m" in labels and "60m" in labels
    assert charts.value_text(200, seconds=True) == "3m 20s"


@pytest.mark.parametrize(
    ("highest", "top", "labels"),
    [
        (0, 1, ["0", "1"]),
        (3, 3, ["0", "1", "2", "3"]),
        (7, 8, ["0", "2", "4", "6", "8"]),
        (100, 100, ["0", "50", "100"]),
    ],
)
def test_count_axis(highest: float, top: float, labels: list[str]) -> None:
    found_top, marks = charts.axis(highest)
    assert found_top == top and [label for _, label in marks] == labels


def test_few_category_labels_on_many_bars() -> None:
    names = [f"d{i}" for i in range(90)]
    root = parse(charts.stacked_bars("m", "Many", "d", names, [Series("n", [1] * 90)]))
    shown = [t for t in texts(root) if t.startswith("d")]
    assert 1 < len(shown) <= 8 and shown[0] == "d0"
    assert len(rects(root)) == 90
