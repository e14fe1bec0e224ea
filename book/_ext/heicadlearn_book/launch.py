"""Launching a chapter: its learner notebook, the buttons that open it, and the box under its title.

* All launch notebooks are written in one pass when the build has finished
  (``build-finished``), from the chapters' sources and the book's finished environment
  (labels, titles, citations, glued values): ``_build/html/_notebooks/<chapter>.ipynb``.
* The box "Run this chapter" under the title is a doctree node (:class:`launch_box`),
  inserted when the page's doctree is resolved and written by the HTML translator.
* The page hook only adds the header's launch buttons.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from urllib.parse import quote, urlencode

from docutils import nodes
from sphinx.errors import ExtensionError
from sphinx.util import logging
from sphinx.util.osutil import relative_uri

from . import execution
from .notebooks import LinkContext, UnsupportedSyntax, chapter_to_notebook, wants_gpu

logger = logging.getLogger(__name__)

NOTEBOOK_DIR = "_notebooks"


def _repo_parts(url: str) -> tuple[str, str]:
    parts = url.rstrip("/").removesuffix(".git").split("/")
    if len(parts) < 2 or "github.com" not in url:
        raise ExtensionError(f"repository.url must be a GitHub repository URL, got {url!r}")
    return parts[-2], parts[-1]


def notebook_path(docname: str) -> str:
    """The launch notebook of a chapter, relative to the site root."""
    return f"{NOTEBOOK_DIR}/{docname}.ipynb"


def launch_urls(config, notebook: str) -> dict[str, str]:
    """URLs that open ``notebook`` (relative to the site root) on Colab and the hub."""
    owner, repo = _repo_parts(config.heicadlearn_repository_url)
    branch = config.heicadlearn_notebook_branch
    colab = f"https://colab.research.google.com/github/{owner}/{repo}/blob/{quote(branch)}/{quote(notebook)}"
    params = urlencode(
        {"repo": config.heicadlearn_repository_url, "branch": branch, "urlpath": f"lab/tree/{repo}/{notebook}"},
        quote_via=quote,
        safe="",
    )
    hub = f"{config.heicadlearn_jupyterhub_url.rstrip('/')}/hub/user-redirect/git-pull?{params}"
    return {"colab": colab, "jupyterhub": hub}


def executable_chapters(env) -> dict[str, str]:
    """docname -> source text of every page with code cells."""
    out = {}
    for docname in sorted(env.found_docs):
        path = Path(env.doc2path(docname))
        if path.suffix == ".md" and path.is_file():
            text = path.read_text(encoding="utf-8")
            if execution.is_executable(text):
                out[docname] = text
    return out


def _front_matter_gpu(text: str) -> bool:
    import yaml

    match = execution.FRONT_MATTER.match(text)
    return wants_gpu((yaml.safe_load(match.group(1)) or {}) if match else {})


# --- the box under the title ---------------------------------------------------------------


class launch_box(nodes.General, nodes.Element):  # noqa: N801 (docutils names nodes in lower case)
    """ "Run this chapter": Colab, the hub and the notebook download; a GPU note where it applies."""


def visit_launch_box_html(self, node):
    page = self.builder.get_target_uri(node["docname"])
    download = relative_uri(page, node["notebook"])
    gpu_note = (
        '<p class="hcl-launch-gpu">This chapter trains neural networks and asks Colab for a GPU '
        "(it runs on a CPU too, only slower). On Colab, check <em>Runtime → Change runtime type → "
        "T4 GPU</em>.</p>"
        if node["gpu"]
        else ""
    )
    self.body.append(
        '<div class="hcl-launch" role="navigation" aria-label="Run this chapter">'
        '<span class="hcl-launch-label">Run this chapter:</span> '
        f'<a class="hcl-launch-button hcl-launch-colab" href="{node["colab"]}">Open in Colab</a> '
        f'<a class="hcl-launch-button hcl-launch-hub" href="{node["jupyterhub"]}">Open on JupyterHub</a> '
        f'<a class="hcl-launch-button hcl-launch-download" href="{download}" download>Download notebook (.ipynb)</a>'
        f"{gpu_note}</div>"
    )
    raise nodes.SkipNode


def skip_node(self, node):
    raise nodes.SkipNode


def _doctree_resolved(app, doctree, docname):
    if app.builder.format != "html":
        return
    path = Path(app.env.doc2path(docname))
    if path.suffix != ".md" or not path.is_file():
        return
    text = path.read_text(encoding="utf-8")
    if not execution.is_executable(text):
        return
    notebook = notebook_path(docname)
    box = launch_box(
        docname=docname, notebook=notebook, gpu=_front_matter_gpu(text), **launch_urls(app.config, notebook)
    )
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None:
        doctree.insert(0, box)
        return
    title = next((i for i, child in enumerate(section.children) if isinstance(child, nodes.title)), -1)
    section.insert(title + 1, box)


# --- the header buttons --------------------------------------------------------------------


def _header_buttons(app, pagename, templatename, context, doctree):
    if app.builder.format != "html" or doctree is None or not any(doctree.findall(launch_box)):
        return
    notebook = notebook_path(pagename)
    urls = launch_urls(app.config, notebook)
    context.setdefault("header_buttons", []).append(
        {
            "type": "group",
            "tooltip": "Run this chapter",
            "icon": "fas fa-rocket",
            "label": "hcl-launch-buttons",
            "buttons": [
                {
                    "type": "link",
                    "text": "Open in Colab",
                    "tooltip": "Open in Colab",
                    "icon": "_static/images/logo_colab.png",
                    "url": urls["colab"],
                },
                {
                    "type": "link",
                    "text": "Open on JupyterHub",
                    "tooltip": "Open on the university JupyterHub",
                    "icon": "_static/images/logo_jupyterhub.svg",
                    "url": urls["jupyterhub"],
                },
                {
                    "type": "link",
                    "text": "Download .ipynb",
                    "tooltip": "Download this chapter as a notebook",
                    "icon": "fas fa-download",
                    "url": context["pathto"](notebook, 1),
                },
            ],
        }
    )


# --- the notebooks -------------------------------------------------------------------------


def link_context(app, docname: str) -> LinkContext:
    """Everything the converter needs from the finished build to write one chapter's notebook."""
    from myst_nb.ext.glue.crossref import read_glue_cache

    env = app.env
    std = env.domaindata.get("std", {})
    repo = app.config.heicadlearn_repository_url.rstrip("/").removesuffix(".git")
    glue = read_glue_cache(env.mystnb_config.output_folder, docname)
    return LinkContext(
        site_url=app.config.heicadlearn_site_url,
        docname=docname,
        labels={k: tuple(v) for k, v in std.get("labels", {}).items()},
        docs={d: env.titles[d].astext() for d in env.titles},
        citations=getattr(env, "heicadlearn_citations", {}),
        source_url=f"{repo}/raw/{app.config.heicadlearn_ref}/",
        glue={key: str(value.get("data", {}).get("text/plain", "")) for key, value in glue.items()},
        source_path=str(Path(env.doc2path(docname)).relative_to(app.srcdir)),
    )


def package_url(config) -> str:
    repo = config.heicadlearn_repository_url.rstrip("/").removesuffix(".git")
    return f"git+{repo}@{config.heicadlearn_ref}#subdirectory=code"


def write_notebooks(app, exception):
    """Every chapter's launch notebook, in one pass over the finished build."""
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    shutil.rmtree(outdir / NOTEBOOK_DIR, ignore_errors=True)
    failures = []
    for docname, text in executable_chapters(app.env).items():
        try:
            nb = chapter_to_notebook(text, link_context(app, docname), package_url(app.config))
        except UnsupportedSyntax as err:
            logger.warning(str(err), type="heicadlearn", subtype="notebook")
            failures.append(docname)
            continue
        out = outdir / notebook_path(docname)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        # Files the chapter offers with {download} travel with the notebook (same relative path),
        # so that on the hub, where nbgitpuller copies the notebooks branch, the code finds them.
        source_dir = Path(app.env.doc2path(docname)).parent
        for filename, (docnames, _) in app.env.dlfiles.items():
            if docname in docnames:
                src = Path(app.srcdir) / filename
                dest = out.parent / src.relative_to(source_dir)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest)
    if failures:
        raise ExtensionError(f"No launch notebook for {', '.join(failures)}: see the warnings above")


def setup(app):
    app.add_node(
        launch_box,
        html=(visit_launch_box_html, None),
        latex=(skip_node, None),
        text=(skip_node, None),
        man=(skip_node, None),
        texinfo=(skip_node, None),
    )
    app.connect("doctree-resolved", _doctree_resolved)
    # After sphinx-book-theme's own header buttons (priority 501).
    app.connect("html-page-context", _header_buttons, priority=600)
    app.connect("build-finished", write_notebooks)
