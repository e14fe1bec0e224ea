"""Slide decks: the {slide} directive and the deck builder on a fixture book, and every deck of the built book.

The browser checks of the decks are in test_slides_browser.py, the PDF handouts in test_handouts.py.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from .conftest import FRONT, MYST_SYNTAX, ROOT, build, cache_entries, code, deck_docs, make_book

LESSON = (
    FRONT
    + "# Lesson one\n\n"
    + "```{slide} The claim\n- a model with $y = w x$\n- see {doc}`intro` on zebrafish\n```\n\n"
    + "The lesson starts with a claim, in the prose of the introduction.\n\n"
    + "## The data\n\n"
    + "```{slide}\n:show: fig-line tab-numbers\nSlide **text** about the data.\n```\n\n"
    + "First paragraph of the data section, which the speaker reads.\n\n"
    + "- a list item of the prose\n\n"
    + code(
        "---\nmystnb:\n  image:\n    alt: A rising line from 0 to 2\n"
        "  figure:\n    caption: A line with slope 2.\n    name: fig-line\n---\n"
        "import matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(2, 2))\n"
        "ax.plot([0, 1], [0, 2])\nfig.tight_layout()"
    )
    + "\nText between the figure and the table.\n\n(tab-numbers)=\n"
    + code("import pandas as pd\npd.DataFrame({'n': [11, 22, 33]}, index=['a', 'b', 'c'])")
    + "\n## A demo\n\n"
    + "```{slide} Try the slope\n:show: demo-slope\n:layout: split\nMove the slider.\n```\n\n"
    + "The demo section's prose.\n\n(demo-slope)=\n"
    + code(
        "from heicadlearn.demo import demo, slider\n"
        "def f(k):\n"
        "    fig, ax = plt.subplots(figsize=(2, 2))\n"
        "    ax.plot([0, 1], [0, k])\n"
        'demo(f, k=slider("Slope", [1, 2, 3]), alt="line with slope {k}")'
    )
    + "\n## No slide here\n\nA section without a slide block makes no slide.\n"
)
INTRO = "# Intro\n\nNo slides in this page, so no deck.\n"


class Deck(HTMLParser):
    """The slides of a deck (reveal's top-level sections), with their text, notes and tags."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.slides: list[dict] = []
        self._depth = 0  # depth of <section> nesting
        self._divs: list[bool] = []  # open <div>s: is it a slide's text?
        self._in_notes = False
        self._skip = 0
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "section":
            self._depth += 1
            if self._depth == 1:
                self.slides.append({"id": attrs.get("id"), "text": "", "slide_text": "", "notes": "", "tags": []})
        elif self.slides and self._depth:
            self.slides[-1]["tags"].append((tag, attrs))
        if tag == "div":
            self._divs.append("hcl-slide-text" in attrs.get("class", ""))
        if tag == "aside" and "notes" in attrs.get("class", ""):
            self._in_notes = True
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag == "section":
            self._depth -= 1
        elif tag == "aside":
            self._in_notes = False
        elif tag == "div" and self._divs:
            self._divs.pop()
        elif tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if self._depth and self.slides and not self._skip:
            self.slides[-1]["notes" if self._in_notes else "text"] += data
            if any(self._divs):
                self.slides[-1]["slide_text"] += data


def deck(path: Path) -> Deck:
    return Deck(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def lesson_book(tmp_path_factory):
    book = make_book(tmp_path_factory.mktemp("slides"), {"intro": INTRO, "lesson": LESSON})
    result = build(book)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return book


@pytest.mark.fixture_book
def test_a_deck_per_chapter_with_slides_and_its_slides(lesson_book):
    site = lesson_book / "_build/html"
    assert sorted(p.name for p in (site / "slides").iterdir()) == ["lesson.html"]
    html = (site / "slides/lesson.html").read_text()
    d = deck(site / "slides/lesson.html")
    assert re.search(r'<html lang="en">', html)
    assert re.search(r"<title>Lesson one: slides\. ", html)
    # A title slide, then one slide per {slide} block, titled by the block or its section.
    titles = [re.sub(r"\s+", " ", s["text"]).strip() for s in d.slides]
    assert len(d.slides) == 4, titles
    assert titles[0].startswith("Lesson one")
    assert titles[1].startswith("The claim") and titles[2].startswith("The data")
    assert titles[3].startswith("Try the slope")
    assert not any("No slide here" in t for t in titles)
    # The slide text is MyST rendered by the HTML translator: emphasis, math, a resolved link.
    assert "<strong>text</strong>" in html
    assert r"\(y = w x\)" in html
    link = next(a for t, a in d.slides[1]["tags"] if t == "a")
    assert link["href"] == "../book/intro.html"
    # Notes: the prose of the slide's section, as text, and nothing of other sections.
    assert "First paragraph of the data section, which the speaker reads." in d.slides[2]["notes"]
    assert "a list item of the prose" in d.slides[2]["notes"]
    assert "Text between the figure and the table." in d.slides[2]["notes"]
    assert "The demo section" not in d.slides[2]["notes"]
    assert "The lesson starts with a claim" in d.slides[1]["notes"]
    # The back link to the chapter.
    assert any(t == "a" and a.get("href") == "../book/lesson.html" for t, a in d.tags)
    assert not MYST_SYNTAX.search(re.sub(r"<script.*?</script>", "", html, flags=re.S))


@pytest.mark.fixture_book
def test_slides_show_what_the_page_computed(lesson_book):
    site = lesson_book / "_build/html"
    d = deck(site / "slides/lesson.html")
    data = d.slides[2]
    # The named figure: its image is the page's own file in _images, with the page's alt text.
    imgs = [a for t, a in data["tags"] if t == "img"]
    assert len(imgs) == 1 and imgs[0]["src"].startswith("../_images/"), imgs
    assert imgs[0]["alt"] == "A rising line from 0 to 2"
    assert (site / "slides" / imgs[0]["src"]).resolve().is_file()
    page = (site / "book/lesson.html").read_text()
    assert imgs[0]["src"].removeprefix("../") in page
    assert "A line with slope 2." in data["text"]
    # The named cell's output: the data frame of the page.
    assert "33" in data["text"] and any(t == "table" for t, _ in data["tags"])
    # The demo: its controls and its inline script, as on the page.
    html = (site / "slides/lesson.html").read_text()
    demo = d.slides[3]
    assert any(t == "input" and a.get("type") == "range" for t, a in demo["tags"])
    assert 'class="hcl-demo-data"' in html and "hcl-layout-split" in html
    # Its frames are the page's own image files, not copies embedded in the deck.
    frames = json.loads(re.search(r'class="hcl-demo-data">(.*?)</script>', html, re.S).group(1))["frames"]
    assert len(frames) == 3 and all(f["img"].startswith("../_images/") for f in frames), frames
    assert all((site / "slides" / f["img"]).resolve().is_file() for f in frames)
    assert "iVBORw0KGgo" not in html  # no PNG embedded as base64 (its signature's encoding)
    # reveal.js and its plugins are served by the site itself.
    for name in ("reveal.js", "reveal.css", "plugin/notes.js", "plugin/math.js", "heicadlearn-deck.css"):
        assert (site / "_static/reveal" / name).is_file(), name
    srcs = [a.get("src") or a.get("href") for t, a in d.tags if t in ("script", "link", "img")]
    srcs = [s for s in srcs if s is not None]  # inline scripts
    assert len(srcs) >= 7 and not [s for s in srcs if re.match(r"(https?:)?//", s)], srcs
    assert "../_static/mathjax/tex-chtml.js" in html


@pytest.mark.fixture_book
def test_the_page_hides_the_slides_and_links_the_deck(lesson_book):
    site = lesson_book / "_build/html"
    page = (site / "book/lesson.html").read_text()
    assert "Slide <strong>text</strong>" not in page and "a model with" not in page and "Move the slider" not in page
    assert "The lesson starts with a claim" in page  # the prose stays
    button = re.search(r'<a href="([^"]+)"[^>]*class="btn btn-sm btn-hcl-slides', page)
    assert button and button.group(1) == "../slides/lesson.html"
    intro = (site / "book/intro.html").read_text()
    assert "btn-hcl-slides" not in intro
    search = (site / "searchindex.js").read_text()
    assert "zebrafish" not in search and "zebrafish" not in page  # slide text is not the page's text
    notebook = (site / "_notebooks/book/lesson.ipynb").read_text()
    assert "Move the slider" not in notebook and "{slide}" not in notebook
    assert "The demo section's prose." in notebook


@pytest.mark.fixture_book
def test_a_changed_chapter_changes_its_deck_without_executing_again(lesson_book):
    page = lesson_book / "book/lesson.md"
    before = cache_entries(lesson_book)
    page.write_text(page.read_text().replace("Move the slider.", "Drag the slider to the right."))
    result = build(lesson_book)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    html = (lesson_book / "_build/html/slides/lesson.html").read_text()
    assert "Drag the slider to the right." in html and "Move the slider." not in html
    assert cache_entries(lesson_book) == before
    # An unchanged chapter keeps its deck, figures included, on a build that does not write its page.
    result = build(lesson_book)
    assert result.returncode == 0
    d = deck(lesson_book / "_build/html/slides/lesson.html")
    img = next(a for t, a in d.slides[2]["tags"] if t == "img")
    assert (lesson_book / "_build/html/slides" / img["src"]).resolve().is_file()


@pytest.mark.fixture_book
def test_a_slide_naming_a_missing_figure_stops_the_build_with_file_and_line(tmp_path):
    # (After a code cell: myst-nb numbers the lines of a chapter's first Markdown cell one too high, its own
    # warnings included.)
    page = FRONT + "# Broken\n\n" + code("print(1)") + "\n## Section\n\n```{slide}\n:show: fig-nowhere\nText.\n```\n"
    result = build(make_book(tmp_path, {"broken": page}))
    assert result.returncode != 0
    line = page.splitlines().index("```{slide}") + 1
    log = result.stdout + result.stderr
    assert f"book/broken.md:{line}" in log and "'fig-nowhere'" in log, log[-2000:]


def test_slides_and_targets_leave_the_learner_notebook_unchanged():
    from heicadlearn_book.notebooks import LinkContext, chapter_to_notebook

    plain = FRONT + "# Page\n\n## Data\n\nProse about the data.\n\n- one\n- two\n\n" + code("x = 1\nx") + "\nMore.\n"
    with_slides = plain.replace(
        "## Data\n", "## Data\n\n````{slide} On the slide\n:show: tab-x\n- a point\n\n```python\nx\n```\n````\n"
    ).replace("- two\n\n```{code-cell}", "- two\n\n(tab-x)=\n```{code-cell}")
    assert with_slides.count("{slide}") == 1 and "(tab-x)=" in with_slides
    ctx = LinkContext(site_url="https://s/", docname="book/page")
    cells = [
        [(c.cell_type, c.source, c.metadata.get("tags")) for c in chapter_to_notebook(text, ctx, "pkg").cells]
        for text in (plain, with_slides)
    ]
    assert cells[0] == cells[1]
    assert not any("a point" in source or "tab-x" in source for _, source, _ in cells[1])


# --- the built book ----------------------------------------------------------------------------

DECKS = deck_docs()


@pytest.mark.book
def test_one_deck_per_chapter_and_nothing_else(site):
    assert sorted(p.stem for p in (site / "slides").glob("*.html")) == sorted(Path(d).name for d in DECKS)


@pytest.mark.book
@pytest.mark.parametrize("doc", DECKS)
def test_deck_has_enough_slides_and_every_name_exists(site, doc):
    text = (ROOT / f"{doc}.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^`{3,}\{slide\}[^\n]*\n((?::[\w-]+:[^\n]*\n)*)", text, re.M)
    names = [n for opts in blocks for n in re.findall(r"^:show:\s*(.*)$", opts, re.M) for n in n.split()]
    d = deck(site / "slides" / f"{Path(doc).name}.html")
    assert 10 <= len(d.slides) <= 26, f"{doc}: {len(d.slides)} slides"  # a title slide + 10 to 25
    assert len(d.slides) == len(blocks) + 1
    html = (site / "slides" / f"{Path(doc).name}.html").read_text(encoding="utf-8")
    for name in names:
        assert f'id="{name}"' in html or f'data-name="{name}"' in html, f"{doc}: {name} is not on its slide"
    assert all(s["text"].strip() for s in d.slides)
    assert sum(bool(s["notes"].strip()) for s in d.slides[1:]) >= len(d.slides[1:]) - 1, f"{doc}: slides without notes"


@pytest.mark.book
@pytest.mark.parametrize("doc", DECKS)
def test_no_myst_syntax_leaks_into_a_deck(site, doc):
    html = (site / "slides" / f"{Path(doc).name}.html").read_text(encoding="utf-8")
    visible = re.sub(r"<script.*?</script>|<style.*?</style>", "", html, flags=re.S)
    match = MYST_SYNTAX.search(visible)
    assert match is None, f"{doc}: {match.group(0)!r} near {visible[max(0, match.start() - 80) : match.end() + 80]!r}"
    for raw in ("```", ":::", "{glue", "{cite", "{doc}", "{ref}", "{numref}", "{math}"):
        assert raw not in visible, f"{doc}: {raw!r} in the deck"


@pytest.mark.book
@pytest.mark.parametrize("doc", DECKS)
def test_deck_and_chapter_link_each_other(site, doc):
    name = Path(doc).name
    page = (site / f"{doc}.html").read_text(encoding="utf-8")
    assert f'href="../slides/{name}.html"' in page, f"{doc}: no Slides button"
    d = deck(site / "slides" / f"{name}.html")
    assert any(t == "a" and a.get("href") == f"../{doc}.html" for t, a in d.tags)
    for tag, attrs in d.tags:
        url = attrs.get("src") or (attrs.get("href") if tag in ("link", "a") else None)
        if url and not re.match(r"(https?:|mailto:|#|data:)", url):
            assert (site / "slides" / url.split("#")[0]).resolve().exists(), f"{doc}: {url} does not exist"
        if url and tag in ("script", "link", "img"):
            assert not re.match(r"(https?:)?//", url), f"{doc} deck loads {url} from another host"


@pytest.mark.book
@pytest.mark.parametrize("doc", DECKS)
def test_slide_text_stays_off_the_page(site, doc):
    page = (site / f"{doc}.html").read_text(encoding="utf-8")
    assert 'class="hcl-slide' not in page and "{slide}" not in page
    words = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    for s in deck(site / "slides" / f"{Path(doc).name}.html").slides[1:]:
        text = " ".join(s["slide_text"].split())
        if len(text) >= 40:
            assert text not in words, f"{doc}: the slide text {text[:60]!r} is on the page"
