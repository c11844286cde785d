"""The training-time sliders in a real browser: on the text and echo pages, trained, paused, then
dragged back to the untrained model and stepped forward with the keyboard (the view, the link and
the figures follow, and nothing goes wrong on the page); Play on the cell page."""

import re
import time

import pytest
from browser import fresh_server, main, problems, screenshot, wait_charts, wait_idle
from test_browser import browser, open_fresh, tab  # noqa: F401  (browser, tab: its fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CAPTION = re.compile(r"Training step ([\d,]+) of ([\d,]+)")


def shown_step(page) -> tuple[int, int]:
    found = CAPTION.search(main(page).inner_text())
    assert found, "no training-time caption on the page"
    return int(found.group(1).replace(",", "")), int(found.group(2).replace(",", ""))


def wait_step(page, step: int, timeout: float = 30.0) -> float:
    """Seconds until the caption shows `step`."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if CAPTION.search(main(page).inner_text()) and shown_step(page)[0] == step:
            return time.monotonic() - t0
        page.wait_for_timeout(25)
    raise AssertionError(f"the view never showed step {step} (it shows {shown_step(page)})")


def drag_to_start(page, name: str) -> None:
    """Drag the training-time slider of parameter `name` past its left end."""
    slider = main(page).locator(f"[class*='st-key-{name}__']")
    knob = slider.locator("input[type=range]")  # react-aria's: hidden inside the thumb
    thumb = knob.locator("xpath=../..")
    thumb.scroll_into_view_if_needed()
    box = thumb.bounding_box()
    track = slider.locator("[role=group] > div").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(track["x"] - 40, box["y"] + box["height"] / 2, steps=12)
    page.mouse.up()


def step_forward(page, name: str, step: int) -> None:
    """The keyboard's next kept step on parameter `name`'s slider, which should be `step`."""
    knob = main(page).locator(f"[class*='st-key-{name}__'] input[type=range]")
    knob.focus()
    knob.press("ArrowRight")
    wait_step(page, step)
    wait_idle(page)
    assert f"{name}={step}" in page.url


def test_dragging_the_training_time_slider_rewinds_the_echo_page(tab):  # noqa: F811
    with fresh_server() as base:
        open_fresh(tab, base, "echo?compare=true", charts=1)
        main(tab).locator(".st-key-echo_train button").click()
        wait_charts(tab, 4)
        tab.wait_for_timeout(3000)
        main(tab).locator(".st-key-echo_pause button").click()
        wait_idle(tab)
        carry = "[class*='st-key-echo_rewind_carry'] .main-svg"  # drawn once training pauses
        tab.wait_for_selector(carry, timeout=60_000)
        step, last = shown_step(tab)
        assert step == last > 100  # the slider opens on the models as they are
        text = main(tab).inner_text()
        assert f"LSTM at step {last:,}" in text and f"RNN at step {last:,}" in text
        drag_to_start(tab, "echo_at_step")
        took = wait_step(tab, 0)
        wait_idle(tab)
        assert "echo_at_step=0" in tab.url
        text = main(tab).inner_text()
        assert "LSTM at step 0" in text and "RNN at step 0" in text  # both follow the slider
        tab.locator(carry).first.scroll_into_view_if_needed()
        screenshot(tab, "echo-rewound")
        step_forward(tab, "echo_at_step", 1)  # the next kept step: every early step is kept
        assert "LSTM at step 1" in main(tab).inner_text()
        assert problems(tab) == [] and tab.errors == []
        print(f"from the drag's release to the echo view at step 0: {1000 * took:.0f} ms")


def test_dragging_the_training_time_slider_rewinds_the_text_page(tab):  # noqa: F811
    with fresh_server() as base:
        open_fresh(tab, base, "text?model=new&hidden_size=32&batch_size=8&seq_length=20")
        main(tab).locator(".st-key-gen_train button").click()
        wait_charts(tab, 1)
        tab.wait_for_timeout(3000)
        main(tab).locator(".st-key-gen_pause button").click()
        wait_idle(tab)
        tab.wait_for_selector(".st-key-gen_rewind_sample [data-testid=stCode]", timeout=60_000)
        step, last = shown_step(tab)
        assert step == last > 20  # the slider opens on the model as it is
        now = main(tab).locator(".st-key-gen_rewind_sample").inner_text()
        drag_to_start(tab, "at_step")
        took = wait_step(tab, 0)
        wait_idle(tab)
        assert "at_step=0" in tab.url
        then = main(tab).locator(".st-key-gen_rewind_sample").inner_text()
        assert then != now  # the untrained model wrote something else
        assert "Held-out bits per character at step 0" in main(tab).inner_text()
        screenshot(tab, "text-rewound")
        step_forward(tab, "at_step", 1)  # the next kept step: every early step is kept
        assert problems(tab) == [] and tab.errors == []
        print(f"from the drag's release to the view at step 0: {1000 * took:.0f} ms")


def test_play_walks_the_cell_page_through_training_until_stopped(tab):  # noqa: F811
    with fresh_server() as base:
        open_fresh(tab, base, "cell", charts=3)
        play = main(tab).locator(".st-key-cell_rewind_play")
        play.get_by_role("button", name="Play").click()
        seen = []
        for _ in range(12):  # a moment every 0.8 s (ui/rewind.PAGE_EVERY)
            tab.wait_for_timeout(500)
            seen.append(shown_step(tab)[0])
        assert seen == sorted(seen) and len(set(seen)) >= 4, seen  # it walks, forwards
        play.get_by_role("button", name="Stop").click()
        wait_idle(tab)
        stopped = shown_step(tab)[0]
        tab.wait_for_timeout(2000)
        assert shown_step(tab)[0] == stopped  # and stops when told
        assert f"at_step={stopped}" in tab.url
        assert problems(tab) == [] and tab.errors == []
