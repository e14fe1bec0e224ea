"""Shared fixtures: paths of the repository and the built site, and a local HTTP server."""

from __future__ import annotations

import http.server
import os
import re
import shutil
import subprocess
import textwrap
import threading
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest
import yaml

from scripts import weigh

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


# Reference pages, not lectures: every other page of the book is also a slide deck.
NO_DECK = ("book/data", "book/references")


def deck_docs() -> list[str]:
    """Every chapter that is also a slide deck, in _toc.yml order."""
    return [d for d in toc_docnames() if d not in NO_DECK]


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


# --- fixture books: small books with the real configuration and extension ----------------------

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
    shutil.copytree(ROOT / "book/_ext", book / "book/_ext", ignore=shutil.ignore_patterns("__pycache__"))
    names = list(pages)
    toc = {"format": "jb-book", "root": f"book/{names[0]}"}
    if len(names) > 1:
        toc["chapters"] = [{"file": f"book/{n}"} for n in names[1:]]
    (book / "_toc.yml").write_text(yaml.safe_dump(toc))
    for name, text in pages.items():
        (book / "book" / f"{name}.md").write_text(text)
    return book


def build(book: Path) -> subprocess.CompletedProcess:
    return subprocess.run(jupyter_book(book), capture_output=True, text=True, cwd=book, timeout=600)


def code(source: str, tags: str = "") -> str:
    tag_line = f":tags: [{tags}]\n" if tags else ""
    return f"```{{code-cell}} ipython3\n{tag_line}{source}\n```\n"


def cache_entries(book: Path) -> set[tuple[str, str]]:
    """(notebook file name, hash) of every execution jupyter-cache holds for a fixture book."""
    from jupyter_cache import get_cache

    return {(Path(r.uri).name, r.hashkey) for r in get_cache(str(book / ".jupyter_cache")).list_cache_records()}


# --- the browser: Debian's Chromium driven by Playwright, every other host cut off -------------

FLAGS = weigh.FLAGS  # the flags `make weigh` starts Chromium with


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(path):
        pytest.fail(
            "No Chromium found for the browser tests. Install Debian's package (`apt-get install chromium`) "
            "or set CHROMIUM_PATH to a Chromium/Chrome executable."
        )
    return path


@pytest.fixture(scope="module")
def server(site):
    """The built site on 127.0.0.1 (its base URL), served as `make slides-pdf` serves it."""
    from heicadlearn_book.handouts import serve

    with serve(site) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=FLAGS, headless=True)
        yield b
        b.close()


class Visit:
    """A page opened with every request, console error and failure recorded."""

    def __init__(self, browser, base, path, width=1280, color_scheme="light"):
        self.base_host = urlparse(base).netloc
        self.foreign, self.failed, self.errors, self.bad_status = [], [], [], []
        self.requested = []  # every URL the page asked for, in order
        self.context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=color_scheme)
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("requestfailed", lambda r: self.failed.append(f"{r.url} ({r.failure})"))
        self.page.on("response", lambda r: r.status >= 400 and self.bad_status.append(f"{r.status} {r.url}"))
        self.page.goto(urljoin(base, path), wait_until="load")
        self.wait_for_mathjax()

    def _route(self, route):
        self.requested.append(route.request.url)
        url = urlparse(route.request.url)
        if url.scheme in ("data", "blob") or url.netloc == self.base_host:
            route.continue_()
        else:
            self.foreign.append(route.request.url)
            route.abort()

    def wait_for_mathjax(self):
        has_mathjax = self.page.evaluate("() => !!document.querySelector('script[src*=\"mathjax\"]')")
        if has_mathjax:
            self.page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
            self.page.evaluate("() => MathJax.startup.promise")

    def close(self):
        self.context.close()


# Every WCAG 2.0, 2.1 and 2.2 level A and AA rule axe-core has, the experimental ones
# (label-content-name-mismatch among them) included: axe runs them only when named.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


@pytest.fixture(scope="module")
def axe_source():
    path = ROOT / "node_modules" / "axe-core" / "axe.min.js"
    if not path.is_file():
        pytest.fail("axe-core is missing: run `npm ci` (make book does).")
    return path.read_text(encoding="utf-8")


def snapshot(demo) -> str:
    """What a precomputed demo shows now: its image, text, table and slider labels."""
    return demo.evaluate(
        """d => [...d.querySelectorAll('.hcl-demo-img, .hcl-demo-text, .hcl-demo-html, output')]
                 .map(e => e.src || e.textContent || e.innerHTML).join('|')"""
    )


def change_control(control) -> str:
    """Set a demo control to another value, with the keyboard or the mouse; returns its kind."""
    kind = control.evaluate("e => e.tagName === 'SELECT' ? 'select' : e.type")
    if kind == "range":
        control.focus()
        control.press("End" if control.input_value() != control.get_attribute("max") else "Home")
    elif kind == "checkbox":
        control.click()
    else:
        options = control.locator("option")
        current = control.input_value()
        other = next(
            options.nth(k).get_attribute("value")
            for k in range(options.count())
            if options.nth(k).get_attribute("value") != current
        )
        control.select_option(other)
    return kind
