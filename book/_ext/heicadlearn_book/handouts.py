"""Handouts: every slide deck of the built site printed to PDF (``make slides-pdf``).

Debian's Chromium prints each deck in reveal.js's print layout (``?print-pdf``: one page per
slide, notes left out) while the site is served on 127.0.0.1, so that the deck loads its
scripts, MathJax and images exactly as in the lecture room, from the site itself. Chromium is
told not to reach the network at all. Each PDF must have as many pages as its deck has slides;
otherwise the command fails and names the deck.

Usage: ``python -m heicadlearn_book.handouts [SITE] [OUT]`` (default ``_build/html`` and
``_build/slides-pdf``). ``CHROMIUM_PATH`` overrides ``/usr/bin/chromium``.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path

from .slides import SLIDES_DIR

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-extensions",
    "--no-first-run",
    "--no-pdf-header-footer",
    "--run-all-compositor-stages-before-draw",
    # Let reveal.js lay out its print pages and MathJax typeset before the page is printed.
    "--virtual-time-budget=30000",
    # Only the local server: any other host fails instead of being fetched.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)
PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


def chromium() -> str:
    return os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"


def pdf_pages(path: Path) -> int:
    """Number of pages of a PDF: its page objects (Chromium writes them uncompressed)."""
    return len(PAGE.findall(Path(path).read_bytes()))


class _Slides(HTMLParser):
    """Counts reveal's top-level slides: <section> elements directly inside div.slides."""

    def __init__(self):
        super().__init__()
        self.count, self._depth, self._in_slides = 0, 0, False

    def handle_starttag(self, tag, attrs):
        if tag == "div" and "slides" in (dict(attrs).get("class") or "").split():
            self._in_slides = True
        elif tag == "section" and self._in_slides:
            self._depth += 1
            self.count += self._depth == 1

    def handle_endtag(self, tag):
        if tag == "section" and self._in_slides:
            self._depth -= 1


def slide_count(deck: Path) -> int:
    parser = _Slides()
    parser.feed(Path(deck).read_text(encoding="utf-8"))
    return parser.count


@contextmanager
def serve(site: Path):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


def print_deck(base: str, deck: str, out: Path, profile: Path) -> None:
    command = [
        chromium(),
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        f"--print-to-pdf={out}",
        f"{base}{SLIDES_DIR}/{deck}?print-pdf",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if result.returncode != 0 or not out.is_file():
        raise RuntimeError(f"Chromium could not print {deck}: {result.stderr[-1500:]}")


def print_all(site: Path, out: Path) -> dict[str, int]:
    """Print every deck of ``site`` into ``out``; returns deck -> pages. Fails on a page count mismatch."""
    decks = sorted((site / SLIDES_DIR).glob("*.html"))
    if not decks:
        raise SystemExit(f"No slide decks in {site / SLIDES_DIR}: run `make book` first.")
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.pdf"):
        old.unlink()
    pages, wrong = {}, []
    with serve(site) as base:
        for deck in decks:
            pdf = out / f"{deck.stem}.pdf"
            profile = out / f".chromium-{deck.stem}"  # a fresh browser profile for every deck
            print_deck(base, deck.name, pdf, profile)
            shutil.rmtree(profile, ignore_errors=True)
            pages[deck.stem] = pdf_pages(pdf)
            expected = slide_count(deck)
            print(f"{pdf}: {pages[deck.stem]} pages for {expected} slides")
            if pages[deck.stem] != expected:
                wrong.append(f"{deck.name}: {pages[deck.stem]} pages for {expected} slides")
    if wrong:
        raise SystemExit("Handouts with a page per slide expected:\n  " + "\n  ".join(wrong))
    return pages


def main(argv: list[str]) -> None:
    site = Path(argv[0]) if argv else Path("_build/html")
    out = Path(argv[1]) if len(argv) > 1 else Path("_build/slides-pdf")
    print_all(site, out)


if __name__ == "__main__":
    main(sys.argv[1:])
