"""End-to-end checks of the real, built book in _build/html (made by `make book`)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import nbformat
import pytest
from heicadlearn_book import weight
from PIL import Image

from .conftest import ROOT, cached_execution, front_matter, is_executable, jupyter_book, toc_docnames

pytestmark = pytest.mark.book

DOCS = toc_docnames()
CHAPTERS = [d for d in DOCS if is_executable(d)]
# Traces of the build machine or of TensorFlow's start-up that must never reach a page.
MACHINE = r"/root/|/home/|/tmp/|/work/|site-packages"
TF_NOISE = (
    r"cudart_stub|absl::InitializeLog|oneDNN custom operations|TF_ENABLE_ONEDNN_OPTS|I0000 00:00|W0000 00:00"
    r"|E0000 00:00|This TensorFlow binary is optimized|\d+/\d+ ━"
)
# In outputs, also the virtual environment's folder; the prose may name `.venv/bin/...` on purpose.
NOISE = re.compile(rf"({MACHINE}|\.venv/|{TF_NOISE})")
PAGE_NOISE = re.compile(rf"({MACHINE}|{TF_NOISE})")


class Page(HTMLParser):
    """Collects tags and visible text of a page."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def main_content(html: str) -> str:
    start = html.find('<article class="bd-article"')
    end = html.find("</article>", start)
    return html[start:end] if start != -1 else html


@pytest.mark.parametrize("doc", DOCS)
def test_every_toc_entry_has_a_page(site, doc):
    assert (site / f"{doc}.html").is_file()


def executed(doc: str) -> nbformat.NotebookNode:
    return cached_execution(doc)


@pytest.mark.parametrize("doc", CHAPTERS)
def test_the_chapters_own_solutions_pass_their_answer_checks(doc):
    for cell in executed(doc).cells:
        if "answer-check" in cell.metadata.get("tags", []):
            out = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
            assert out.startswith("Correct:") and "Not yet" not in out, f"{doc}: {cell.source[:80]!r} printed {out!r}"


@pytest.mark.parametrize("doc", CHAPTERS)
def test_every_code_cell_ran_in_order(doc):
    nb = executed(doc)
    counts = [c.execution_count for c in nb.cells if c.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1)), f"cells not run top to bottom: {counts}"
    figures = [c for c in nb.cells if c.cell_type == "code" and "figure" in c.metadata.get("mystnb", {})]
    for cell in figures:
        kinds = {k for o in cell.outputs for k in o.get("data", {})}
        assert "image/png" in kinds, f"captioned figure without an image: {cell.source[:60]!r}"


@pytest.mark.parametrize("doc", CHAPTERS)
def test_no_errors_noise_or_machine_paths_in_outputs(site, doc):
    nb = executed(doc)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        expected_error = "raises-exception" in cell.metadata.get("tags", [])
        for out in cell.outputs:
            if out.output_type == "error":
                assert expected_error, f"unexpected error output in {doc}: {out.ename}: {out.evalue}"
            if out.output_type == "stream":
                assert out.name == "stdout", f"stderr output in {doc}: {out.text[:200]}"
            text = json.dumps(out)
            assert not NOISE.search(text), f"{doc}: {NOISE.search(text).group(0)!r} in {text[:300]}"
    html = main_content((site / f"{doc}.html").read_text(encoding="utf-8"))
    html = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)
    assert not PAGE_NOISE.search(html), f"{doc}: {PAGE_NOISE.search(html).group(0)!r} on the page"


@pytest.mark.parametrize("doc", DOCS)
def test_pages_load_nothing_from_other_hosts(site, doc):
    page = parse(site / f"{doc}.html")
    for tag, attrs in page.tags:
        url = None
        if tag in ("script", "img", "iframe", "source", "video", "audio"):
            url = attrs.get("src")
        elif tag == "link" and attrs.get("rel") not in ("canonical", None):
            url = attrs.get("href")
        if url:
            assert not re.match(r"^(https?:)?//", url), f"{doc} loads {url} from another host"
    html = (site / f"{doc}.html").read_text(encoding="utf-8")
    for host in ("unpkg.com", "cdn.jsdelivr.net", "cdnjs.cloudflare.com", "googletagmanager", "plausible.io"):
        assert host not in html, f"{doc} mentions {host}"


def test_formulas_are_typeset_when_the_book_is_built(site):
    html = (site / "book/regression_to_nn.html").read_text(encoding="utf-8")
    formulas = html.count('class="math notranslate nohighlight"')
    assert formulas > 50
    assert html.count('<mjx-container class="MathJax" jax="SVG"') == formulas
    assert html.count("<mjx-assistive-mml") == formulas, "every formula needs its MathML copy for screen readers"
    assert 'href="../_static/heicadlearn-math.css' in html
    assert "mjx-assistive-mml" in (site / "_static/heicadlearn-math.css").read_text(encoding="utf-8")
    # The decks' math plugin still gets MathJax from the site.
    assert (site / "_static/mathjax/tex-chtml.js").is_file()


@pytest.mark.parametrize("doc", CHAPTERS)
def test_launch_buttons_open_the_generated_notebook(site, doc):
    page = parse(site / f"{doc}.html")
    links = {
        a.get("class", ""): a["href"] for t, a in page.tags if t == "a" and "hcl-launch-button" in a.get("class", "")
    }
    colab = next(v for k, v in links.items() if "colab" in k)
    hub = next(v for k, v in links.items() if "hub" in k)
    download = next(v for k, v in links.items() if "download" in k)
    expected = f"_notebooks/{doc}.ipynb"
    c = urlparse(colab)
    assert (c.scheme, c.netloc) == ("https", "colab.research.google.com")
    assert c.path.endswith("/blob/notebooks/" + expected)
    h = urlparse(hub)
    assert h.scheme == "https" and h.path == "/hub/user-redirect/git-pull"
    query = parse_qs(h.query)
    assert query["branch"] == ["notebooks"] and query["repo"][0].startswith("https://github.com/")
    repo = query["repo"][0].rstrip("/").rsplit("/", 1)[1]
    assert query["urlpath"] == [f"lab/tree/{repo}/{expected}"]
    assert " " not in hub and "/" not in h.query.split("urlpath=")[1], "hub URL must be URL-encoded"
    # Strip the host (and the repository prefix): the notebook is at that path in the site.
    for path in (unquote(c.path.split("/blob/notebooks/", 1)[1]), query["urlpath"][0].split(f"{repo}/", 1)[1]):
        assert (site / path).is_file(), path
    assert (site / doc).parent.joinpath(download).resolve() == (site / expected).resolve()


@pytest.mark.parametrize("doc", [d for d in DOCS if not is_executable(d)])
def test_pages_without_code_have_no_launch_buttons(site, doc):
    assert "hcl-launch-button" not in (site / f"{doc}.html").read_text(encoding="utf-8")


def test_no_launch_link_points_at_markdown(site):
    for html in site.rglob("*.html"):
        for url in re.findall(r'href="([^"]+)"', html.read_text(encoding="utf-8")):
            if "colab.research.google.com" in url or "git-pull" in url or "binder" in url:
                assert ".md" not in unquote(url), f"{html.name}: {url}"


@pytest.mark.parametrize("doc", CHAPTERS)
def test_gpu_note_matches_front_matter(site, doc):
    wants = (front_matter(doc).get("heicadlearn") or {}).get("accelerator") == "GPU"
    assert ("hcl-launch-gpu" in (site / f"{doc}.html").read_text(encoding="utf-8")) == wants


def test_search_index_covers_the_chapters(site):
    index = (site / "searchindex.js").read_text(encoding="utf-8")
    for doc in CHAPTERS:
        assert f'"{doc}"' in index


def cache_records(cache: Path) -> list[tuple]:
    from jupyter_cache import get_cache

    return sorted((r.pk, r.hashkey, str(r.created)) for r in get_cache(str(cache)).list_cache_records())


def test_rebuild_of_a_moved_copy_executes_nothing(tmp_path):
    """A copy of the repository (another path) with the same cache builds strictly without executing."""
    cache = ROOT / ".jupyter_cache"
    before = cache_records(cache)
    assert len(before) >= len(CHAPTERS), "every chapter should have a cached execution"
    copy = tmp_path / "checkout"
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    for name in files:
        if (ROOT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy / name)
    shutil.copytree(cache, copy / ".jupyter_cache")
    (copy / "node_modules").symlink_to(ROOT / "node_modules")
    env = dict(os.environ)
    result = subprocess.run(
        jupyter_book("."),
        cwd=copy,
        capture_output=True,
        text=True,
        env=env,
        timeout=1200,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Executing notebook" not in result.stdout + result.stderr
    assert cache_records(copy / ".jupyter_cache") == before, "the rebuild executed a notebook"
    assert (copy / "_build/html/book/welcome.html").is_file()


# ----------------------------------------------------------------------------- light pages (issue #14)
# (Page weights themselves are measured in the browser: tests/test_browser.py.)

EMBEDDED_IMAGE = re.compile(r"data:image/[\w+.-]+;base64,[A-Za-z0-9+/]{16}")


def demo_payloads(html: str) -> list[dict]:
    return [
        json.loads(m.replace("<\\/", "</"))
        for m in re.findall(r'<script type="application/json" class="hcl-demo-data">(.*?)</script>', html, re.S)
    ]


@pytest.mark.parametrize("doc", DOCS)
def test_figures_and_demo_frames_are_webp_files(site, doc):
    path = site / f"{doc}.html"
    html = path.read_text(encoding="utf-8")
    assert not EMBEDDED_IMAGE.search(html), f"{doc} embeds an image: {EMBEDDED_IMAGE.search(html).group(0)}"
    images = [a["src"] for t, a in parse(path).tags if t == "img" and "_images/" in a.get("src", "")]
    for payload in demo_payloads(html):
        for frame in payload["frames"]:
            if "img" in frame:
                assert not frame["img"].startswith("data:"), "a demo frame is still embedded"
                images.append(frame["img"])
                with Image.open(path.parent / frame["img"]) as im:
                    assert (im.width, im.height) == (frame["width"], frame["height"])
    if doc in CHAPTERS and doc not in ("book/group_work", "book/jupyterhub_colab"):
        assert images, f"{doc} shows no figure"
    for src in images:
        file = (path.parent / src).resolve()
        assert file.is_file(), src
        assert file.suffix == ".webp", f"{doc}: {src} is not WebP"
        with Image.open(file) as im:
            assert im.format == "WEBP"
            im.load()


def site_pages(site: Path) -> list[Path]:
    """Every page a reader can open (the theme's templates under _static are not pages)."""
    return [p for p in site.rglob("*.html") if "_static" not in p.relative_to(site).parts]


def test_fontawesome_script_is_not_loaded(site):
    pages = site_pages(site)
    assert len(pages) >= len(DOCS)
    for html in pages:
        assert "fontawesome.js" not in html.read_text(encoding="utf-8"), html.name


def test_every_icon_on_the_pages_is_in_the_subset_fonts(site):
    from fontTools.ttLib import TTFont

    names, drawn = weight.theme_icons(weight.theme_css_files())
    fonts = {
        stem: set(TTFont(str(site / "_static" / weight.ICON_DIR / f"{stem}-subset.woff")).getBestCmap())
        for stem, _, _ in weight.ICON_FONTS
    }
    used = set()
    for html in site_pages(site):
        for _, attrs in parse(html).tags:
            classes = attrs.get("class", "").split()
            for c in classes:
                if c.startswith("fa-") and c[3:] in names:
                    brands = "fab" in classes or "fa-brands" in classes
                    used.add((c[3:], "fa-brands-400" if brands else "fa-solid-900"))
    assert ("magnifying-glass", "fa-solid-900") in used and ("github", "fa-brands-400") in used
    unlisted = sorted(n for n, _ in used if n not in weight.ICONS)
    assert unlisted == [], f"add these icons to weight.ICONS: {unlisted}"
    for name, stem in used:
        assert names[name] in fonts[stem], f"{name} is missing from {stem}-subset.woff"
    for codepoint in drawn:
        assert any(codepoint in cmap for cmap in fonts.values()), hex(codepoint)
    css = (site / "_static" / weight.ICON_CSS).read_text(encoding="utf-8")
    for stem, family, font_weight in weight.ICON_FONTS:
        assert f'font-family:"{family}";font-style:normal;font-weight:{font_weight}' in css
        assert f"{stem}-subset.woff" in css
    page = (site / "book/references.html").read_text(encoding="utf-8")
    assert page.index("pydata-sphinx-theme.css") < page.index(weight.ICON_CSS), "subsets must come after the theme"


def test_mathjax_is_tex_chtml_without_the_menu(site):
    served = (site / "_static/mathjax/tex-chtml.js").read_text(encoding="utf-8")
    assert served == weight.mathjax_bundle(ROOT / "node_modules/mathjax/es5")
    full = (ROOT / "node_modules/mathjax/es5/tex-chtml.js").read_text(encoding="utf-8")
    for marker in ("MenuHandler", "ContextMenu"):
        assert marker in full and marker not in served
    for marker in ("AssistiveMml", 'registerConstructor("tex"', "CHTML"):
        assert marker in served, marker
    assert len(served) < 0.7 * len(full)


@pytest.mark.parametrize("doc", DOCS)
def test_no_page_loads_mathjax_and_formula_ids_are_unique(site, doc):
    page = parse(site / f"{doc}.html")
    scripts = [a.get("src", "") + a.get("body", "") for t, a in page.tags if t == "script"]
    assert not any("mathjax" in s.lower() for s in scripts), f"{doc} loads MathJax: its formulas are typeset already"
    ids = [a["id"] for t, a in page.tags if "id" in a]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    assert repeated == [], f"{doc}: element ids used twice: {repeated[:5]}"
    used = {a.get("xlink:href", a.get("href", ""))[1:] for t, a in page.tags if t == "use"}
    assert used <= set(ids), f"{doc}: formula glyphs without their definition: {sorted(used - set(ids))[:5]}"


@pytest.mark.parametrize("doc", CHAPTERS)
def test_figures_load_lazily_and_scripts_deferred(site, doc):
    page = parse(site / f"{doc}.html")
    figures = [
        a
        for t, a in page.tags
        if t == "img" and "_images/" in a.get("src", "") and "hcl-demo-img" not in a.get("class", "")
    ]
    assert all(a.get("loading") == "lazy" for a in figures), doc
    blocking = [
        a["src"] for t, a in page.tags if t == "script" and a.get("src") and "defer" not in a and "async" not in a
    ]
    assert [s.split("?")[0].rsplit("/", 1)[-1] for s in blocking] == ["documentation_options.js"], blocking
