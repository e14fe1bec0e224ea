"""The published site in a real browser: Debian's Chromium driven by Playwright, network cut.

The site is served on 127.0.0.1; every request to another host is recorded and aborted.
Full-page screenshots of every page are saved under _build/screenshots/.
Page weights (issue #14) are counted as ``make weigh`` counts them (scripts/weigh.py).
"""

from __future__ import annotations

import re
import statistics
from urllib.parse import urljoin, urlparse

import pytest

from scripts import weigh

from .conftest import ROOT, WCAG_TAGS, Visit, change_control, is_executable, snapshot, toc_docnames

pytestmark = pytest.mark.browser

DOCS = toc_docnames()
SCREENSHOTS = ROOT / "_build" / "screenshots"
GENERIC_ALT = {"", "image", "png", "figure", "output image from code cell above", "_images"}


def _open_every_page(browser, server, color_scheme):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    suffix = "" if color_scheme == "light" else f"_{color_scheme}"
    opened = {}
    for doc in DOCS:
        v = Visit(browser, server, f"{doc}.html", color_scheme=color_scheme)
        v.page.screenshot(path=str(SCREENSHOTS / f"{doc.replace('/', '_')}{suffix}.png"), full_page=True)
        opened[doc] = v
    return opened


@pytest.fixture(scope="module")
def visits(browser, server):
    opened = _open_every_page(browser, server, "light")
    yield opened
    for v in opened.values():
        v.close()


@pytest.fixture(scope="module")
def dark_visits(browser, server):
    """Every page as a reader whose system asks for dark mode sees it (the theme follows it)."""
    opened = _open_every_page(browser, server, "dark")
    yield opened
    for v in opened.values():
        v.close()


@pytest.mark.parametrize("doc", DOCS)
def test_no_request_leaves_localhost_and_nothing_fails(visits, doc):
    v = visits[doc]
    assert v.foreign == [], f"requests to other hosts: {v.foreign}"
    assert v.failed == [], v.failed
    assert v.bad_status == [], v.bad_status
    assert v.errors == [], f"console errors: {v.errors}"


@pytest.mark.parametrize("doc", DOCS)
def test_internal_links_and_images_resolve(visits, server, doc):
    page = visits[doc].page
    urls = page.evaluate(
        """() => [...document.querySelectorAll('a[href], img[src]')]
              .map(e => e.href || e.src).filter(u => u.startsWith(location.origin))"""
    )
    for url in sorted({u.split("#")[0] for u in urls}):
        response = page.request.get(url)
        assert response.ok, f"{doc}: {response.status} {url}"


@pytest.mark.parametrize("doc", DOCS)
def test_formulas_are_typeset(visits, doc):
    text = visits[doc].page.evaluate(
        """() => { const c = document.querySelector('main').cloneNode(true);
                   c.querySelectorAll('pre, code, script, style, mjx-container, .hcl-demo').forEach(e => e.remove());
                   return c.innerText; }"""
    )
    for raw in ("\\(", "\\[", "$$", "\\begin{", "\\frac"):
        assert raw not in text, (
            f"{doc}: untypeset {raw!r} near {text[max(0, text.find(raw) - 60) : text.find(raw) + 60]!r}"
        )


def test_math_renders_as_mathjax_svg(visits):
    page = visits["book/regression_to_nn"].page
    assert page.locator("mjx-container[jax='SVG'] > svg").count() > 50
    # Typeset at build time: drawn at once, with a size, and no MathJax in the page.
    assert page.evaluate("() => typeof window.MathJax") == "undefined"
    box = page.locator("mjx-container[jax='SVG'] > svg").first.bounding_box()
    assert box and box["width"] > 5 and box["height"] > 5


# Every executable chapter has a widget demo except these two (no demo by design).
DEMO_DOCS = [d for d in DOCS if is_executable(d) and d not in ("book/group_work", "book/jupyterhub_colab")]


@pytest.mark.parametrize("doc", DEMO_DOCS)
def test_every_demo_control_changes_the_output(visits, doc):
    page = visits[doc].page
    demos = page.locator(".hcl-demo")
    assert demos.count() >= 1, f"{doc} has no widget demo"
    for i in range(demos.count()):
        demo = demos.nth(i)
        demo.scroll_into_view_if_needed()
        controls = demo.locator(".hcl-demo-controls input, .hcl-demo-controls select")
        for j in range(controls.count()):
            control = controls.nth(j)
            before = snapshot(demo)
            kind = change_control(control)
            after = snapshot(demo)
            assert after != before, f"{doc}: demo {i} did not change when control {j} ({kind}) changed"


@pytest.mark.parametrize(
    "query, doc",
    [
        ("backpropagation", "book/backpropagation"),
        ("CheXNet", "book/chexnet"),
        ("gradient descent", "book/regression_to_nn"),
        ("convolution", "book/computer_vision"),
    ],
)
def test_search_finds_the_teaching_page(browser, server, query, doc):
    v = Visit(browser, server, f"search.html?q={query.replace(' ', '+')}")
    try:
        v.page.wait_for_selector("#search-results li", timeout=20000)
        hrefs = v.page.eval_on_selector_all("#search-results li a", "els => els.map(e => e.getAttribute('href'))")
        assert any(h and h.split("#")[0].split("?")[0].endswith(f"{doc}.html") for h in hrefs), hrefs[:10]
        assert v.foreign == [] and v.errors == []
    finally:
        v.close()


def test_search_dialog_of_a_chapter_page_finds_pages(browser, server):
    """The theme's search pop-up (its scripts now load deferred) leads to the results."""
    v = Visit(browser, server, "book/data.html")
    try:
        v.page.locator("button.search-button-field").first.click()
        field = v.page.locator("#pst-search-dialog input[name='q']")
        field.wait_for(state="visible")
        field.fill("backpropagation")
        field.press("Enter")
        v.page.wait_for_selector("#search-results li", timeout=20000)
        assert v.page.url.split("?")[0].endswith("/search.html")
        hrefs = v.page.eval_on_selector_all("#search-results li a", "els => els.map(e => e.getAttribute('href'))")
        assert any(h.split("#")[0].split("?")[0].endswith("book/backpropagation.html") for h in hrefs), hrefs[:10]
        assert v.foreign == [] and v.errors == []
    finally:
        v.close()


AXE_RUN = """async (tags) => {
  const rules = axe.getRules(tags).map(r => r.ruleId);
  const result = await axe.run(document, {runOnly: {type: 'rule', values: rules}, resultTypes: ['violations']});
  return {version: axe.version, rules, violations: result.violations};
}"""


def serious_violations(page, axe_source) -> list[str]:
    """Every WCAG 2.x A/AA axe rule on the page as it is now; the serious and critical findings."""
    page.add_script_tag(content=axe_source)
    result = page.evaluate(AXE_RUN, WCAG_TAGS)
    assert "label-content-name-mismatch" in result["rules"] and "color-contrast" in result["rules"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — e.g. {v['nodes'][0]['html'][:120]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("doc", DOCS)
def test_accessibility(request, axe_source, doc, scheme):
    page = request.getfixturevalue("visits" if scheme == "light" else "dark_visits")[doc].page
    assert page.evaluate("() => document.documentElement.dataset.theme") == scheme
    serious = serious_violations(page, axe_source)
    assert serious == [], "\n".join(serious)


@pytest.mark.parametrize("doc", DOCS)
def test_images_have_specific_alt_text(visits, doc):
    alts = visits[doc].page.evaluate(
        "() => [...document.querySelectorAll('main img')].map(i => [i.getAttribute('alt'), i.currentSrc.slice(0, 60)])"
    )
    for alt, src in alts:
        assert alt is not None and alt.strip().lower() not in GENERIC_ALT, f"{doc}: image {src} has alt {alt!r}"
        assert not re.fullmatch(r"[\w/.-]+\.(png|svg|jpg)", alt.strip()), f"{doc}: alt is a file name: {alt!r}"
    figure_alts = [a for a, s in alts if "logo" not in (a or "").lower()]
    if len(figure_alts) > 1:
        assert len(set(figure_alts)) > 1, f"{doc}: every figure has the same alt text"


@pytest.mark.parametrize("doc", DOCS)
def test_phone_layout(browser, server, axe_source, doc):
    """At 375 px nothing scrolls sideways, and what the narrow header hides keeps its accessible name."""
    v = Visit(browser, server, f"{doc}.html", width=375)
    try:
        overflow = v.page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, f"{doc}: {overflow} px of horizontal scroll at 375 px width"
        serious = serious_violations(v.page, axe_source)
        assert serious == [], f"{doc} at 375 px:\n" + "\n".join(serious)
        if doc == "book/welcome":
            v.page.screenshot(path=str(SCREENSHOTS / "phone_book_welcome.png"), full_page=False)
    finally:
        v.close()


# ----------------------------------------------------------------------------- light pages (issue #14)


@pytest.fixture(scope="module")
def weights(browser, server):
    return {doc: weigh.weigh_page(browser, server, f"{doc}.html") for doc in DOCS}


def _weight_report(w) -> str:
    biggest = sorted(w.items, key=lambda i: -i.sent)[:5]
    return ", ".join(f"{i.path} {i.sent / 1000:.0f} KB" for i in biggest)


@pytest.mark.parametrize("doc", DOCS)
def test_page_weight_within_budget(weights, doc):
    w = weights[doc]
    assert w.total <= w.budget, f"{doc}: {w.total / 1000:.0f} KB > {w.budget / 1000:.0f} KB: {_weight_report(w)}"


def test_median_page_weight_within_budget(weights):
    totals = sorted(w.total for w in weights.values())
    median = statistics.median(totals)
    assert median <= weigh.BUDGET_MEDIAN, f"median page {median / 1000:.0f} KB"


def test_pages_without_code_or_math_get_the_small_budget(weights):
    for doc in ("book/references", "book/data"):
        assert weights[doc].plain and weights[doc].budget == weigh.BUDGET_PLAIN_PAGE
    assert not weights["book/regression_to_nn"].plain


FULL_ICON_ASSETS = ("fontawesome.js", "fa-solid-900.woff2", "fa-regular-400.woff2", "fa-brands-400.woff2")


@pytest.mark.parametrize("doc", DOCS)
def test_icons_come_from_the_subset_fonts(visits, doc):
    v = visits[doc]
    v.page.evaluate("() => document.fonts.ready")
    names = [urlparse(u).path.rsplit("/", 1)[-1] for u in v.requested]
    assert not [n for n in names if n in FULL_ICON_ASSETS], names
    assert "fa-solid-900-subset.woff" in names
    shown = v.page.evaluate(
        """() => [...document.querySelectorAll('i.fa-solid, i.fas, i.fab')]
              .filter(i => i.offsetParent !== null)
              .map(i => [i.className, getComputedStyle(i, '::before').content, i.getBoundingClientRect().width])"""
    )
    assert shown, f"{doc}: no visible icon"
    for cls, content, width in shown:
        assert content not in ("none", "normal", '""') and width > 0, f"{doc}: icon {cls!r} is not drawn"


def _demo_frames(page) -> list[list[str]]:
    """Absolute URLs of every demo's frames, and of the frame each demo shows first."""
    return page.evaluate(
        """() => [...document.querySelectorAll('.hcl-demo')].map(d => {
              const data = JSON.parse(d.querySelector('.hcl-demo-data').textContent);
              const img = d.querySelector('.hcl-demo-img');
              return {first: img ? img.src : null,
                      frames: data.frames.filter(f => f.img).map(f => new URL(f.img, location.href).href)};
           })"""
    )


def test_demo_frames_load_only_when_first_picked(browser, server):
    v = Visit(browser, server, "book/welcome.html")
    try:
        demos = [d for d in _demo_frames(v.page) if d["frames"]]
        assert demos, "welcome has demos with figures"
        for d in demos:
            assert d["first"] in d["frames"], "the first frame shown is one of the demo's files"
            assert not d["first"].startswith("data:")
        every = {f for d in demos for f in d["frames"]}
        loaded = set(v.requested) & every
        assert loaded == {d["first"] for d in demos}, "only the frames shown first are fetched on load"
        demo = v.page.locator(".hcl-demo").filter(has=v.page.locator(".hcl-demo-img")).first
        demo.scroll_into_view_if_needed()
        before = demo.locator(".hcl-demo-img").get_attribute("src")
        control = demo.locator(".hcl-demo-controls input, .hcl-demo-controls select").first
        change_control(control)
        img = demo.locator(".hcl-demo-img")
        v.page.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=img.element_handle())
        after = img.evaluate("i => i.src")
        assert after != before and after in every and after in v.requested, "the picked frame is fetched then"
        size = img.evaluate("i => [i.naturalWidth, i.naturalHeight, i.width > 0]")
        assert size[0] > 0 and size[1] > 0 and size[2]
    finally:
        v.close()


@pytest.mark.parametrize("doc", DOCS)
def test_without_javascript_every_figure_and_first_frame_shows(browser, server, doc):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(urljoin(server, f"{doc}.html"), wait_until="load")
        images = page.evaluate(
            """() => [...document.querySelectorAll('article img')]
                  .map(i => [i.getAttribute('src'), i.complete && i.naturalWidth > 0])"""
        )
        broken = [src for src, ok in images if not ok]
        assert broken == [], f"{doc}: images that do not show without JavaScript: {broken}"
        demos = page.locator(".hcl-demo").count()
        if doc in DEMO_DOCS:
            assert demos >= 1
        shown = page.locator(".hcl-demo .hcl-demo-img").count()
        with_figures = page.evaluate(
            """() => [...document.querySelectorAll('.hcl-demo-data')]
                  .filter(s => JSON.parse(s.textContent).frames.some(f => f.img)).length"""
        )
        assert shown == with_figures, f"{doc}: {with_figures} demos draw figures, {shown} show one"
    finally:
        context.close()


@pytest.mark.parametrize("doc", DOCS)
def test_formulas_are_valid_and_readable_by_screen_readers(visits, doc):
    page = visits[doc].page
    found = page.evaluate(
        """() => ({math: document.querySelectorAll('mjx-container').length,
                  errors: [...document.querySelectorAll(
                      'mjx-merror, mjx-mtext[style*="red"], [data-mjx-error], [data-mml-node="merror"]')]
                    .map(e => e.closest('mjx-container').querySelector('math')?.outerHTML.slice(0, 200)),
                  spoken: document.querySelectorAll('mjx-container mjx-assistive-mml math').length})"""
    )
    assert found["errors"] == [], f"{doc}: TeX errors or undefined macros: {found['errors']}"
    assert found["spoken"] == found["math"], f"{doc}: formulas without MathML for screen readers"
