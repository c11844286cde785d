"""The cell page's GRU step in Debian's Chromium: drawn, written, no error; a screenshot to look at
(test-output/browser/cell_gru_step.png)."""

import pytest
from browser import OUTPUT, chromium, fresh_server, main, problems, wait_charts, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_gru_step_is_drawn_and_written_in_the_browser(lang):
    with fresh_server() as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{base}/cell?model=echo_gru&step=6&unit=1&lang={lang}")
        page.wait_for_selector(".st-key-reset_page", timeout=60_000)
        wait_idle(page)
        wait_charts(page, 3)
        # the diagram's chart can come after the other three on a loaded machine: wait for its text
        page.wait_for_function(
            "(document.querySelector('.st-key-cell_diagram')?.innerText || '').includes('z = ')",
            timeout=60_000,
        )
        diagram = page.locator(".st-key-cell_diagram")
        drawn = diagram.inner_text()
        for text in ("z = ", "r = ", "n = ", "1 − z", "(1 − z)·n"):
            assert text in drawn, text
        assert {"en": "update: the valve", "es": "actualización: la válvula"}[lang] in drawn
        equations = main(page).locator("[data-testid='stMarkdownContainer'] .katex")
        assert equations.count() >= 4  # r, z, n, h (KaTeX renders them)
        OUTPUT.mkdir(parents=True, exist_ok=True)
        diagram.screenshot(path=str(OUTPUT / f"cell_gru_step_{lang}.png"))
        assert not problems(page) and not errors, (problems(page), errors)
