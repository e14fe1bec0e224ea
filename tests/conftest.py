"""Shared fixtures: paths of the repository and the built site, and a local HTTP server."""

from __future__ import annotations

import http.server
import os
import re
import threading
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "html"
# The strict build that `make book` runs, for fixture books and copies of the repository.
JUPYTER_BOOK = [str(ROOT / ".venv/bin/jupyter-book"), "build", "--builder", "html", "-n", "-W", "--keep-going"]
# MyST that must not reach a plain-Markdown launch notebook: directive fences, roles, labels.
MYST_SYNTAX = re.compile(r"(^\s*(```+|:::+)\{[\w:-]+\})|(\{[\w:-]+\}`)|(^\s*\([\w-]+\)=\s*$)", re.M)


def toc_docnames() -> list[str]:
    """Every document of the book in _toc.yml order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    names = [toc["root"]]
    for part in toc.get("parts", []):
        names += [c["file"] for c in part.get("chapters", [])]
    return names


def is_executable(docname: str) -> bool:
    from heicadlearn_book.execution import is_executable as has_code_cells

    return has_code_cells((ROOT / f"{docname}.md").read_text(encoding="utf-8"))


def jupyter_book(book: Path | str) -> list[str]:
    """The strict build command for the book in ``book``."""
    return JUPYTER_BOOK[:2] + [str(book)] + JUPYTER_BOOK[2:]


def source_notebook(docname: str):
    """The chapter as the build executes it (with the digest of its helper modules)."""
    from heicadlearn_book.execution import with_inputs
    from myst_nb.core.read import read_myst_markdown_notebook

    return read_myst_markdown_notebook(with_inputs((ROOT / f"{docname}.md").read_text(encoding="utf-8")))


def notebook_errors(nb) -> list[str]:
    """Errors an executed notebook raised, except in cells that teach an error (tag raises-exception)."""
    return [
        f"{o.ename}: {o.evalue}"
        for c in nb.cells
        if c.cell_type == "code" and "raises-exception" not in c.metadata.get("tags", [])
        for o in c.outputs
        if o.output_type == "error"
    ]


def cached_execution(docname: str):
    """The executed notebook the page was rendered from, as jupyter-cache holds it.

    (myst-nb's copy in _build/jupyter_execute lacks the outputs when it came from the cache.)
    """
    from jupyter_cache import get_cache

    try:
        return get_cache(str(ROOT / ".jupyter_cache")).merge_match_into_notebook(source_notebook(docname))[1]
    except KeyError:
        pytest.fail(f"{docname} has no cached execution matching its current source and helpers: run `make book`")


def front_matter(docname: str) -> dict:
    text = (ROOT / f"{docname}.md").read_text(encoding="utf-8")
    m = re.match(r"^---\n(.*?)\n---\n", text, re.S)
    return yaml.safe_load(m.group(1)) if m else {}


@pytest.fixture(scope="session")
def site() -> Path:
    if not (SITE / "index.html").is_file():
        pytest.fail("The book has not been built: run `make book` (or `make test`, which builds it first).")
    return SITE


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves byte strings from ``server.routes``: path -> (bytes, mode)."""

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.server.requests.append(self.path)
        route = self.server.routes.get(self.path)
        if route is None:
            self.send_error(404)
            return
        body, mode = route
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode == "cut":
            # Send half of the announced bytes, then drop the connection.
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture
def http_server():
    """A real HTTP server on 127.0.0.1; tests register routes and read the request log."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.routes = {}
    server.requests = []
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def clean_data_env(monkeypatch, tmp_path):
    """No mirror, an empty cache in tmp_path/cache."""
    monkeypatch.delenv("HEICADLEARN_DATA", raising=False)
    monkeypatch.setenv("HEICADLEARN_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


# Read once at start-up: some tests remove the variable to exercise the download path.
_MIRROR_AT_START = os.environ.get("HEICADLEARN_DATA")


def mirror_path() -> Path:
    env = _MIRROR_AT_START
    if not env:
        pytest.fail("HEICADLEARN_DATA is not set: these tests compare against the course's data mirror.")
    return Path(env)
