"""How chapters execute: their environment, what their cached outputs depend on, and failures.

* :func:`chapter_environment` is the environment every chapter executes in (the build, the
  launch-notebook tests and ``make robustness`` all use it).
* The execution cache follows the code that chapters run. jupyter-cache matches a chapter by
  its code cells and kernelspec only, so an edit to a helper module would leave every page
  with outputs of the old code. Each executable chapter's kernelspec therefore carries
  ``heicadlearn_inputs``, a digest of the helper modules it imports (directly, or through
  another helper module), of the course seed and of the thread count. The digest is added to
  the front matter as the source is read (``source-read``), with the line count kept, so
  warnings keep their line numbers; a changed digest makes Sphinx re-read exactly the chapters
  concerned and jupyter-cache execute them again.
* A chapter whose execution failed is read and executed again by the next build, even when
  no file changed, and its page carries a warning box at the top until it passes.
* Only the pages in ``_toc.yml`` are read: virtual environments, scratch copies and old
  checkouts inside the repository never become pages or launch notebooks.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import os
import re
from functools import cache
from pathlib import Path

import yaml
from docutils import nodes
from heicadlearn.demo import STATIC_ENV
from heicadlearn.seeds import SEED_ENV, THREADS_ENV, course_seed, thread_count
from heicadlearn.tf import QUIET_ENV
from sphinx.util import logging

logger = logging.getLogger(__name__)

PACKAGE = "heicadlearn"
INPUTS_KEY = "heicadlearn_inputs"
FRONT_MATTER = re.compile(r"\A---\n(.*?\n)---\n", re.S)
CODE_CELL = re.compile(r"^(`{3,})\{code-cell\}[^\n]*\n(.*?)^\1[ \t]*$", re.M | re.S)


def chapter_environment() -> dict[str, str]:
    """Environment variables every chapter executes with."""
    return {
        STATIC_ENV: "1",  # widget demos precompute their frames for the static page
        **QUIET_ENV,  # no TensorFlow log lines in cell outputs
        "PYTHONHASHSEED": "0",
    }


# --- what a chapter imports ------------------------------------------------------------------


def _imported_modules(source: str, package: str, current: str | None = None) -> set[str]:
    """Submodules of ``package`` that ``source`` imports (``current``: the module it is in)."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        found = re.findall(rf"\b{package}\.(\w+)", source)
        found += [m for group in re.findall(rf"from {package} import ([\w, ]+)", source) for m in group.split(",")]
        return {m.strip() for m in found if m.strip()}
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == package:
                    found.add(parts[1] if len(parts) > 1 else "__init__")
        elif isinstance(node, ast.ImportFrom):
            if node.level and current is not None:  # from .seeds import x / from . import seeds
                base = node.module.split(".")[0] if node.module else None
            elif node.module and node.module.split(".")[0] == package:
                parts = node.module.split(".")
                base = parts[1] if len(parts) > 1 else None
            else:
                continue
            if base is not None:
                found.add(base)
            else:
                found.update(alias.name for alias in node.names)
    return found


@cache
def package_dir(package: str = PACKAGE) -> Path | None:
    """The folder of the helper package that chapters' kernels import."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def module_graph(folder: Path) -> dict[str, set[str]]:
    """module -> the package's modules it imports, for every ``*.py`` directly in ``folder``."""
    graph = {}
    modules = {p.stem for p in folder.glob("*.py")}
    for path in folder.glob("*.py"):
        imported = _imported_modules(path.read_text(encoding="utf-8"), folder.name, current=path.stem)
        graph[path.stem] = {m for m in imported if m in modules and m != path.stem}
    return graph


def chapter_modules(text: str, folder: Path) -> set[str]:
    """Helper modules a chapter's code runs: its imports and everything they import in turn."""
    modules = {p.stem for p in folder.glob("*.py")}
    code = "\n".join(m.group(2) for m in CODE_CELL.finditer(text))
    todo = {m for m in _imported_modules(code, folder.name) if m in modules}
    if todo:
        todo.add("__init__")  # Python runs the package's __init__ before any submodule
    graph = module_graph(folder)
    seen: set[str] = set()
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo |= graph.get(module, set()) - seen
    return seen


def inputs_digest(text: str, package: str = PACKAGE) -> str:
    """Digest of what a chapter's outputs depend on besides its own code cells."""
    folder = package_dir(package)
    digest = hashlib.sha256()
    digest.update(f"{SEED_ENV}={course_seed()};{THREADS_ENV}={thread_count()};".encode())
    if folder is not None:
        for module in sorted(chapter_modules(text, folder)):
            digest.update(module.encode() + b"\0" + (folder / f"{module}.py").read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def is_executable(text: str) -> bool:
    return CODE_CELL.search(text) is not None


def with_inputs(text: str, digest: str | None = None) -> str:
    """The chapter source as the build executes it: the digest added to its kernelspec.

    The front matter is rewritten on one line, followed by blank lines, so that every
    line after it keeps its number. Pages without code cells are returned unchanged.
    """
    match = FRONT_MATTER.match(text)
    if match is None or not is_executable(text):
        return text
    meta = yaml.safe_load(match.group(1)) or {}
    if not isinstance(meta.get("kernelspec"), dict):
        return text
    meta["kernelspec"][INPUTS_KEY] = digest or inputs_digest(text)
    line = yaml.safe_dump(meta, default_flow_style=True, width=float("inf"), sort_keys=False).strip()
    blank = "\n" * (match.group(1).count("\n") - 1)
    return f"---\n{line}\n{blank}---\n" + text[match.end() :]


# --- Sphinx events ---------------------------------------------------------------------------


def _source_read(app, docname, source):
    if not is_executable(source[0]):
        return
    digest = inputs_digest(source[0], app.config.heicadlearn_helper_package)
    source[0] = with_inputs(source[0], digest)
    app.env.heicadlearn_inputs = getattr(app.env, "heicadlearn_inputs", {})
    app.env.heicadlearn_inputs[docname] = digest


def _execution_failed(env, docname) -> dict | None:
    from myst_nb.sphinx_ import NbMetadataCollector

    data = NbMetadataCollector.get_exec_data(env, docname)
    return data if data and not data.get("succeeded", True) else None


def _env_get_outdated(app, env, added, changed, removed):
    """Chapters to read again: their helper modules changed, or their last execution failed."""
    stored = getattr(env, "heicadlearn_inputs", {})
    again = []
    for docname in env.found_docs - added - changed:
        if _execution_failed(env, docname):
            again.append(docname)
            continue
        path = Path(env.doc2path(docname))
        if docname in stored and path.is_file():
            text = path.read_text(encoding="utf-8")
            if inputs_digest(text, app.config.heicadlearn_helper_package) != stored[docname]:
                again.append(docname)
    if again:
        logger.info(f"[heicadlearn] executing again (failed before, or their helper code changed): {sorted(again)}")
    return again


def _env_purge_doc(app, env, docname):
    getattr(env, "heicadlearn_inputs", {}).pop(docname, None)


def _env_merge_info(app, env, docnames, other):
    env.heicadlearn_inputs = getattr(env, "heicadlearn_inputs", {})
    for docname in docnames:
        if docname in getattr(other, "heicadlearn_inputs", {}):
            env.heicadlearn_inputs[docname] = other.heicadlearn_inputs[docname]


def _doctree_read(app, doctree):
    """A page whose execution failed says so at its top, in the page itself."""
    failed = _execution_failed(app.env, app.env.docname)
    if not failed:
        return
    box = nodes.admonition(classes=["error", "hcl-execution-failed"])
    box += nodes.title(text="This page is incomplete: its code failed when the book was built")
    box += nodes.paragraph(
        text=(
            f"Execution stopped with {failed.get('error') or 'an error'}; the outputs after the failing cell "
            "are missing. The build's execution report (reports/ in the build folder) names the cell. "
            "Fix it and build again: this chapter is executed again on every build until it passes."
        )
    )
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is not None:
        index = next((i + 1 for i, child in enumerate(section.children) if isinstance(child, nodes.title)), 0)
        section.insert(index, box)
    else:
        doctree.insert(0, box)


def toc_sources(srcdir: str | Path, toc: str | Path = "_toc.yml") -> list[str]:
    """Source files of every page in the table of contents (their paths relative to ``srcdir``)."""
    data = yaml.safe_load((Path(srcdir) / toc).read_text(encoding="utf-8")) or {}
    files = [data.get("root")]

    def walk(entries):
        for entry in entries or []:
            files.append(entry.get("file"))
            walk(entry.get("sections"))

    for part in data.get("parts", []) or [data]:
        walk(part.get("chapters"))
    out = []
    for name in filter(None, files):
        stem = str(name)
        matches = [s for s in (stem, stem + ".md", stem + ".ipynb", stem + ".rst") if (Path(srcdir) / s).is_file()]
        out += matches[:1] or [stem + ".md"]
    return out


def _config_inited(app, config):
    # jupyter-book's only_build_toc_files excludes unlisted files found by its own scan, but a
    # second checkout or a virtual environment inside the repository slipped through it. Sphinx
    # itself reads only what include_patterns names: the table of contents, nothing else.
    toc = Path(app.srcdir) / (getattr(config, "external_toc_path", None) or "_toc.yml")
    if toc.is_file():
        config.include_patterns = toc_sources(app.srcdir, toc)


def setup(app):
    # Set before myst-nb starts any kernel: kernels inherit the build's environment.
    os.environ.update(chapter_environment())
    # The package whose modules chapters import (a fixture book's tests name another one).
    app.add_config_value("heicadlearn_helper_package", PACKAGE, "env")
    app.connect("config-inited", _config_inited)
    app.connect("source-read", _source_read)
    app.connect("env-get-outdated", _env_get_outdated)
    app.connect("env-purge-doc", _env_purge_doc)
    app.connect("env-merge-info", _env_merge_info)
    app.connect("doctree-read", _doctree_read)
