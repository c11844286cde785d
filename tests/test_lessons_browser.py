"""The lesson path in a real browser: the whole path walked in both languages (each step's "show
me" opens its page with the step's settings in the page's own widgets and the thing to notice on
screen, and the way back returns to the same step), and presenter mode on a projector's screen.

One server for the module; the BPTT preset's pair (about 40 s to train here) trains once.
"""

from __future__ import annotations

import re

import pytest
from browser import OUTPUT, chromium, fresh_server, main, problems, screenshot, wait_idle

from ui import lessons
from ui.i18n import LANGUAGES, catalog, num, t

pytestmark = [pytest.mark.browser, pytest.mark.slow]

STEPS = lessons.STEPS
LONG = 240_000  # ms: a page that trains on opening (the BPTT preset) on a busy machine
# the catalog prefix of a choice's label on screen, by parameter
LABELS = {
    "clamp_gate": "gate.",
    "belt_property": "belt.property_",
    "belt_model": "belt.model_",
    "optimizer": "echo.optimizer_",
    "cell": "echo.cell_",
    "bptt_task": "bptt.task_",
    "model": "text.model_",
    "speed": "text.speed_",
}
READ_WIDGET = """(el) => {
  const range = el.querySelector("input[type=range]");
  if (range) return range.getAttribute("aria-valuetext") || range.value;
  const box = el.querySelector("input[type=checkbox]");
  if (box) return box.checked ? "true" : "false";
  const radio = el.querySelector("input[type=radio]:checked");
  if (radio) return radio.closest("label").innerText;
  const select = el.querySelector("[data-baseweb=select]");
  if (select) return select.innerText;
  const input = el.querySelector("input, textarea");
  return input ? input.value : null;
}"""


@pytest.fixture(scope="module")
def server():
    with fresh_server() as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


def number(text: str) -> float:
    """A number as a widget shows it: 0.015, 48000, −2,0 (Spanish), 20 % (a share)."""
    text = text.replace("−", "-").replace("\u00a0", " ").strip()
    share = text.endswith("%")
    text = text.rstrip("% ")
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    return float(text) / (100 if share else 1)


def shown_setting(page, name: str) -> str:
    box = main(page).locator(f".st-key-{name}")
    if not box.count():  # a stepper's slider: its key is <name>__<last step>
        box = main(page).locator(f"[class*='st-key-{name}__']")
    assert box.count(), f"no widget for {name}"
    value = box.first.evaluate(READ_WIDGET)
    assert value is not None, name
    return value.strip()


def check_settings(page, step, lang: str) -> None:
    """The page's own widgets hold the step's settings."""
    for name, value in step.values.items():
        shown = shown_setting(page, name)
        if isinstance(value, bool):
            assert shown == str(value).lower(), (name, shown)
        elif isinstance(value, (int, float)):
            assert number(shown) == pytest.approx(value), (name, shown)
        else:
            assert shown == t(f"{LABELS[name]}{value}", lang=lang), (name, shown)


def head(key: str, lang: str) -> str:
    """A catalog sentence up to its first placeholder, as the page renders it (no markdown)."""
    return catalog(lang)[key].split("{")[0].replace("**", "").strip()


def check_notice(page, step, lang: str) -> None:
    """What the step says to notice, by the page's own values on screen."""
    text = main(page).inner_text()
    facts = step.facts()
    if step.id == "valve":
        metric = main(page).get_by_test_id("stMetricValue").first.inner_text()
        assert metric == num(facts["through"], ".0%", lang)
    elif step.id == "one_step":
        title = t("cell.diagram_title", t=facts["step"], unit=facts["unit"], layer=0, lang=lang)
        assert title in text
    elif step.id == "clamp":
        for key in ("cell_intervention", "cell_delta"):
            assert main(page).locator(f".st-key-{key} .main-svg").count(), key
    elif step.id == "belt":
        assert head("belt.untrained_best", lang) in text  # better than untrained, says the page
    elif step.id == "echo":  # both cells side by side, ready to train
        for cell in ("rnn", "lstm"):
            assert t("echo.accuracy_of", cell=t(f"echo.cell_{cell}", lang=lang), lang=lang) in text
    elif step.id == "truncation":
        assert main(page).locator(".st-key-echo_cure").is_visible()  # the cure, offered
    elif step.id == "gradients":
        # the models as trained: the LSTM among those that learned, the RNN among those that did not
        template = catalog(lang)["bptt.verdict_some"].replace("**", "")
        line = next(x for x in text.splitlines() if head("bptt.verdict_some", lang) in x)
        between = template.split("{learned}")[1].split("{failed}")[0]
        learned, failed = line.split(head("bptt.verdict_some", lang), 1)[1].split(between, 1)
        assert t("bptt.cell_lstm", lang=lang) in learned.split(" · "), line
        assert t("bptt.cell_rnn", lang=lang) in failed.split(".")[0].split(" · "), line
    elif step.id == "clipping":
        assert head("bptt.by_norm_scaled", lang) in text  # the raw norm above the limit
    elif step.id == "paper":
        assert t("text.paper_active", lang=lang) in text
    elif step.id == "temperature":
        main(page).locator(".st-key-gen_generate button").click()
        wait_idle(page)
        chart = main(page).locator(".st-key-gen_temperature .main-svg")
        chart.first.wait_for(timeout=60_000)
        assert t("text.temperature_note", temperature=facts["temperature"], lang=lang) in (
            main(page).inner_text()
        )


def a_fragment_then_a_full_run_keep_what_was_set(page) -> None:
    """On the page a step opened, the cursor moved (a fragment of the belt page writes it into
    the address), then a text typed (a full run): the run is not taken for a link followed, so
    neither is undone."""
    main(page).locator(".st-key-belt_forward button").click()
    wait_idle(page)
    assert "belt_cursor=1" in page.url
    box = main(page).locator(".st-key-belt_text textarea")
    box.fill('she said "yes" (twice)')
    box.press("Control+Enter")
    wait_idle(page)
    page.wait_for_function("() => location.search.includes('belt_text=')", timeout=30_000)
    assert box.input_value() == 'she said "yes" (twice)' and "lesson=" in page.url


def on_step(page, n: int, lang: str) -> None:
    title = t("lessons.numbered", n=n, title=STEPS[n - 1].text("title", lang), lang=lang)
    heading = main(page).get_by_role("heading", name=title)
    heading.wait_for(timeout=30_000)
    assert heading.is_visible()
    assert (f"step={n}" in page.url) == (n > 1), page.url


def link(page, label: str):
    return page.get_by_test_id("stPageLink-NavLink").filter(has_text=label).first


def opened(browser, address: str, width: int, height: int):
    """A new tab of that size at `address`, its page errors collected in `page.errors`."""
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.goto(address)
    wait_idle(page)
    return page


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_whole_path_shows_me_each_step_and_brings_me_back(server, browser, lang):
    page = opened(browser, f"{server}/lessons?lang={lang}", 1400, 1000)
    for n, step in enumerate(STEPS, start=1):
        if n > 1:
            main(page).locator(".st-key-lessons_next button").click()
            wait_idle(page)
        on_step(page, n, lang)
        if n == 5 and lang == "en":  # the README's picture: a step with its answer shown
            main(page).locator(f".st-key-lessons_answer_{step.id} label").click()
            wait_idle(page)
            screenshot(page, "lessons")
        link(page, t("lessons.show_me", page=t(f"nav.{step.page}", lang=lang), lang=lang)).click()
        wait_idle(page, timeout=LONG)
        assert re.search(rf"/{step.page}\?", page.url) and f"lesson={n}" in page.url, page.url
        assert problems(page) == [], (n, problems(page))
        check_settings(page, step, lang)
        check_notice(page, step, lang)
        if step.page == "belt" and lang == "en":
            a_fragment_then_a_full_run_keep_what_was_set(page)
        link(page, t("lessons.back_to", n=n, title=step.text("title", lang), lang=lang)).click()
        wait_idle(page)
        on_step(page, n, lang)
    assert page.errors == []
    page.context.close()


def test_presenter_mode_on_a_projector(server, browser):
    """1280x720: the sidebar folded away, the step's controls on screen and the others folded
    behind one expander, ←/→ on the path and on the time cursor, Space to train and pause, and the
    step's figure filling most of the screen (test-output/browser/presenter.png)."""
    page = opened(browser, f"{server}/lessons?step=2&present=1", 1280, 720)
    on_step(page, 2, "en")
    sidebar = page.get_by_test_id("stSidebar").bounding_box()
    assert sidebar is None or sidebar["x"] + sidebar["width"] <= 0, sidebar  # collapsed
    page.wait_for_function(  # larger type: 125% of the browser's 16 px
        "getComputedStyle(document.documentElement).fontSize === '20px'", timeout=10_000
    )
    wait_idle(page)  # a key pressed while the first run still draws its buttons can be lost
    page.keyboard.press("ArrowRight")
    wait_idle(page)
    on_step(page, 3, "en")
    page.keyboard.press("ArrowLeft")
    wait_idle(page)
    on_step(page, 2, "en")
    page.keyboard.press("ArrowRight")
    wait_idle(page)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / "lesson-path.png"))  # the path on a projector, step 3

    step = STEPS[2]  # the clamp: its four controls and the time step named, the rest folded
    link(page, t("lessons.show_me", page=t("nav.cell"))).click()
    wait_idle(page)
    assert "present=true" in page.url and "lesson=3" in page.url
    body = main(page)
    for name in step.controls:
        if name != "step":
            assert body.locator(f".st-key-{name}").is_visible(), name
    cursor = body.locator("[class*='st-key-step__'] input[type=range]")
    cursor.first.wait_for(state="attached", timeout=30_000)  # a loaded machine draws it late
    assert cursor.count() == 1
    for name in ("model", "input", "unit", "valve"):
        assert not body.locator(f".st-key-{name}").is_visible(), name
    assert step.text("notice") in body.inner_text()  # the step's "what to notice", as a caption
    fold = body.get_by_test_id("stExpander").filter(has_text=t("lessons.fold")).first
    fold.locator("summary").click()
    wait_idle(page)
    assert body.locator(".st-key-valve").is_visible()  # unfolded in place, never lost
    fold.locator("summary").click()
    wait_idle(page)
    assert not body.locator(".st-key-valve").is_visible()

    assert cursor.get_attribute("aria-valuetext") == "0"
    page.keyboard.press("ArrowRight")
    wait_idle(page)
    assert cursor.get_attribute("aria-valuetext") == "1"
    page.keyboard.press("ArrowRight")
    wait_idle(page)
    page.keyboard.press("ArrowLeft")
    wait_idle(page)
    assert cursor.get_attribute("aria-valuetext") == "1"

    figure = body.locator(f".st-key-{step.figure}")
    figure.evaluate("el => el.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(300)
    box = figure.bounding_box()
    visible_height = min(box["y"] + box["height"], 720) - max(box["y"], 0)
    assert box["width"] * visible_height >= 0.5 * 1280 * 720, box  # most of the screen
    page.screenshot(path=str(OUTPUT / "presenter.png"))

    page.keyboard.press("Escape")
    link(page, t("lessons.back_to", n=3, title=step.text("title"))).click()
    wait_idle(page)
    on_step(page, 3, "en")
    main(page).locator(".st-key-lessons_next button").click()  # step 4, then 5: the echo task
    wait_idle(page)
    main(page).locator(".st-key-lessons_next button").click()
    wait_idle(page)
    link(page, t("lessons.show_me", page=t("nav.echo"))).click()
    wait_idle(page)
    pause = main(page).locator(".st-key-echo_pause button")
    page.keyboard.press("Space")
    page.wait_for_function(
        "() => !document.querySelector('.st-key-echo_pause button').disabled", timeout=30_000
    )
    page.keyboard.press("Space")
    page.wait_for_function(
        "() => document.querySelector('.st-key-echo_pause button').disabled", timeout=30_000
    )
    assert pause.is_disabled() and main(page).locator(".st-key-echo_train button").is_enabled()
    assert problems(page) == [] and page.errors == []
    page.context.close()
