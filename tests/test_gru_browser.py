"""The echo page's three-way comparison in a real browser: the preset «RNN vs GRU vs LSTM»
pressed, a few seconds of training, three curves on the chart, three accuracies, and the
training-time slider moving all three models back to step 0."""

import pytest
from browser import fresh_server, main, problems, screenshot, wait_charts, wait_idle
from test_browser import browser, open_fresh, tab  # noqa: F401  (browser, tab: its fixtures)
from test_rewind_browser import drag_to_start, wait_step

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NAMES = ("RNN", "GRU", "LSTM")


def curve_names(page) -> list[str]:
    """The legend entries of the page's first chart (the training curves)."""
    chart = main(page).locator(".st-key-echo_curves [data-testid='stPlotlyChart']").first
    return chart.locator(".legend .legendtext").all_text_contents()  # SVG text: no inner text


def test_the_three_way_comparison_trains_and_draws_three_curves(tab):  # noqa: F811
    with fresh_server() as base:
        open_fresh(tab, base, "echo", charts=1)
        main(tab).locator(".st-key-echo_preset_three_cells button").click()
        wait_idle(tab)
        assert "versus=all" in tab.url and "echo_step=15" in tab.url
        main(tab).locator(".st-key-echo_train button").click()
        wait_charts(tab, 4)
        tab.wait_for_timeout(4000)
        main(tab).locator(".st-key-echo_pause button").click()
        wait_idle(tab)
        names = curve_names(tab)
        assert sorted(set(names)) == sorted(NAMES), names
        chart = main(tab).locator(".st-key-echo_curves [data-testid='stPlotlyChart']").first
        # the accuracy panel's lines: one per cell, each drawn (a path with points)
        lines = chart.locator(".scatterlayer .trace path.js-line").count()
        assert lines >= 3 * 2, lines  # raw and smoothed loss, and accuracy, for each cell
        text = main(tab).inner_text()
        assert all(f"{name}: accuracy on fresh data" in text for name in NAMES)  # the metrics
        chart.scroll_into_view_if_needed()
        screenshot(tab, "echo-three-cells")
        carry = "[class*='st-key-echo_rewind_carry'] .main-svg"
        tab.wait_for_selector(carry, timeout=60_000)
        drag_to_start(tab, "echo_at_step")
        wait_step(tab, 0)
        wait_idle(tab)
        text = main(tab).inner_text()
        assert all(f"{name} at step 0" in text for name in NAMES), text[-800:]
        tab.locator(carry).first.scroll_into_view_if_needed()
        screenshot(tab, "echo-three-cells-rewound")
        assert problems(tab) == [] and tab.errors == []
