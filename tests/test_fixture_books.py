"""Build behaviour on small fixture books, built with the book's own _config.yml and extension."""

from __future__ import annotations

import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

from .conftest import ROOT

pytestmark = pytest.mark.fixture_book

FRONT = textwrap.dedent(
    """\
    ---
    jupytext:
      text_representation:
        format_name: myst
    kernelspec:
      display_name: Python 3
      language: python
      name: python3
    ---
    """
)


def make_book(tmp_path: Path, pages: dict[str, str]) -> Path:
    """A book with the real configuration and the given pages (first one is the root)."""
    book = tmp_path / "fixture"
    (book / "book").mkdir(parents=True)
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["execute"]["cache"] = str(book / ".jupyter_cache")
    (book / "_config.yml").write_text(yaml.safe_dump(config))
    shutil.copy(ROOT / "book" / "references.bib", book / "book" / "references.bib")
    (book / "node_modules").symlink_to(ROOT / "node_modules")
    shutil.copytree(ROOT / "_static", book / "_static")
    names = list(pages)
    toc = {"format": "jb-book", "root": f"book/{names[0]}"}
    if len(names) > 1:
        toc["chapters"] = [{"file": f"book/{n}"} for n in names[1:]]
    (book / "_toc.yml").write_text(yaml.safe_dump(toc))
    for name, text in pages.items():
        (book / "book" / f"{name}.md").write_text(text)
    return book


def build(book: Path) -> subprocess.CompletedProcess:
    cmd = [str(ROOT / ".venv/bin/jupyter-book"), "build", str(book), "--builder", "html", "-n", "-W", "--keep-going"]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=book, timeout=600)


def code(source: str, tags: str = "") -> str:
    tag_line = f":tags: [{tags}]\n" if tags else ""
    return f"```{{code-cell}} ipython3\n{tag_line}{source}\n```\n"


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
    frames = re.search(r'class="hcl-demo-data">(.*?)</script>', html, re.S).group(1)
    assert frames.count('"img"') == 3 and 'type="range"' in html
    # MathJax comes from the site itself; nothing is loaded from another host.
    assert (
        '<script async="async" src="../_static/mathjax/tex-chtml.js' in html or "_static/mathjax/tex-chtml.js" in html
    )
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
