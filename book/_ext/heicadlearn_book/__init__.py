"""The HeiCADLearn book's Sphinx extension (``sphinx.local_extensions`` in ``_config.yml``).

Build machinery, not part of the learner package: it lives beside the chapters in
``book/_ext`` and chapters never import it. It makes the published site self-contained,
launchable and honest about its execution:

* :mod:`.execution`: the environment chapters execute in (precomputed widget demos,
  no TensorFlow log noise), an execution cache that follows the helper code chapters
  import, failed chapters executed again until they pass, and only ``_toc.yml`` pages read;
* serves MathJax from the site itself (``node_modules/mathjax``, installed by
  ``npm ci``) and drops every script or style that would load from another host
  (the thebe loader, the ipywidgets CDN scripts);
* writes a launch notebook for every executable chapter into
  ``_build/html/_notebooks/<chapter>.ipynb`` and adds "Open in Colab",
  "Open on JupyterHub" and "Download notebook" buttons to that chapter's page.

Settings, all in ``_config.yml``: the repository is ``repository.url`` and the site
``html.baseurl``; under ``sphinx.config``: ``heicadlearn_notebook_branch``,
``heicadlearn_jupyterhub_url``, ``heicadlearn_ref`` (the git ref the setup cell installs;
default: the checkout's commit).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote, urlencode

from sphinx.errors import ExtensionError
from sphinx.util import logging

from . import execution, weight
from .notebooks import LinkContext, chapter_to_notebook

logger = logging.getLogger(__name__)

NOTEBOOK_DIR = "_notebooks"
DOWNLOAD_ROLE = re.compile(r"\{download\}`(?:[^`<]*<)?([^`<>]+?)>?`")
# What MathJax loads on demand (TeX extensions, fonts); weight.py writes tex-chtml.js itself.
MATHJAX_FILES = ("input", "output/chtml")


def _git_ref(srcdir: str) -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=srcdir, capture_output=True, text=True, check=True, timeout=10
        )
        return out.stdout.strip() or "main"
    except (OSError, subprocess.SubprocessError):
        return "main"


def _repo_parts(url: str) -> tuple[str, str]:
    parts = url.rstrip("/").removesuffix(".git").split("/")
    if len(parts) < 2 or "github.com" not in url:
        raise ExtensionError(f"heicadlearn_repository_url must be a GitHub repository URL, got {url!r}")
    return parts[-2], parts[-1]


def launch_urls(config, notebook_path: str) -> dict[str, str]:
    """URLs that open ``notebook_path`` (relative to the site root) on Colab and the hub."""
    owner, repo = _repo_parts(config.heicadlearn_repository_url)
    branch = config.heicadlearn_notebook_branch
    colab = f"https://colab.research.google.com/github/{owner}/{repo}/blob/{quote(branch)}/{quote(notebook_path)}"
    params = urlencode(
        {
            "repo": config.heicadlearn_repository_url,
            "branch": branch,
            "urlpath": f"lab/tree/{repo}/{notebook_path}",
        },
        quote_via=quote,
        safe="",
    )
    hub = f"{config.heicadlearn_jupyterhub_url.rstrip('/')}/hub/user-redirect/git-pull?{params}"
    return {"colab": colab, "jupyterhub": hub}


def _config_inited(app, config):
    # One place for each URL: the repository button's `repository.url` and `html.baseurl`.
    config.heicadlearn_repository_url = (config.html_theme_options or {}).get("repository_url", "")
    config.heicadlearn_site_url = config.html_baseurl
    if not config.heicadlearn_repository_url or not config.heicadlearn_site_url:
        raise ExtensionError("_config.yml must set repository.url and html.baseurl (the launch links use them)")
    config.mathjax_path = "mathjax/tex-chtml.js"
    # myst-nb would load require.js and the widget manager from CDNs on pages with widget state.
    config.nb_ipywidgets_js = {}
    if not config.heicadlearn_ref:
        config.heicadlearn_ref = _git_ref(app.srcdir)


def _mathjax_source(app) -> Path:
    src = Path(app.srcdir) / app.config.heicadlearn_mathjax_dir
    if not (src / "tex-chtml.js").is_file():
        raise ExtensionError(
            f"MathJax is missing ({src / 'tex-chtml.js'} not found). The site serves MathJax itself "
            "instead of loading it from a CDN: run `npm ci` in the repository root (`make book` does)."
        )
    return src


def _builder_inited(app):
    if app.builder.format == "html":
        _mathjax_source(app)  # fail early, before executing notebooks
    app.env.heicadlearn_citations = _load_citations(app)


def _load_citations(app) -> dict[str, str]:
    """bib key -> 'Author et al. (year)' for the launch notebooks' citations."""
    try:
        from pybtex.database import parse_file
    except ImportError:  # pragma: no cover - pybtex comes with sphinxcontrib-bibtex
        return {}
    out = {}
    for name in app.config.bibtex_bibfiles if hasattr(app.config, "bibtex_bibfiles") else []:
        path = Path(app.srcdir) / name
        if not path.is_file():
            continue
        for key, entry in parse_file(str(path)).entries.items():
            people = entry.persons.get("author") or entry.persons.get("editor") or []
            last = [" ".join(p.last_names) for p in people]
            if len(last) > 2:
                who = f"{last[0]} et al."
            elif len(last) == 2:
                who = f"{last[0]} & {last[1]}"
            else:
                who = last[0] if last else entry.fields.get("title", key)
            out[key] = f"{who} ({entry.fields.get('year', 'n.d.')})"
    return out


def _is_executable(app, docname: str) -> tuple[bool, str]:
    path = Path(app.env.doc2path(docname))
    if path.suffix != ".md" or not path.is_file():
        return False, ""
    text = path.read_text(encoding="utf-8")
    return execution.is_executable(text), text


def _write_notebook(app, docname: str, text: str) -> tuple[str, bool]:
    std = app.env.domaindata.get("std", {})
    ctx = LinkContext(
        site_url=app.config.heicadlearn_site_url,
        docname=docname,
        labels={k: tuple(v) for k, v in std.get("labels", {}).items()},
        docs={d: app.env.titles[d].astext() for d in app.env.titles},
        citations=getattr(app.env, "heicadlearn_citations", {}),
    )
    repo = app.config.heicadlearn_repository_url.rstrip("/").removesuffix(".git")
    ctx.source_url = f"{repo}/raw/{app.config.heicadlearn_ref}/"
    package_url = f"git+{repo}@{app.config.heicadlearn_ref}#subdirectory=code"
    nb = chapter_to_notebook(text, ctx, package_url)
    rel = f"{NOTEBOOK_DIR}/{docname}.ipynb"
    out = Path(app.outdir) / rel
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    # Files the chapter offers with {download} travel with the notebook (same relative path),
    # so that on the hub, where nbgitpuller copies the notebooks branch, the code finds them.
    source_dir = Path(app.env.doc2path(docname)).parent
    for target in DOWNLOAD_ROLE.findall(text):
        src = source_dir / target
        if src.is_file():
            dest = out.parent / target
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest)
    return rel, nb.metadata.get("accelerator") == "GPU"


def _launch_html(urls: dict[str, str], download: str, gpu: bool) -> str:
    gpu_note = (
        '<p class="hcl-launch-gpu">This chapter trains neural networks and asks Colab for a GPU '
        "(it runs on a CPU too, only slower). On Colab, check <em>Runtime → Change runtime type → "
        "T4 GPU</em>.</p>"
        if gpu
        else ""
    )
    return (
        '<div class="hcl-launch" role="navigation" aria-label="Run this chapter">'
        '<span class="hcl-launch-label">Run this chapter:</span> '
        f'<a class="hcl-launch-button hcl-launch-colab" href="{urls["colab"]}">Open in Colab</a> '
        f'<a class="hcl-launch-button hcl-launch-hub" href="{urls["jupyterhub"]}">Open on JupyterHub</a> '
        f'<a class="hcl-launch-button hcl-launch-download" href="{download}" download>Download notebook (.ipynb)</a>'
        f"{gpu_note}</div>"
    )


def _page_context(app, pagename, templatename, context, doctree):
    if app.builder.format != "html":
        return
    # 1. Drop anything loaded from another host and the thebe loader (thebe is unused).
    if "script_files" in context:
        context["script_files"] = [
            s
            for s in context["script_files"]
            if not str(getattr(s, "filename", s) or "").startswith(("http:", "https:", "//"))
            and "thebe" not in str(getattr(s, "filename", "") or "")
            and "unpkg.com" not in str(getattr(s, "attributes", {}).get("body", ""))
        ]
    if "css_files" in context:
        context["css_files"] = [
            c for c in context["css_files"] if not str(getattr(c, "filename", c)).startswith(("http:", "https:", "//"))
        ]
    # 2. docutils marks bibliography and footnote entries with the deprecated ARIA role
    #    "doc-biblioentry" inside role="list", which screen readers and axe reject.
    if "body" in context:
        context["body"] = context["body"].replace('role="doc-biblioentry"', 'role="listitem"')
    # 3. Launch notebook and buttons for executable chapters.
    if doctree is None or pagename not in app.env.found_docs:
        return
    executable, text = _is_executable(app, pagename)
    if not executable:
        return
    rel, gpu = _write_notebook(app, pagename, text)
    urls = launch_urls(app.config, rel)
    download = context["pathto"](rel, 1)
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
                    "url": download,
                },
            ],
        }
    )
    body = context.get("body", "")
    marker = body.find("</h1>")
    if marker != -1:
        cut = marker + len("</h1>")
        context["body"] = body[:cut] + _launch_html(urls, download, gpu) + body[cut:]


def _build_finished(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    src = _mathjax_source(app)
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
    app.add_config_value("heicadlearn_repository_url", "", "html")  # set from repository.url
    app.add_config_value("heicadlearn_site_url", "", "html")  # set from html.baseurl
    app.add_config_value("heicadlearn_notebook_branch", "notebooks", "html")
    app.add_config_value("heicadlearn_jupyterhub_url", "", "html")
    app.add_config_value("heicadlearn_ref", "", "html")
    app.add_config_value("heicadlearn_mathjax_dir", "node_modules/mathjax/es5", "html")
    execution.setup(app)
    weight.setup(app)
    app.connect("config-inited", _config_inited)
    app.connect("builder-inited", _builder_inited)
    # After sphinx-book-theme's own header buttons (priority 501).
    app.connect("html-page-context", _page_context, priority=600)
    app.connect("build-finished", _build_finished)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
