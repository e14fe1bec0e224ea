"""Build behaviour on small fixture books, built with the book's own _config.yml and extension."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from .conftest import FRONT, build, cache_entries, code, make_book

pytestmark = pytest.mark.fixture_book

DEMO_PAGE = (
    FRONT
    + "# Demo page\n\nEuler: $e^{i\\pi} + 1 = 0$.\n\n"
    + code(
        "import matplotlib.pyplot as plt\n"
        "from heicadlearn.demo import demo, slider\n"
        "def f(k):\n"
        "    fig, ax = plt.subplots(figsize=(2, 2))\n"
        "    ax.plot([0, 1], [0, k])\n"
        'demo(f, k=slider("Slope", [1, 2, 3]), alt="line with slope {k}")'
    )
    + "\nSee {doc}`prose`.\n"
)
PROSE_PAGE = "# Prose only\n\nNo code here, so no launch buttons.\n"


def test_demo_page_is_static_offline_and_launchable(tmp_path):
    book = make_book(tmp_path, {"demo": DEMO_PAGE, "prose": PROSE_PAGE})
    result = build(book)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    html = (book / "_build/html/book/demo.html").read_text()
    # The demo was precomputed: three frames, and the control that switches them.
    payload = re.search(r'class="hcl-demo-data">(.*?)</script>', html, re.S).group(1)
    frames = json.loads(payload.replace("<\\/", "</"))["frames"]
    # Three precomputed frames, each an image file of the site (or still embedded) with its alt text.
    assert len(frames) == 3 and all(("src" in f or "img" in f) and f.get("alt") for f in frames)
    assert 'type="range"' in html
    # The formula was typeset while building (SVG and MathML), so the page loads no MathJax; the site
    # still serves MathJax itself, for the slide decks. Nothing is loaded from another host.
    assert '<mjx-container class="MathJax" jax="SVG"' in html and "<mjx-assistive-mml" in html
    assert "mathjax/tex-chtml.js" not in html and "_static/heicadlearn-math.css" in html
    assert "mjx-assistive-mml" in (book / "_build/html/_static/heicadlearn-math.css").read_text()
    assert (book / "_build/html/_static/mathjax/tex-chtml.js").is_file()
    assert (book / "_build/html/_static/mathjax/output/chtml/fonts/woff-v2").is_dir()
    loads = [t for t in re.findall(r"<(?:script|link|img)[^>]*>", html) if 'rel="canonical"' not in t]
    external = [t for t in loads if re.search(r'(?:src|href)="(?:https?:)?//', t)]
    assert external == [], external
    assert "unpkg.com" not in html and "cdn.jsdelivr" not in html and "cdnjs" not in html
    # Launch buttons and the generated notebook on the executable page only.
    assert (book / "_build/html/_notebooks/book/demo.ipynb").is_file()
    assert "Open in Colab" in html and "Open on JupyterHub" in html
    prose = (book / "_build/html/book/prose.html").read_text()
    assert "Open in Colab" not in prose and not (book / "_build/html/_notebooks/book/prose.ipynb").exists()


def test_oversized_demo_stops_the_build(tmp_path):
    page = (
        FRONT
        + "# Too big\n\n"
        + code(
            "from heicadlearn.demo import demo, slider\n"
            'demo(print, a=slider("a", range(8)), b=slider("b", range(8)), alt="x")'
        )
    )
    result = build(make_book(tmp_path, {"big": page}))
    assert result.returncode != 0
    log = result.stdout + result.stderr
    reports = list((tmp_path / "fixture/_build/html/reports").rglob("*.log"))
    report = "".join(r.read_text() for r in reports)
    assert "DemoTooLargeError" in report and "64 settings (8 x 8), more than the 60" in report
    assert "big" in log


def test_cell_error_fails_the_build_and_keeps_a_report(tmp_path):
    result = build(make_book(tmp_path, {"err": FRONT + "# Error\n\n" + code("1 / 0")}))
    assert result.returncode != 0
    reports = list((tmp_path / "fixture/_build/html/reports").rglob("*.log"))
    assert reports and "ZeroDivisionError" in reports[0].read_text()


def test_expected_error_needs_the_raises_exception_tag(tmp_path):
    page = FRONT + "# Expected error\n\n" + code("1 / 0", tags="raises-exception") + code("print('after')")
    result = build(make_book(tmp_path, {"ok": page}))
    assert result.returncode == 0, result.stdout[-3000:]
    html = (tmp_path / "fixture/_build/html/book/ok.html").read_text()
    assert "ZeroDivisionError" in html and "after" in html


def test_warnings_in_cells_fail_the_build(tmp_path):
    page = FRONT + "# Warning\n\n" + code('import warnings\nwarnings.warn("genuine problem")')
    result = build(make_book(tmp_path, {"warn": page}))
    assert result.returncode != 0
    assert "stderr was found in the cell outputs" in result.stdout + result.stderr


def test_failed_chapter_fails_again_until_it_passes(tmp_path, monkeypatch):
    page = FRONT + "# Flaky\n\n" + code('import os\nassert os.environ.get("HCL_FIXTURE_FAIL") != "1", "told to fail"')
    book = make_book(tmp_path, {"flaky": page})
    monkeypatch.setenv("HCL_FIXTURE_FAIL", "1")
    for attempt in (1, 2):  # nothing changes between the two builds
        result = build(book)
        assert result.returncode != 0, f"build {attempt} reported success over a failed chapter"
        assert "Executing notebook" in result.stdout + result.stderr, f"build {attempt} did not execute the chapter"
        html = (book / "_build/html/book/flaky.html").read_text()
        assert "hcl-execution-failed" in html and "This page is incomplete" in html
    assert cache_entries(book) == set()
    monkeypatch.delenv("HCL_FIXTURE_FAIL")
    result = build(book)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "hcl-execution-failed" not in (book / "_build/html/book/flaky.html").read_text()
    assert len(cache_entries(book)) == 1


def test_cache_follows_the_helper_modules_each_chapter_imports(tmp_path, monkeypatch):
    """Editing a helper module executes again exactly the chapters that import it, directly or not."""
    helpers = tmp_path / "helpers" / "fixturepkg"
    helpers.mkdir(parents=True)
    (helpers / "__init__.py").write_text('"""Fixture helper package."""\n')
    (helpers / "base.py").write_text("VALUE = 1\n")
    (helpers / "derived.py").write_text("from .base import VALUE\n\nDOUBLE = 2 * VALUE\n")
    (helpers / "other.py").write_text("NAME = 'other'\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "helpers"))
    pages = {
        "intro": FRONT + "# Intro\n\nNo helpers.\n\n" + code("print(1 + 1)"),
        "uses_base": FRONT + "# Base\n\n" + code("from fixturepkg.base import VALUE\nprint(VALUE)"),
        "uses_derived": FRONT + "# Derived\n\n" + code("import fixturepkg.derived as d\nprint(d.DOUBLE)"),
        "uses_other": FRONT + "# Other\n\n" + code("from fixturepkg import other\nprint(other.NAME)"),
    }
    book = make_book(tmp_path, pages)
    config = yaml.safe_load((book / "_config.yml").read_text())
    config["sphinx"]["config"]["heicadlearn_helper_package"] = "fixturepkg"
    (book / "_config.yml").write_text(yaml.safe_dump(config))

    def rebuild_executes() -> set[str]:
        before = cache_entries(book)
        result = build(book)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        return {name for name, _ in cache_entries(book) - before}

    assert rebuild_executes() == {f"{n}.md" for n in pages}
    assert rebuild_executes() == set()  # nothing changed
    (helpers / "base.py").write_text("VALUE = 3\n")
    assert rebuild_executes() == {"uses_base.md", "uses_derived.md"}
    (helpers / "derived.py").write_text("from .base import VALUE\n\nDOUBLE = VALUE + VALUE\n")
    assert rebuild_executes() == {"uses_derived.md"}
    page = book / "book" / "uses_other.md"
    page.write_text(page.read_text().replace("# Other\n", "# Other\n\nMore prose, same code.\n"))
    assert rebuild_executes() == set()
    assert "6" in (book / "_build/html/book/uses_derived.html").read_text()


def test_only_pages_in_the_toc_are_built(tmp_path):
    """Virtual environments and scratch copies inside the checkout never become pages or notebooks."""
    book = make_book(tmp_path, {"home": FRONT + "# Home\n\n" + code("print('home')")})
    stray = {
        "venv/lib/python3.11/site-packages/jupyter_book/book_template/intro.md": "# Template\n",
        "old/book/home.md": FRONT + "# Old copy\n\n" + code("print('old')"),
        ".eval/probe/book/home.md": FRONT + "# Probe copy\n\n" + code("print('probe')"),
        "env/notes.md": "# Notes\n",
    }
    for name, text in stray.items():
        (book / name).parent.mkdir(parents=True, exist_ok=True)
        (book / name).write_text(text)
    result = build(book)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    site = book / "_build/html"
    pages = sorted(str(p.relative_to(site)) for p in site.rglob("*.html") if p.parent.name not in ("html", "_static"))
    notebooks = sorted(str(p.relative_to(site)) for p in site.rglob("*.ipynb"))
    assert pages == ["book/home.html"], pages
    assert notebooks == ["_notebooks/book/home.ipynb"], notebooks
    assert "Executing notebook" in result.stdout + result.stderr
    assert len(cache_entries(book)) == 1


def test_syntax_without_a_notebook_form_stops_the_build_with_file_and_line(tmp_path):
    page = FRONT + "# Sidebar\n\n" + code("x = 1") + "\n```{sidebar} Aside\nText.\n```\n"
    result = build(make_book(tmp_path, {"aside": page}))
    assert result.returncode != 0
    line = page.splitlines().index("```{sidebar} Aside") + 1
    assert f"book/aside.md:{line}: the directive {{sidebar}}" in result.stdout + result.stderr


def test_a_formula_mathjax_cannot_typeset_stops_the_build_with_file_and_line(tmp_path):
    page = "# Formulas\n\nFine: $x^2$.\n\nBroken: $\\frac{a}{b$ and $\\nosuchmacro x$.\n"
    result = build(make_book(tmp_path, {"formulas": page}))
    out = result.stdout + result.stderr
    assert result.returncode != 0
    line = page.splitlines().index("Broken: $\\frac{a}{b$ and $\\nosuchmacro x$.") + 1
    assert (
        f"book/formulas.md:{line}: WARNING: MathJax cannot typeset the formula '\\\\frac{{a}}{{b': Missing close brace"
        in out
    ), out[-2000:]
    assert "Undefined control sequence \\nosuchmacro" in out
