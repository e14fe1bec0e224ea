"""The HeiCADLearn book's Sphinx extension (``sphinx.local_extensions`` in ``_config.yml``).

Build machinery, not part of the learner package: it lives beside the chapters in
``book/_ext`` and chapters never import it. One module a job:

* :mod:`.execution`: the environment chapters execute in, an execution cache that follows
  the helper code chapters import, failed chapters executed again until they pass (and
  marked as incomplete), and only ``_toc.yml`` pages read;
* :mod:`.launch`: the learner notebooks (:mod:`.notebooks` converts a chapter), the "Run
  this chapter" box and the header buttons for Colab, the hub and the download;
* :mod:`.assets`: MathJax from the site itself, nothing from another host, accessible citations;
* :mod:`.mathsvg`: formulas typeset as SVG while the book is built, so pages need no MathJax;
* :mod:`.weight`: light pages (WebP figures and demo frames, icon font subsets, deferred scripts);
* :mod:`.slides`: the ``{slide}`` blocks, hidden on the page, and a reveal.js deck per chapter
  made from the executed page (:mod:`.handouts` prints the decks to PDF: ``make slides-pdf``).

Settings, all in ``_config.yml``: the repository is ``repository.url`` and the site
``html.baseurl``; under ``sphinx.config``: ``heicadlearn_notebook_branch``,
``heicadlearn_jupyterhub_url``, ``heicadlearn_ref`` (the git ref the setup cell installs;
default: the checkout's commit).
"""

from __future__ import annotations

import subprocess

from sphinx.errors import ExtensionError

from . import assets, execution, launch, mathsvg, slides, weight
from .launch import launch_urls

__all__ = ["launch_urls", "setup"]


def _git_ref(srcdir: str) -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=srcdir, capture_output=True, text=True, check=True, timeout=10
        )
        return out.stdout.strip() or "main"
    except (OSError, subprocess.SubprocessError):
        return "main"


def _config_inited(app, config):
    # One place for each URL: the repository button's `repository.url` and `html.baseurl`.
    config.heicadlearn_repository_url = (config.html_theme_options or {}).get("repository_url", "")
    config.heicadlearn_site_url = config.html_baseurl
    if not config.heicadlearn_repository_url or not config.heicadlearn_site_url:
        raise ExtensionError("_config.yml must set repository.url and html.baseurl (the launch links use them)")
    if not config.heicadlearn_ref:
        config.heicadlearn_ref = _git_ref(app.srcdir)


def _builder_inited(app):
    app.env.heicadlearn_citations = _load_citations(app)


def _load_citations(app) -> dict[str, str]:
    """bib key -> 'Author et al. (year)' for the launch notebooks' citations."""
    from pathlib import Path

    from pybtex.database import parse_file

    out = {}
    for name in getattr(app.config, "bibtex_bibfiles", []):
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


def setup(app):
    app.add_config_value("heicadlearn_repository_url", "", "html")  # set from repository.url
    app.add_config_value("heicadlearn_site_url", "", "html")  # set from html.baseurl
    app.add_config_value("heicadlearn_notebook_branch", "notebooks", "html")
    app.add_config_value("heicadlearn_jupyterhub_url", "", "html")
    app.add_config_value("heicadlearn_ref", "", "html")
    app.connect("config-inited", _config_inited)
    app.connect("builder-inited", _builder_inited)
    execution.setup(app)
    assets.setup(app)
    mathsvg.setup(app)
    launch.setup(app)
    weight.setup(app)
    slides.setup(app)
    return {"version": "1.1", "parallel_read_safe": True, "parallel_write_safe": True}
