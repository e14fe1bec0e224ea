"""Formulas typeset while the book is built (book/_ext/heicadlearn_book/mathsvg.py)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from docutils import nodes
from heicadlearn_book import mathsvg
from sphinx.errors import ExtensionError

from .conftest import ROOT

APP = SimpleNamespace(srcdir=str(ROOT), config=SimpleNamespace(heicadlearn_mathjax_dir="node_modules/mathjax/es5"))


def block(text: str, nowrap: bool = False) -> nodes.math_block:
    return nodes.math_block(text, text, nowrap=nowrap, number=None)


def test_tex_is_what_sphinx_would_give_mathjax():
    assert mathsvg.tex_of(nodes.math("x^2", "x^2")) == ("x^2", False)
    assert mathsvg.tex_of(block("a = b")) == ("a = b", True)
    assert mathsvg.tex_of(block(r"a &= b \\ c &= d")) == (r"\begin{split}a &= b \\ c &= d\end{split}", True)
    assert mathsvg.tex_of(block("a = b\n\nc = d")) == (
        r"\begin{align}\begin{aligned}a = b\\c = d\end{aligned}\end{align}",
        True,
    )
    assert mathsvg.tex_of(block(r"\begin{align}a\end{align}", nowrap=True)) == (r"\begin{align}a\end{align}", True)


def test_formulas_become_svg_with_mathml_and_errors_are_reported():
    result = mathsvg.typeset(APP, [(r"\frac{\partial L}{\partial w}", False), ("x^2", True), (r"\nosuchmacro", False)])
    css, (first, second, broken) = result["css"], result["items"]
    assert result["cache"] == ""  # local glyphs: each formula stands alone
    assert first["error"] is None and second["error"] is None
    for item in (first, second):
        assert item["html"].startswith('<mjx-container class="MathJax" jax="SVG"')
        assert 'aria-hidden="true"' in item["html"] and "<mjx-assistive-mml" in item["html"] and "<math" in item["html"]
    assert 'display="true"' in second["html"] and 'tabindex="0"' in second["html"]
    assert 'tabindex="0"' not in first["html"]
    assert broken["error"] == r"Undefined control sequence \nosuchmacro"
    # Glyph ids carry the run's prefix and are unique within the run.
    ids = re.findall(r'id="([^"]+)"', first["html"] + second["html"])
    assert ids and len(ids) == len(set(ids)) and all(re.fullmatch(r"MJX-p\d+-\d+-TEX-.+", i) for i in ids)
    uses = re.findall(r'href="#([^"]+)"', first["html"] + second["html"])
    assert uses and set(uses) <= set(ids)
    assert "mjx-assistive-mml" in css and 'mjx-container[jax="SVG"]' in css


def test_a_page_draws_each_glyph_once():
    formulas = [("x + y", False), ("x^2 + y^2", True), ("x", False)]
    local = mathsvg.typeset(APP, formulas)
    page = mathsvg.typeset(APP, formulas, glyphs="global")
    assert page["cache"].startswith('<svg id="MJX-p') and 'style="display: none"' in page["cache"]
    defined = re.findall(r'<path id="([^"]+)"', page["cache"])
    assert len(defined) == len(set(defined)) == 4  # x, y, +, 2
    html = "".join(item["html"] for item in page["items"])
    assert "<path id=" not in html and set(re.findall(r'href="#([^"]+)"', html)) == set(defined)
    assert len(page["cache"] + html) < 0.8 * len("".join(item["html"] for item in local["items"]))


def test_two_runs_never_share_an_id():
    (a,) = mathsvg.typeset(APP, [("x", False)])["items"]
    (b,) = mathsvg.typeset(APP, [("x", False)])["items"]
    assert set(re.findall(r'id="([^"]+)"', a["html"])).isdisjoint(re.findall(r'id="([^"]+)"', b["html"]))


def test_without_node_the_build_says_what_to_install(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ExtensionError, match="Node.js is needed"):
        mathsvg.typeset(APP, [("x", False)])
