"""Formulas typeset when the book is built (issue #14): the pages carry SVG, not MathJax.

On a phone, MathJax typesetting a hundred formulas after the page has loaded holds up the
main thread for seconds, and the text that holds formulas is painted last. Here the same
MathJax release (``node_modules/mathjax``, :mod:`.assets`) runs once per page while the book
is built, in Node.js (:file:`tex2svg.js`), and the HTML math renderer :data:`RENDERER`
writes its output into the page:

* every formula is an ``<mjx-container>`` holding an SVG (``aria-hidden``) and MathJax's
  hidden MathML copy for screen readers, exactly as MathJax's SVG output makes them in a
  browser; glyphs are drawn in ``currentColor``, so formulas follow light and dark mode;
* each glyph's outline is in the page once, in a hidden SVG at its top, and the formulas
  use it (MathJax's own ``fontCache: "global"``), which halves the HTML of a page with many
  formulas;
* a displayed formula is focusable, because a wide one scrolls sideways on a phone;
* MathJax's style sheet for its SVG output is written to ``_static/`` (:data:`CSS_FILE`);
* no page loads MathJax. Slide decks still do: while the decks are written, formulas go out
  as TeX, as Sphinx's MathJax renderer writes them, for reveal.js's math plugin (:mod:`.slides`).

A formula MathJax cannot typeset (an unknown macro, a missing brace) is a build warning at
its file and line, so the strict build fails on it.

The TeX that goes to MathJax is what Sphinx's own MathJax renderer would put into the page
(:func:`tex_of`), so nothing changes for authors.
"""

from __future__ import annotations

import itertools
import json
import subprocess
from pathlib import Path

from docutils import nodes
from sphinx.errors import ExtensionError
from sphinx.ext import mathjax
from sphinx.locale import _
from sphinx.util import logging
from sphinx.util.math import get_node_equation_number

logger = logging.getLogger(__name__)

RENDERER = "heicadlearn_svg"
CSS_FILE = "heicadlearn-math.css"
SCRIPT = Path(__file__).with_name("tex2svg.js")
SVG_KEY = "heicadlearn_svg"  # node attribute: the typeset formula
_batches = itertools.count(1)  # a prefix per run keeps the SVG element ids unique on a page


def tex_of(node: nodes.math | nodes.math_block) -> tuple[str, bool]:
    """``(tex, display)``: the TeX Sphinx's MathJax renderer would hand MathJax for ``node``."""
    if isinstance(node, nodes.math):
        return node.astext(), False
    if node.get("nowrap"):
        return node.astext(), True
    parts = [part for part in node.astext().split("\n\n") if part.strip()]
    body = r"\\".join(rf"\begin{{split}}{part}\end{{split}}" if r"\\" in part else part for part in parts)
    if len(parts) > 1:
        body = rf"\begin{{align}}\begin{{aligned}}{body}\end{{aligned}}\end{{align}}"
    return body, True


def typeset(app, formulas: list[tuple[str, bool]], glyphs: str = "local") -> dict:
    """Run MathJax once: ``{"css", "cache", "items"}``, one ``{"html", "error"}`` item per formula.

    ``glyphs="global"`` draws each glyph once, in ``cache`` (an SVG the page must hold once);
    ``"local"`` keeps every formula's glyphs inside it.
    """
    es5 = Path(app.srcdir) / app.config.heicadlearn_mathjax_dir
    request = {
        "prefix": f"p{next(_batches)}",
        "fontCache": glyphs,
        "formulas": [{"tex": t, "display": d} for t, d in formulas],
    }
    try:
        done = subprocess.run(
            ["node", str(SCRIPT), str(es5)],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=600,
        )
    except FileNotFoundError:
        raise ExtensionError(
            "Node.js is needed to typeset the formulas while the book is built (`node` not found). "
            "Install Node.js; `npm ci` (run by `make book`) needs it too."
        ) from None
    if done.returncode != 0:
        raise ExtensionError(f"typesetting the formulas failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout)


def _for_decks(builder) -> bool:
    return getattr(builder, "heicadlearn_writing_decks", False)


def _typeset_page(app, doctree, docname):
    """``doctree-resolved``: typeset all formulas of the page in one run."""
    if app.builder.format != "html" or getattr(app.builder, "math_renderer_name", None) != RENDERER:
        return
    if _for_decks(app.builder):
        return
    found = list(doctree.findall(lambda n: isinstance(n, (nodes.math, nodes.math_block))))
    if not found:
        return
    result = typeset(app, [tex_of(node) for node in found], glyphs="global")
    app.builder.heicadlearn_math_css = result["css"]
    doctree.insert(0, nodes.raw("", result["cache"], format="html"))  # the page's glyphs, drawn once
    for node, item in zip(found, result["items"], strict=True):
        node[SVG_KEY] = item["html"]
        if item["error"]:
            tex = tex_of(node)[0]
            logger.warning(
                "MathJax cannot typeset the formula %r: %s",
                tex if len(tex) < 80 else tex[:77] + "...",
                item["error"],
                location=node,
                type="heicadlearn",
                subtype="math",
            )


def _svg(translator, node) -> str:
    if SVG_KEY not in node:  # a formula outside the page's own tree (none in this book so far)
        node[SVG_KEY] = typeset(translator.builder.app, [tex_of(node)])["items"][0]["html"]
    return node[SVG_KEY]


def visit_math(self, node):
    if _for_decks(self.builder):
        mathjax.html_visit_math(self, node)  # TeX for reveal.js's math plugin, as Sphinx writes it
    self.body.append(self.starttag(node, "span", "", CLASS="math notranslate nohighlight"))
    self.body.append(_svg(self, node) + "</span>")
    raise nodes.SkipNode


def visit_math_block(self, node):
    if _for_decks(self.builder):
        mathjax.html_visit_displaymath(self, node)
    self.body.append(self.starttag(node, "div", CLASS="math notranslate nohighlight"))
    if node["number"] and not node.get("nowrap"):
        self.body.append(f'<span class="eqno">({get_node_equation_number(self, node)})')
        self.add_permalink_ref(node, _("Link to this equation"))
        self.body.append("</span>")
    self.body.append(_svg(self, node) + "</div>\n")
    raise nodes.SkipNode


def _config_inited(app, config):
    config.html_math_renderer = RENDERER


def _builder_inited(app):
    if app.builder.format == "html":
        app.add_css_file(CSS_FILE)


def _write_css(app, exception):
    """The style sheet of MathJax's SVG output, from this build's runs (or one empty run)."""
    if exception is not None or app.builder.format != "html":
        return
    css = getattr(app.builder, "heicadlearn_math_css", None)
    if css is None:
        css = typeset(app, [])["css"]
    target = Path(app.outdir) / "_static" / CSS_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("/* MathJax's style sheet for its SVG output (book/_ext/heicadlearn_book/mathsvg.py) */\n" + css)


def setup(app):
    app.add_html_math_renderer(RENDERER, (visit_math, None), (visit_math_block, None))
    app.connect("config-inited", _config_inited)
    app.connect("builder-inited", _builder_inited)
    app.connect("doctree-resolved", _typeset_page)
    app.connect("build-finished", _write_css)
