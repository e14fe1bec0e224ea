"""The published site in a real browser: Debian's Chromium driven by Playwright, network cut.

The site is served on 127.0.0.1; every request to another host is recorded and aborted.
Full-page screenshots of every page are saved under _build/screenshots/.
"""

from __future__ import annotations

import re

import pytest

from .conftest import ROOT, Visit, change_control, is_executable, snapshot, toc_docnames

pytestmark = pytest.mark.browser

DOCS = toc_docnames()
SCREENSHOTS = ROOT / "_build" / "screenshots"
GENERIC_ALT = {"", "image", "png", "figure", "output image from code cell above", "_images"}


@pytest.fixture(scope="module")
def visits(browser, server):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    opened = {}
    for doc in DOCS:
        v = Visit(browser, server, f"{doc}.html")
        v.page.screenshot(path=str(SCREENSHOTS / f"{doc.replace('/', '_')}.png"), full_page=True)
        opened[doc] = v
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


def test_math_renders_as_mathjax(visits):
    page = visits["book/regression_to_nn"].page
    assert page.locator("mjx-container").count() > 0


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


@pytest.mark.parametrize("doc", DOCS)
def test_accessibility(visits, axe_source, doc):
    page = visits[doc].page
    page.add_script_tag(content=axe_source)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} — e.g. {v['nodes'][0]['html'][:120]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
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
def test_no_horizontal_scroll_on_a_phone(browser, server, doc):
    v = Visit(browser, server, f"{doc}.html", width=375)
    try:
        overflow = v.page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, f"{doc}: {overflow} px of horizontal scroll at 375 px width"
        if doc == "book/welcome":
            v.page.screenshot(path=str(SCREENSHOTS / "phone_book_welcome.png"), full_page=False)
    finally:
        v.close()
