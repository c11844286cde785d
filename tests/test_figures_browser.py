"""Figures in a real browser: saved as PNG and SVG from Plotly's own camera, shown full screen, and
readable on every page when the reader's system is in dark mode.

Readable means: every text Plotly draws outside the data (tick labels, axis and colour-bar titles,
legends, annotations, labels on the figure's own shapes) has a WCAG contrast ratio of at least
CONTRAST with what lies behind it (the paper, the plot area, the shapes under it), read from the
computed colours of the SVG. Before the theme was pinned, dark mode drew the labels
rgb(230, 234, 241) on white paper: a ratio of 1.2.
"""

import re
import struct
import xml.etree.ElementTree as ET

import pytest
from browser import OUTPUT, chromium, fresh_server, main, problems, wait_charts, wait_idle

from ui.figures.takeaway import file_name
from ui.i18n import t

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# WCAG 2 asks 3:1 of large text and of the parts of a graphic needed to read it (1.4.11);
# Streamlit's own chart labels on white measure 3.7.
CONTRAST = 3.0

# Every text of every chart on the page: its contrast with what lies under it. Data labels drawn
# on the data (a heatmap's characters, a bar's inner label) are left out: their background is a
# picture, not an element whose colour can be read.
CONTRASTS_JS = """() => {
  const parse = (s) => {
    const m = (s || '').match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const v = m[1].split(',').map(Number);
    return {r: v[0], g: v[1], b: v[2], a: v.length > 3 ? v[3] : 1};
  };
  const over = (top, under) => ({
    r: top.r * top.a + under.r * (1 - top.a), g: top.g * top.a + under.g * (1 - top.a),
    b: top.b * top.a + under.b * (1 - top.a), a: 1});
  const lum = (c) => {
    const f = (x) => { x /= 255; return x <= 0.04045 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const ratio = (a, b) => {
    const [hi, lo] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (hi + 0.05) / (lo + 0.05);
  };
  const painted = (el) => {  // an element's fill, with its fill-opacity and opacity
    const st = getComputedStyle(el);
    const c = parse(st.fill);
    if (!c) return null;
    c.a *= Number(st.fillOpacity) * Number(st.opacity);
    return c.a > 0 ? c : null;
  };
  return [...document.querySelectorAll("[data-testid='stPlotlyChart']")].map((chart) => {
    const svg = chart.querySelector('.main-svg');
    const paper = parse(getComputedStyle(svg).backgroundColor) || parse(svg.style.background);
    // what can lie under a text, in the order it is painted: plot areas, then shapes
    const under = [...chart.querySelectorAll('.bglayer rect, .shapelayer path')]
      .map((el) => ({box: el.getBoundingClientRect(), fill: painted(el)}))
      .filter((u) => u.fill);
    const texts = [];
    for (const text of chart.querySelectorAll('.main-svg text')) {
      const words = text.textContent.trim();
      if (!words || text.closest('.heatmap-label, .bartext-inside')) continue;
      const st = getComputedStyle(text);
      if (st.display === 'none' || st.visibility === 'hidden' || Number(st.opacity) === 0) continue;
      const ink = parse(st.fill);
      if (!ink) continue;
      ink.a *= Number(st.fillOpacity);
      const box = text.getBoundingClientRect();
      const x = box.left + box.width / 2, y = box.top + box.height / 2;
      let ground = {...paper, a: 1};
      for (const u of under) {
        if (x >= u.box.left && x <= u.box.right && y >= u.box.top && y <= u.box.bottom) {
          ground = over(u.fill, ground);
        }
      }
      texts.push({text: words.slice(0, 40), ratio: ratio(over(ink, ground), ground),
                  ink: st.fill, ground: `rgb(${ground.r}, ${ground.g}, ${ground.b})`});
    }
    const key = [...(chart.closest('[class*=st-key-]')?.classList || [])]
      .find((c) => c.startsWith('st-key-')) || '?';
    return {key, paper: svg.style.background || getComputedStyle(svg).backgroundColor, texts};
  });
}"""

# Every page, and one action that brings its figures out (home has none).
PAGES = {
    "home": (None, 0),
    "cell": ("cell?clamp_gate=f", 5),  # a valve held: the diagram, vectors, valve, before/after
    "belt": ("belt", 8),
    "echo": ("echo", 3),  # after one training window: curves, the notebook's bars, states
    "text": ("text", 3),  # after writing: the next characters, temperature, the gates
    "bptt": ("bptt", 3),
}


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


def opened(page, base: str, path: str) -> None:
    page.goto(f"{base}/{path}")
    page.wait_for_selector(".st-key-reset_page", timeout=60_000)
    wait_idle(page)


def whole_page(page, path) -> None:
    """A screenshot of the whole page: the window made as tall as the page's content (Streamlit
    scrolls inside its main block, which a full-page screenshot does not see), then put back."""
    size = page.viewport_size
    tall = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": min(max(tall, size["height"]), 8000)})
    page.wait_for_timeout(800)  # the charts follow the new size
    page.screenshot(path=str(path))
    page.set_viewport_size(size)


def contrast_of(color: str, ground: str) -> float:
    def lum(c):
        r, g, b = (int(v) / 255 for v in re.findall(r"[\d.]+", c)[:3])
        f = lambda x: x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4  # noqa: E731
        return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b)

    hi, lo = sorted((lum(color), lum(ground)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_dark_mode_every_figure_is_readable(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, color_scheme="dark")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
    worst = {}
    with fresh_server() as base:
        for name, (path, n) in PAGES.items():
            opened(page, base, path or "")
            if name == "echo":  # one training window: the bars and the states appear
                main(page).locator(".st-key-echo_step_once button").click()
                wait_idle(page)
            if name == "text":  # the shipped model writes: the inspector's figures appear
                main(page).locator(".st-key-gen_generate button").click()
                wait_idle(page)
            if n:
                wait_charts(page, n)
                page.wait_for_timeout(500)  # the last chart's labels are laid out
            assert problems(page) == [] and errors == [], name
            # the page itself: its text against its background
            app = page.evaluate(
                "() => { const a = getComputedStyle(document.querySelector('[data-testid=stApp]'));"
                " const p = document.querySelector('[data-testid=stMainBlockContainer] p');"
                " return [a.backgroundColor, getComputedStyle(p).color]; }"
            )
            assert contrast_of(app[1], app[0]) >= 4.5, (name, app)
            found = page.evaluate(CONTRASTS_JS)
            assert len(found) >= n, (name, [c["key"] for c in found])
            for chart in found:
                assert chart["texts"], (name, chart["key"])  # the figure was read
                low = min(chart["texts"], key=lambda x: x["ratio"])
                worst[chart["key"]] = round(low["ratio"], 2)
                unreadable = [x for x in chart["texts"] if x["ratio"] < CONTRAST]
                assert not unreadable, (name, chart["key"], chart["paper"], unreadable[:5])
            whole_page(page, OUTPUT / f"dark-{name}.png")
    context.close()
    print("lowest contrast per chart:", worst)


def test_a_chart_saves_as_png_and_svg_and_opens_full_screen(browser, tmp_path):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    with fresh_server() as base:
        # PNG, in English (the default format)
        opened(page, base, "bptt")
        wait_charts(page, 3)
        chart = main(page).locator(".st-key-bptt_decay [data-testid='stPlotlyChart']")
        title = t("figure.title.bptt_decay", lang="en")
        assert chart.get_attribute("aria-label").startswith(title)  # the text alternative
        chart.hover()
        buttons = chart.locator(".modebar-btn").evaluate_all(
            "bs => bs.map(b => b.getAttribute('data-title'))"
        )
        assert buttons == ["Save this figure as PNG", "Fullscreen"], buttons  # nothing else
        with page.expect_download() as download:
            chart.get_by_role("button", name="Save this figure as PNG").click()
        png = download.value
        assert png.suggested_filename == file_name(title) + ".png"
        png.save_as(tmp_path / "chart.png")
        data = (tmp_path / "chart.png").read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
        width, height = struct.unpack(">II", data[16:24])
        box = chart.bounding_box()
        assert width >= 2 * box["width"] - 4 and height >= 2 * box["height"] - 4  # scale 2

        # full screen: Streamlit's button beside the camera, and back
        chart.get_by_role("button", name="Fullscreen").click()
        page.wait_for_timeout(500)
        assert chart.bounding_box()["width"] > 0.9 * 1400
        page.keyboard.press("Escape")
        page.wait_for_timeout(500)
        assert chart.bounding_box()["width"] < 0.9 * 1400

        # SVG, in Spanish, chosen by the link (the sidebar's choice, kept in it)
        opened(page, base, "bptt?lang=es&figures=svg")
        wait_charts(page, 3)
        assert page.locator(".st-key-figures input[type=radio]").nth(1).is_checked()
        chart = main(page).locator(".st-key-bptt_decay [data-testid='stPlotlyChart']")
        title = t("figure.title.bptt_decay", lang="es")
        chart.hover()
        with page.expect_download() as download:
            chart.get_by_role("button", name="Guardar esta figura como SVG").click()
        svg = download.value
        assert svg.suggested_filename == file_name(title) + ".svg"
        svg.save_as(tmp_path / "chart.svg")
        root = ET.parse(tmp_path / "chart.svg").getroot()
        assert root.tag.endswith("svg")
        words = " ".join("".join(el.itertext()) for el in root.iter() if el.tag.endswith("text"))
        # the chart's own words: its axis title and its series, in Spanish
        for expected in (t("bptt.d_axis", lang="es"), t("bptt.ratio_axis", lang="es")):
            assert expected in words, (expected, words[:300])
        assert problems(page) == [] and errors == []
    context.close()
