"""`make slides-pdf`: every deck printed by Debian's Chromium, one PDF page per slide."""

from __future__ import annotations

import re
import subprocess
import zlib
from pathlib import Path

import pytest

from .conftest import ROOT, deck_docs
from .test_slides import deck

pytestmark = pytest.mark.browser

OUT = ROOT / "_build" / "slides-pdf"


def pages_in_tree(pdf: bytes) -> int:
    """Page count from the PDF's page tree: the /Count of the root /Pages object (independent of
    handouts.pdf_pages, which counts the /Type /Page objects)."""
    streams = [pdf]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            streams.append(zlib.decompress(match.group(1)))
        except zlib.error:
            pass
    counts = []
    for data in streams:
        for obj in re.finditer(rb"<<(?:(?!<<|>>).)*/Type\s*/Pages(?![a-zA-Z])(?:(?!<<|>>).)*>>", data, re.S):
            if b"/Parent" not in obj.group(0):
                counts += [int(n) for n in re.findall(rb"/Count\s+(\d+)", obj.group(0))]
    assert len(counts) == 1, f"expected one root page tree, found counts {counts}"
    return counts[0]


@pytest.fixture(scope="module")
def handouts(site):
    """`make slides-pdf` without its first step, `make book` (the test run builds the book first)."""
    result = subprocess.run(["make", "handouts"], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result


def test_make_slides_pdf_builds_the_book_then_prints_it():
    dry = subprocess.run(["make", "-n", "slides-pdf"], cwd=ROOT, capture_output=True, text=True, check=True)
    build = dry.stdout.find("jupyter-book build")
    handouts = dry.stdout.find("-m heicadlearn_book.handouts _build/html _build/slides-pdf")
    assert 0 <= build < handouts, dry.stdout[-1500:]


@pytest.mark.parametrize("doc", deck_docs())
def test_one_pdf_per_deck_with_a_page_per_slide(site, handouts, doc):
    from heicadlearn_book.handouts import pdf_pages

    name = Path(doc).name
    pdf = OUT / f"{name}.pdf"
    assert pdf.is_file(), f"no handout for {doc}"
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    d = deck(site / "slides" / f"{name}.html")
    slides = len(d.slides)
    assert pages_in_tree(data) == slides, f"{name}: {pages_in_tree(data)} pages for {slides} slides"
    assert pdf_pages(pdf) == slides
    assert f"{pdf.relative_to(ROOT)}: {slides} pages for {slides} slides" in handouts.stdout
    if any(tag == "img" for tag, _ in d.tags):  # the deck's figures are in the handout
        assert data.count(b"/Subtype /Image") >= 1


def test_nothing_but_the_decks(handouts):
    assert sorted(p.stem for p in OUT.glob("*.pdf")) == sorted(Path(d).name for d in deck_docs())
