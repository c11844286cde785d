"""The app in a real browser: every page opened by direct URL as the first request of a fresh
server, shown inside the frame, with no page errors or error dialogs, and one control used."""

import re

import pytest
from browser import (
    ROOT,
    chromium,
    fresh_server,
    main,
    problems,
    require_browser,
    screenshot,
    wait_charts,
    wait_idle,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


@pytest.fixture
def tab(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    yield page
    context.close()


def open_fresh(tab, base: str, path: str, charts: int = 0) -> None:
    from playwright.sync_api import expect

    tab.goto(f"{base}/{path}")
    # a fresh server can take a while to start the first run (the app reads "notRunning" until
    # then), so wait for the frame's own sidebar (legacy mode has a page list but not this); it
    # must appear within the timeout
    expect(tab.locator(".st-key-reset_page"), "the frame's sidebar is missing").to_be_visible(
        timeout=60_000
    )
    wait_idle(tab)
    if charts:
        wait_charts(tab, charts)
    assert tab.get_by_test_id("stSidebarNav").is_visible(), "the frame's navigation is missing"
    assert tab.locator(".st-key-reset_page").is_visible(), "the frame's sidebar is missing"


def test_home(tab):
    with fresh_server() as base:
        open_fresh(tab, base, "")
        assert main(tab).get_by_role("heading", name="LSTM Lab").is_visible()
        screenshot(tab, "home")
        main(tab).get_by_role("link", name="Inside one step").click()  # one control: the page map
        wait_idle(tab)
        wait_charts(tab, 3)
        assert tab.url.endswith("/cell")
        assert main(tab).get_by_role("heading", name="Inside one step").is_visible()
        assert problems(tab) == [] and tab.errors == []


def test_cell(tab):
    with fresh_server() as base:
        open_fresh(tab, base, "cell", charts=3)
        assert main(tab).get_by_role("heading", name="Inside one step").is_visible()
        assert problems(tab) == [] and tab.errors == []
        screenshot(tab, "cell")
        main(tab).locator(".st-key-cell_forward button").click()  # one control: the next step
        wait_idle(tab)
        assert "step=1" in tab.url
        assert main(tab).get_by_role("heading", name="The cell at step 1, unit 0").is_visible()
        assert problems(tab) == [] and tab.errors == []


def test_a_shared_link_reopens_in_spanish_on_a_fresh_server(tab):
    with fresh_server() as base:
        open_fresh(
            tab, base, "cell?lang=es&model=text_es&step=3&clamp_gate=f&clamp_value=0", charts=5
        )
        assert main(tab).get_by_role("heading", name="Dentro de un paso").is_visible()
        assert main(tab).get_by_role("heading", name="La celda en el paso 3, unidad 0").is_visible()
        assert tab.get_by_test_id("stSidebarNav").get_by_text("Inicio").is_visible()
        assert problems(tab) == [] and tab.errors == []
        screenshot(tab, "cell-es-clamped")


def test_garbage_in_the_link_is_a_warning_not_an_error(tab):
    with fresh_server() as base:
        open_fresh(
            tab, base, "cell?step=banana&model=%3Cscript%3Ealert(1)%3C/script%3E&lang=zz", charts=3
        )
        warnings = main(tab).get_by_test_id("stAlertContentWarning")
        assert warnings.count() == 1  # one warning, a line for each problem
        assert warnings.locator("li").count() == 3
        assert problems(tab) == [] and tab.errors == []
        assert "banana" not in tab.url and "script" not in tab.url


def test_the_language_stays_spanish_when_the_navigation_changes_page(tab):
    """The first session of a fresh server opens /?lang=es and clicks a page in the sidebar."""
    with fresh_server() as base:
        open_fresh(tab, base, "?lang=es")
        assert main(tab).get_by_role("heading", name="Qué es una LSTM").is_visible()
        tab.get_by_test_id("stSidebarNav").get_by_role(
            "link", name="La banda transportadora"
        ).click()
        wait_idle(tab)
        wait_charts(tab, 4)
        wait_idle(tab)
        assert main(tab).get_by_role("heading", name="La banda transportadora").is_visible()
        assert "/belt" in tab.url and "lang=es" in tab.url
        assert tab.locator(".st-key-lang input").input_value() == "Español"
        assert problems(tab) == [] and tab.errors == []
        screenshot(tab, "nav-es-belt")
        tab.get_by_test_id("stSidebarNav").get_by_role("link", name="Dentro de un paso").click()
        wait_idle(tab)
        wait_charts(tab, 3)
        assert main(tab).get_by_role("heading", name="Dentro de un paso").is_visible()
        assert "lang=es" in tab.url
        equations = " ".join(main(tab).locator(".katex-html").all_inner_texts())
        assert re.search(r"\d,\d", equations) and not re.search(r"\d\.\d", equations), equations
        separators = tab.evaluate(
            "() => document.querySelector('.st-key-cell_valve .js-plotly-plot')._fullLayout.separators"
        )
        assert separators == ",."  # Plotly writes 0,5 on the axes
        assert problems(tab) == [] and tab.errors == []


def test_a_mistyped_address_gets_the_apps_own_page(browser):
    with fresh_server() as base:
        # the very first visit of a fresh server (with a pages/ folder this one got Streamlit's
        # own English "Page not found", and a known page ran without the router)
        tab = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        tab.errors = []
        tab.on("pageerror", lambda exc: tab.errors.append(str(exc)))
        open_fresh(tab, base, "nosuch?lang=es")
        assert main(tab).get_by_role("heading", name="No existe esa página").is_visible()
        assert "/nosuch" in main(tab).inner_text()
        assert problems(tab) == [] and tab.errors == []  # and no Streamlit dialog in English
        screenshot(tab, "no-such-page-es")
        main(tab).get_by_role("link", name="Dentro de un paso").click()
        wait_idle(tab)
        wait_charts(tab, 3)
        assert tab.url.split("?")[0].endswith("/cell") and "lang=es" in tab.url
        tab.context.close()


def test_belt(tab):
    with fresh_server() as base:
        open_fresh(tab, base, "belt", charts=8)
        assert main(tab).get_by_role("heading", name="The conveyor belt").is_visible()
        assert problems(tab) == [] and tab.errors == []
        screenshot(tab, "belt")
        main(tab).locator(".st-key-belt_forward button").click()  # one control: the time cursor
        wait_idle(tab)
        tab.wait_for_function("() => location.search.includes('belt_cursor=1')")
        assert problems(tab) == [] and tab.errors == []


def test_belt_upload_in_spanish(tab):
    with fresh_server() as base:
        open_fresh(tab, base, "belt?belt_model=upload&lang=es")
        assert main(tab).get_by_test_id("stAlertContentInfo").count() == 1
        tab.locator(".st-key-belt_upload input[type=file]").set_input_files(
            str(ROOT / "samples" / "faro_es_h64.npz")
        )
        wait_idle(tab)
        wait_charts(tab, 8)
        assert (
            main(tab)
            .get_by_role("heading", name="Todas las unidades, todos los pasos")
            .is_visible()
        )
        assert problems(tab) == [] and tab.errors == []
        screenshot(tab, "belt-upload-es")


def test_echo_trains_live_and_the_loss_falls(tab):
    with fresh_server() as base:
        open_fresh(tab, base, "echo", charts=1)
        assert main(tab).get_by_role("heading", name="Echo task").is_visible()
        screenshot(tab, "echo")
        main(tab).locator(".st-key-echo_train button").click()  # one control: Train
        tab.wait_for_timeout(4000)  # train live for a few seconds
        main(tab).locator(".st-key-echo_pause button").click()
        wait_idle(tab)
        smoothed = tab.evaluate(
            "() => { const gd = document.querySelector('.st-key-echo_curves .js-plotly-plot');"
            " return Array.from(gd._fullData[1].y); }"
        )
        assert len(smoothed) > 20
        assert smoothed[-1] < 0.5 * smoothed[0], smoothed[:: max(1, len(smoothed) // 10)]
        assert main(tab).get_by_test_id("stMetricValue").first.inner_text().endswith("%")
        assert problems(tab) == [] and tab.errors == []
        screenshot(tab, "echo-trained")


def test_text_upload_train_and_write(tab, tmp_path):
    novel = tmp_path / "novel.txt"
    story = (ROOT / "samples" / "lighthouse_en.txt").read_text(encoding="utf-8")
    hostile = '<script>window.__ran = 1</script> <img src=x onerror="window.__ran = 2"> $x^2$ [link](javascript:alert(1))\n'
    novel.write_text(hostile + story * 3, encoding="utf-8")
    with fresh_server() as base:
        open_fresh(tab, base, "text?corpus=upload&model=new&hidden_size=64&lowercase=false")
        tab.locator(".st-key-gen_text_upload input[type=file]").set_input_files(str(novel))
        wait_idle(tab)
        main(tab).locator(".st-key-gen_train button").click()
        wait_charts(tab, 1)  # the curves appear while it trains
        tab.wait_for_timeout(4000)
        main(tab).locator(".st-key-gen_pause button").click()
        wait_idle(tab)
        steps = int(main(tab).get_by_test_id("stMetricValue").nth(4).inner_text().replace(",", ""))
        assert steps > 20
        screenshot(tab, "text-trained")
        main(tab).locator(".st-key-seed_text input").fill("<script>window.__ran = 3</script>")
        main(tab).locator(".st-key-seed_text input").press("Enter")
        wait_idle(tab)
        main(tab).locator(".st-key-gen_generate button").click()
        tab.wait_for_function(  # the last code block: the training-time view has one above
            "() => [...document.querySelectorAll('[data-testid=stCode]')].at(-1)"
            "?.innerText.length > 100 && !document.querySelector('.st-key-gen_rewind_sample')"
            "?.contains([...document.querySelectorAll('[data-testid=stCode]')].at(-1))",
            timeout=60_000,
        )
        written = main(tab).get_by_test_id("stCode").last.inner_text()
        assert written.startswith("<script>window.__ran = 3</script>")  # shown literally
        assert tab.evaluate("() => window.__ran") is None  # and never run
        assert problems(tab) == [] and tab.errors == []
        screenshot(tab, "text-written")


def test_bptt_heatmaps_and_gradient_check(tab):
    with fresh_server() as base:
        open_fresh(tab, base, "bptt?lang=es", charts=3)
        assert main(tab).get_by_role("heading", name="Retropropagación en el tiempo").is_visible()
        assert main(tab).locator(".katex").count() >= 4  # the equations, typeset
        screenshot(tab, "bptt-es")
        main(tab).locator(".st-key-bptt_explode button").click()
        wait_idle(tab)
        tab.wait_for_function("() => location.search.includes('bptt_scale=')")
        main(tab).locator(".st-key-bptt_gradcheck button").click()
        wait_idle(tab)
        tab.wait_for_selector("[data-testid='stAlertContentSuccess']", timeout=30_000)
        assert problems(tab) == [] and tab.errors == []
        screenshot(tab, "bptt-checked")


def test_two_students_at_once_and_hostile_text_never_runs(browser, tmp_path):
    """Two browser contexts (two students) train at once and each sees only its own text; text
    that would set a marker if it ran as HTML or script is shown, and the marker stays unset."""
    import urllib.parse

    hostile = '<script>window.__ran = 1</script><img src=x onerror="window.__ran = 2"> '
    story = (ROOT / "samples" / "lighthouse_en.txt").read_text(encoding="utf-8")
    novel = tmp_path / "novel.txt"
    novel.write_text((hostile + story) * 2, encoding="utf-8")
    tabs = []
    for _ in range(2):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda exc, page=page: page.errors.append(str(exc)))
        tabs.append(page)
    a, b = tabs
    with fresh_server() as base:
        a.goto(f"{base}/text?corpus=upload&model=new&hidden_size=32&lowercase=false")
        b.goto(f"{base}/text?corpus=story_es&model=new&hidden_size=48")
        wait_idle(a)
        wait_idle(b)
        a.locator(".st-key-gen_text_upload input[type=file]").set_input_files(str(novel))
        wait_idle(a)
        for tab in (a, b):
            main(tab).locator(".st-key-gen_train button").click()
        a.wait_for_timeout(4000)
        for tab in (a, b):
            main(tab).locator(".st-key-gen_pause button").click()
            wait_idle(tab)
        chars = [
            int(main(t).get_by_test_id("stMetricValue").first.inner_text().replace(",", ""))
            for t in tabs
        ]
        assert chars[0] == len((hostile + story) * 2) and chars[1] != chars[0]
        assert all(
            int(main(t).get_by_test_id("stMetricValue").nth(4).inner_text().replace(",", "")) > 0
            for t in tabs
        )
        assert "<" in main(a).inner_text()  # its vocabulary shows the brackets, as characters
        belt_text = urllib.parse.quote('"quoted" <img src=x onerror="window.__ran = 3"> (end)')
        b.goto(f"{base}/belt?belt_text={belt_text}")
        wait_idle(b)
        wait_charts(b, 4)
        for tab in tabs:
            assert tab.evaluate("() => window.__ran") is None
            assert problems(tab) == [] and tab.errors == []
        screenshot(a, "two-students-a")
        for tab in tabs:
            tab.context.close()


def test_an_upload_over_the_limit_is_refused_in_the_browser(tab, tmp_path):
    big = tmp_path / "huge.txt"
    big.write_bytes(b"the lamp is lit. " * (21 * 2**20 // 17 + 1))  # 21 MB, over the 20 MB limit
    with fresh_server() as base:
        open_fresh(tab, base, "text?corpus=upload")
        tab.locator(".st-key-gen_text_upload input[type=file]").set_input_files(str(big))
        tab.wait_for_selector("text=huge.txt")  # Streamlit shows the file, marked as refused
        wait_idle(tab)
        assert main(tab).get_by_test_id("stMetricValue").count() == 0  # nothing was read
        assert problems(tab) == [] and tab.errors == []
        screenshot(tab, "upload-too-big")


def test_the_belt_check_measures_clicks_the_page_follows():
    """scripts/belt_check.py (the belt page's speed, reported in the README) still drives the
    page: every click it times is followed (it checks the link), on a small model."""
    import subprocess
    import sys

    require_browser()
    with fresh_server() as base:
        proc = subprocess.run(
            [
                sys.executable,
                "scripts/belt_check.py",
                "--url",
                base,
                "--hidden",
                "16",
                "--steps",
                "80",
                "--runs",
                "2",
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=300,
        )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for action in ("cursor", "unit", "sort"):
        assert re.search(rf"{action}\s+median\s+\d+ ms", proc.stdout), proc.stdout
