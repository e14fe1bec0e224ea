"""Every slide deck in Debian's Chromium, network cut as for the pages (see test_browser.py).

Screenshots of every slide are saved under _build/screenshots/slides/.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import ROOT, WCAG_TAGS, Visit, change_control, deck_docs, snapshot

pytestmark = pytest.mark.browser

DECKS = [Path(d).name for d in deck_docs()]
CHAPTER = dict(zip(DECKS, deck_docs(), strict=True))
SCREENSHOTS = ROOT / "_build" / "screenshots" / "slides"
WIDTH, HEIGHT = 1280, 720  # the decks' slide size (slides.REVEAL_CONFIG)


class DeckVisit(Visit):
    """A deck opened like a page, then waited for until reveal.js and MathJax are ready."""

    def __init__(self, browser, base, name, query=""):
        super().__init__(browser, base, f"slides/{name}.html{query}")
        self.page.wait_for_function("() => window.Reveal && Reveal.isReady()")
        self.page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
        self.page.evaluate("() => MathJax.startup.promise")

    def go(self, index: int) -> None:
        self.page.evaluate(f"() => Reveal.slide({index})")
        self.page.wait_for_function(f"() => Reveal.getIndices().h === {index}")

    def total(self) -> int:
        return self.page.evaluate("() => Reveal.getTotalSlides()")


class Decks(dict):
    """Decks opened on first use and kept open for the module's tests."""

    def __init__(self, browser, server):
        super().__init__()
        self.browser, self.server = browser, server

    def __missing__(self, name):
        self[name] = DeckVisit(self.browser, self.server, name)
        return self[name]


@pytest.fixture(scope="module")
def decks(browser, server):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    opened = Decks(browser, server)
    yield opened
    for v in opened.values():
        v.close()


@pytest.mark.parametrize("name", DECKS)
def test_deck_loads_everything_from_the_site_without_errors(decks, name):
    v = decks[name]
    assert v.total() >= 10
    for i in range(v.total()):  # visit every slide: MathJax typesets again on each change
        v.go(i)
        v.page.screenshot(path=str(SCREENSHOTS / f"{name}-{i:02d}.png"))
    assert v.foreign == [], f"requests to other hosts: {v.foreign}"
    assert v.failed == [], v.failed
    assert v.bad_status == [], v.bad_status
    assert v.errors == [], f"console errors: {v.errors}"


@pytest.mark.parametrize("name", DECKS)
def test_title_language_and_arrow_keys(decks, name):
    v = decks[name]
    page = v.page
    assert page.evaluate("() => document.documentElement.lang") == "en"
    title = page.title()
    chapter = page.evaluate("() => document.querySelector('.slides > section h1').textContent")
    assert chapter and title.startswith(chapter), (title, chapter)
    headings = page.evaluate(
        "() => [...document.querySelectorAll('.slides > section')].map(s => s.querySelector('h1, h2').textContent)"
    )
    v.go(0)
    page.locator("body").focus()
    for i in range(1, min(4, len(headings))):
        page.keyboard.press("ArrowRight")
        page.wait_for_function(f"() => Reveal.getIndices().h === {i}")
        shown = page.evaluate("() => Reveal.getCurrentSlide().querySelector('h2').textContent")
        assert shown == headings[i]
        assert page.evaluate("() => !Reveal.getCurrentSlide().hasAttribute('inert')")
    page.keyboard.press("ArrowLeft")
    page.wait_for_function(f"() => Reveal.getIndices().h === {min(4, len(headings)) - 2}")


@pytest.mark.parametrize("name", DECKS)
def test_math_is_typeset(decks, name):
    v = decks[name]
    counts = v.page.evaluate(
        """() => { const m = [...document.querySelectorAll('.slides .math')];
                   return [m.length, m.filter(e => e.querySelector('mjx-container')).length]; }"""
    )
    assert counts[0] == counts[1], f"{name}: {counts[0] - counts[1]} of {counts[0]} formulas not typeset"
    text = v.page.evaluate(
        """() => { const c = document.querySelector('.slides').cloneNode(true);
                   c.querySelectorAll('aside.notes, pre, code, script, style, mjx-container, .hcl-demo')
                    .forEach(e => e.remove());
                   return c.textContent; }"""
    )
    for raw in ("\\(", "\\[", "$$", "\\begin{", "\\frac"):
        assert raw not in text, f"{name}: untypeset {raw!r}"


def test_most_decks_show_figures(decks):
    with_figures = [n for n in DECKS if decks[n].page.locator(".slides img").count() > 0]
    assert len(with_figures) >= len(DECKS) - 2, with_figures


def test_some_decks_have_math(decks):
    with_math = [n for n in DECKS if decks[n].page.locator(".slides mjx-container").count() > 0]
    assert len(with_math) >= 3, with_math


@pytest.mark.parametrize("name", DECKS)
def test_every_image_loads_and_keeps_the_pages_alt_text(decks, server, browser, name):
    v = decks[name]
    images = v.page.evaluate(
        """() => [...document.querySelectorAll('.slides img')].map(i =>
                 [i.getAttribute('src'), i.getAttribute('alt'), i.complete && i.naturalWidth > 0])"""
    )
    assert [src for src, _, ok in images if not ok] == []
    chapter = Visit(browser, server, f"{CHAPTER[name]}.html")
    try:
        on_page = chapter.page.evaluate(
            """() => [...document.querySelectorAll('main img')]
                     .map(i => [i.getAttribute('src'), i.getAttribute('alt')])"""
        )
    finally:
        chapter.close()
    page_alt = {Path(src).name: alt for src, alt in on_page if not src.startswith("data:")}
    page_alts = {alt for _, alt in on_page}
    for src, alt, _ in images:
        assert alt and alt.strip(), f"{name}: image without alt text"
        if src.startswith("data:"):  # a demo's frame: the page's demo starts with the same alt text
            assert alt in page_alts, f"{name}: demo alt {alt[:60]!r} is not on the page"
        else:
            assert page_alt.get(Path(src).name) == alt, f"{name}: {src} lost the page's alt text"


@pytest.mark.parametrize("name", DECKS)
def test_every_slide_fits_its_frame(decks, name):
    v = decks[name]
    for i in range(v.total()):
        v.go(i)
        height = v.page.evaluate("() => Reveal.getCurrentSlide().scrollHeight")
        assert height <= HEIGHT, f"{name}: slide {i + 1} is {height} px high, more than {HEIGHT}"


# Decks with a widget demo on a slide (every chapter with a demo shows it).
DEMO_DECKS = [n for n in DECKS if n not in ("group_work", "jupyterhub_colab")]


@pytest.mark.parametrize("name", DEMO_DECKS)
def test_every_demo_control_changes_the_output(decks, name):
    v = decks[name]
    slides = v.page.evaluate(
        "() => [...document.querySelectorAll('.slides > section')].map((s, i) => s.querySelector('.hcl-demo') ? i : -1)"
    )
    indices = [i for i in slides if i >= 0]
    assert indices, f"{name}: no demo on any slide"
    for index in indices:
        v.go(index)
        demos = v.page.locator(f".slides > section:nth-child({index + 1}) .hcl-demo")
        for d in range(demos.count()):
            demo = demos.nth(d)
            controls = demo.locator(".hcl-demo-controls input, .hcl-demo-controls select")
            assert controls.count() >= 1
            for j in range(controls.count()):
                before = snapshot(demo)
                kind = change_control(controls.nth(j))
                assert snapshot(demo) != before, f"{name}: slide {index + 1}, control {j} ({kind}) changed nothing"
            # The controls are the slide's: the arrow keys still move on after a control had focus.
            assert v.page.evaluate("() => Reveal.getIndices().h") == index


@pytest.mark.parametrize("name", DECKS)
def test_accessibility(decks, axe_source, name):
    page = decks[name].page
    page.add_script_tag(content=axe_source)
    serious = []
    for i in range(decks[name].total()):
        decks[name].go(i)
        # Each slide while it is shown (the others are inert), and once the whole document: every
        # WCAG 2.x A and AA rule, as for the pages.
        result = page.evaluate(
            """async ([i, tags]) => {
                 const rules = axe.getRules(tags).map(r => r.ruleId);
                 return await axe.run(i === 0 ? document : Reveal.getCurrentSlide(),
                                      {runOnly: {type: 'rule', values: rules}, resultTypes: ['violations']});
               }""",
            [i, WCAG_TAGS],
        )
        serious += [
            f"slide {i + 1}: {v['id']} ({v['impact']}): {v['help']} — e.g. {v['nodes'][0]['html'][:120]}"
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
    assert serious == [], "\n".join(serious)


@pytest.mark.parametrize("name", DECKS)
def test_speaker_view_shows_notes_and_a_running_timer_offline(browser, server, name):
    v = DeckVisit(browser, server, name, "#/1")
    try:
        with v.page.expect_popup() as popup:
            v.page.keyboard.press("s")
        speaker = popup.value
        speaker.wait_for_selector(".speaker-controls-notes .value", timeout=15000)
        notes = v.page.evaluate("() => Reveal.getCurrentSlide().querySelector('aside.notes').textContent")
        speaker.wait_for_function(
            "t => document.querySelector('.speaker-controls-notes .value').textContent.includes(t)",
            arg=" ".join(notes.split())[:60],
            timeout=15000,
        )
        timer = speaker.locator(".speaker-controls-time .timer")
        first = timer.inner_text()
        speaker.wait_for_timeout(2200)
        assert re.fullmatch(r"\s*\d\d:\d\d:\d\d\s*", timer.inner_text()) and timer.inner_text() != first
        # The current and the upcoming slide, both from the same local deck.
        frames = speaker.evaluate("() => [...document.querySelectorAll('iframe')].map(f => f.src)")
        assert len(frames) == 2 and all(f"/slides/{name}.html" in f for f in frames), frames
        v.page.keyboard.press("ArrowRight")
        v.page.wait_for_function("() => Reveal.getIndices().h === 2")
        following = v.page.evaluate("() => Reveal.getCurrentSlide().querySelector('aside.notes').textContent")
        speaker.wait_for_function(
            "t => document.querySelector('.speaker-controls-notes .value').textContent.includes(t)",
            arg=" ".join(following.split())[:60],
            timeout=15000,
        )
        assert v.foreign == [] and v.errors == [], (v.foreign, v.errors)
    finally:
        v.close()
