"""Page weight of the built site, as a reader's browser transfers it on first load.

Every page of ``_toc.yml`` is opened in Chromium with an empty cache, served from
127.0.0.1, until the network is idle, then scrolled to its end (so that figures the page
loads lazily count too) until the network is idle again. Each response is counted as GitHub Pages would send
it: text (HTML, CSS, JavaScript, JSON, SVG) gzip-compressed, images and fonts as they are.
The sizes only depend on the built files, so tests enforce the budgets below
(``tests/test_browser.py``); ``make weigh`` prints the table.

    python scripts/weigh.py [--site _build/html] [--top 3] [--json weights.json]
"""

from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import json
import os
import shutil
import statistics
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlparse

import yaml

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "html"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT = {"width": 1280, "height": 900}

# Budgets (issue #14), bytes as transferred on first load.
KB = 1000
BUDGET_MEDIAN = 600 * KB
BUDGET_PAGE = 1500 * KB
BUDGET_PLAIN_PAGE = 400 * KB  # a page without code cells or math (references, data)

TEXT_TYPES = ("text/", "application/javascript", "application/json", "application/xml", "image/svg+xml")
GZIP_LEVEL = 6  # what common static hosts use by default


# A reader scrolling through the whole page, a screen at a time.
SCROLL_TO_END = """async () => {
  for (let y = 0; y < document.documentElement.scrollHeight; y += window.innerHeight / 2) {
    window.scrollTo(0, y);
    await new Promise(r => setTimeout(r, 50));
  }
  window.scrollTo(0, document.documentElement.scrollHeight);
  await new Promise(r => setTimeout(r, 500));
}"""


def chromium_path() -> str:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"


def toc_pages() -> list[str]:
    """Every page of the book, in _toc.yml order, as paths relative to the site root."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    names = [toc["root"]] + [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]
    return [f"{n}.html" for n in names]


def transferred(content_type: str, body: bytes) -> int:
    """Bytes on the wire: gzip for text, as-is for images and fonts."""
    if content_type.split(";")[0].strip().startswith(TEXT_TYPES):
        return len(gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0))
    return len(body)


@dataclass
class Item:
    path: str
    kind: str  # html, js, css, image, font, other
    raw: int
    sent: int


@dataclass
class PageWeight:
    page: str
    plain: bool  # no code cells and no math
    items: list[Item] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(i.sent for i in self.items)

    def by_kind(self, kind: str) -> int:
        return sum(i.sent for i in self.items if i.kind == kind)

    @property
    def budget(self) -> int:
        return BUDGET_PLAIN_PAGE if self.plain else BUDGET_PAGE


def _kind(content_type: str, path: str) -> str:
    ct = content_type.split(";")[0].strip()
    if ct == "text/html":
        return "html"
    if "javascript" in ct or path.endswith(".js"):
        return "js"
    if ct == "text/css":
        return "css"
    if ct.startswith("image/"):
        return "image"
    if ct.startswith("font/") or path.endswith((".woff", ".woff2", ".ttf", ".otf")):
        return "font"
    return "other"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _Gzip(_Quiet):
    """Sends text gzip-compressed (as GitHub Pages does) to clients that accept it."""

    def do_GET(self):  # noqa: N802 (http.server's naming)
        path = Path(self.translate_path(self.path))
        content_type = self.guess_type(str(path))
        if (
            not path.is_file()
            or "gzip" not in self.headers.get("Accept-Encoding", "")
            or not content_type.startswith(TEXT_TYPES)
        ):
            return super().do_GET()
        body = gzip.compress(path.read_bytes(), compresslevel=GZIP_LEVEL, mtime=0)
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def serve(site: Path, compress: bool = False):
    """The site on 127.0.0.1 (a free port); ``compress``: text gzip-compressed, as GitHub Pages sends it."""
    handler = _Gzip if compress else _Quiet
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


def weigh_page(browser, base: str, page: str, viewport=VIEWPORT, color_scheme: str = "light") -> PageWeight:
    """Open ``page`` with an empty cache until the network is idle and count what came."""
    context = browser.new_context(viewport=viewport, color_scheme=color_scheme)
    responses = []
    tab = context.new_page()
    tab.on("response", lambda r: responses.append(r))
    try:
        tab.goto(urljoin(base, page), wait_until="networkidle")
        tab.evaluate(SCROLL_TO_END)
        tab.wait_for_load_state("networkidle")
        plain = tab.evaluate("() => !document.querySelector('div.cell, mjx-container, script[src*=\"mathjax\"]')")
        weight = PageWeight(page, plain)
        host = urlparse(base).netloc
        for r in responses:
            url = urlparse(r.url)
            if url.scheme in ("data", "blob"):
                continue
            body = r.body() if r.status < 300 else b""
            ct = r.headers.get("content-type", "")
            path = url.path.lstrip("/") if url.netloc == host else r.url
            weight.items.append(Item(path, _kind(ct, url.path), len(body), transferred(ct, body)))
        return weight
    finally:
        context.close()


def weigh_site(site: Path = SITE, pages: list[str] | None = None, **kwargs) -> list[PageWeight]:
    from playwright.sync_api import sync_playwright

    pages = pages or toc_pages()
    with serve(site) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=FLAGS, headless=True)
        try:
            return [weigh_page(browser, base, page, **kwargs) for page in pages]
        finally:
            browser.close()


def budget_failures(weights: list[PageWeight]) -> list[str]:
    """One line per broken budget; empty when the site is within all of them."""
    out = [
        f"{w.page}: {w.total / KB:.0f} KB, over its budget of {w.budget / KB:.0f} KB"
        for w in weights
        if w.total > w.budget
    ]
    median = statistics.median(w.total for w in weights)
    if median > BUDGET_MEDIAN:
        out.append(f"median page {median / KB:.0f} KB, over the budget of {BUDGET_MEDIAN / KB:.0f} KB")
    return out


def _kb(n: int) -> str:
    return f"{n / KB:,.0f}"


def table(weights: list[PageWeight], top: int = 3) -> str:
    """A Markdown table, page by page, with the largest items of each page."""
    lines = [
        "| page | total KB | budget | HTML | JS | CSS | images | fonts | requests | largest items (KB sent) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for w in weights:
        biggest = sorted(w.items, key=lambda i: -i.sent)[:top]
        items = ", ".join(f"{Path(i.path).name} {_kb(i.sent)}" for i in biggest)
        ok = "ok" if w.total <= w.budget else "OVER"
        lines.append(
            f"| {w.page} | {_kb(w.total)} | {_kb(w.budget)} {ok} | {_kb(w.by_kind('html'))} | {_kb(w.by_kind('js'))} "
            f"| {_kb(w.by_kind('css'))} | {_kb(w.by_kind('image'))} | {_kb(w.by_kind('font'))} "
            f"| {len(w.items)} | {items} |"
        )
    totals = [w.total for w in weights]
    median = statistics.median(totals)
    lines.append("")
    lines.append(
        f"median {_kb(median)} KB (budget {_kb(BUDGET_MEDIAN)}), largest {_kb(max(totals))} KB "
        f"(budget {_kb(BUDGET_PAGE)}; pages without code or math {_kb(BUDGET_PLAIN_PAGE)}); "
        "text gzip-compressed, images and fonts as they are."
    )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=SITE)
    parser.add_argument("--top", type=int, default=3, help="largest items shown per page")
    parser.add_argument("--json", type=Path, help="also write the items of every page to this file")
    args = parser.parse_args(argv)
    if not (args.site / "index.html").is_file():
        print(f"No site at {args.site}: run `make book` first.", file=sys.stderr)
        return 2
    weights = weigh_site(args.site)
    print(table(weights, args.top))
    if args.json:
        args.json.write_text(
            json.dumps(
                [{"page": w.page, "plain": w.plain, "items": [i.__dict__ for i in w.items]} for w in weights], indent=1
            )
        )
    failures = budget_failures(weights)
    for line in failures:
        print("OVER BUDGET:", line)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
