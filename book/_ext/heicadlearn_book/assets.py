"""A self-contained site: MathJax served from the site, nothing loaded from another host.

* MathJax comes from ``node_modules/mathjax`` (installed by ``npm ci``) and is copied into
  ``_static/mathjax`` when the build has finished.
* Scripts and styles that would load from another host (the thebe loader, CDN copies of
  require.js or the widget manager) are left out of every page.
* Citations are marked up as list items (docutils' ``doc-biblioentry`` role, inside
  ``role="list"``, is rejected by screen readers and axe).
* Element ids are unique on a page: sphinx-exercise gives the body of every exercise and every
  solution the same id (:data:`SHARED_IDS`); the second and later get a number.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from docutils import nodes
from sphinx.errors import ExtensionError
from sphinx.writers.html5 import HTML5Translator

# What MathJax loads on demand (TeX extensions, fonts); weight.py writes tex-chtml.js itself.
MATHJAX_FILES = ("input", "output/chtml")
FOREIGN = ("http:", "https:", "//")
SHARED_IDS = ("exercise-content", "solution-content")  # sphinx_exercise/directive.py


def mathjax_source(app) -> Path:
    src = Path(app.srcdir) / app.config.heicadlearn_mathjax_dir
    if not (src / "tex-chtml.js").is_file():
        raise ExtensionError(
            f"MathJax is missing ({src / 'tex-chtml.js'} not found). The site serves MathJax itself "
            "instead of loading it from a CDN: run `npm ci` in the repository root (`make book` does)."
        )
    return src


def _config_inited(app, config):
    config.mathjax_path = "mathjax/tex-chtml.js"
    # myst-nb would load require.js and the widget manager from CDNs on pages with widget state.
    config.nb_ipywidgets_js = {}


def _builder_inited(app):
    if app.builder.format == "html":
        mathjax_source(app)  # fail early, before executing notebooks


def _is_foreign(asset) -> bool:
    name = str(getattr(asset, "filename", asset) or "")
    body = str(getattr(asset, "attributes", {}).get("body", ""))
    return name.startswith(FOREIGN) or "thebe" in name or "unpkg.com" in body


def _drop_foreign_assets(app, pagename, templatename, context, doctree):
    for key in ("script_files", "css_files"):
        if key in context:
            context[key] = [asset for asset in context[key] if not _is_foreign(asset)]


def visit_citation(self: HTML5Translator, node):
    if not isinstance(node.previous_sibling(), type(node)):
        self.body.append('<div role="list" class="citation-list">\n')
    self.body.append(self.starttag(node, "div", classes=[node.tagname], role="listitem"))


def depart_citation(self: HTML5Translator, node):
    HTML5Translator.depart_citation(self, node)


def _number_shared_ids(app, doctree, docname):
    """``doctree-resolved``: ``exercise-content``, ``exercise-content-2``, … (nothing links to them)."""
    seen = dict.fromkeys(SHARED_IDS, 0)
    for node in doctree.findall(nodes.Element):
        if not any(i in seen for i in node.get("ids", ())):
            continue
        ids = []
        for i in node["ids"]:
            if i in seen:
                seen[i] += 1
                i = i if seen[i] == 1 else f"{i}-{seen[i]}"
            ids.append(i)
        node["ids"] = ids


def _copy_mathjax(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    src = mathjax_source(app)
    dest = Path(app.outdir) / "_static" / "mathjax"
    if dest.exists():
        shutil.rmtree(dest)
    for item in MATHJAX_FILES:
        path = src / item
        if path.is_dir():
            shutil.copytree(path, dest / item)
        elif path.is_file():
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest / item)


def setup(app):
    app.add_config_value("heicadlearn_mathjax_dir", "node_modules/mathjax/es5", "html")
    app.add_node(nodes.citation, override=True, html=(visit_citation, depart_citation))
    app.connect("config-inited", _config_inited)
    app.connect("builder-inited", _builder_inited)
    app.connect("html-page-context", _drop_foreign_assets, priority=600)
    app.connect("doctree-resolved", _number_shared_ids)
    app.connect("build-finished", _copy_mathjax)
