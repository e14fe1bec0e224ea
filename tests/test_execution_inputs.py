"""What each chapter's cached execution depends on: the helper modules it runs, the seed.

The mechanism (a changed module executes exactly its chapters again) is tested on a fixture
book in test_fixture_books.py; these tests check the real book's import graph and the digest.
"""

from __future__ import annotations

import re

import pytest
from heicadlearn_book.execution import chapter_modules, inputs_digest, package_dir, with_inputs

from .conftest import ROOT, is_executable, toc_docnames

CHAPTERS = [d for d in toc_docnames() if is_executable(d)]


def text(doc: str) -> str:
    return (ROOT / f"{doc}.md").read_text(encoding="utf-8")


def importers(module: str) -> set[str]:
    """Chapters whose code names ``heicadlearn.<module>`` (read with a plain pattern, not the extension's parser)."""
    pattern = re.compile(rf"heicadlearn\.{module}\b|from heicadlearn import [\w, ]*\b{module}\b")
    return {d for d in CHAPTERS if pattern.search(text(d))}


def dependents(module: str) -> set[str]:
    return {d for d in CHAPTERS if module in chapter_modules(text(d), package_dir())}


def test_evaluation_runs_only_in_the_chapters_that_import_it():
    assert dependents("evaluation") == importers("evaluation")
    assert "book/chexnet" in dependents("evaluation")
    assert not {"book/welcome", "book/backpropagation", "book/computer_vision"} & dependents("evaluation")


def test_plotting_runs_in_chapters_that_import_it_or_regression():
    assert dependents("plotting") == importers("plotting") | importers("regression")
    assert dependents("regression") == importers("regression")


def test_seeds_run_wherever_tensorflow_or_evaluation_does():
    assert dependents("seeds") >= dependents("tf") | dependents("evaluation")


@pytest.mark.parametrize("doc", CHAPTERS)
def test_digest_changes_with_the_seed_and_keeps_line_numbers(doc, monkeypatch):
    monkeypatch.delenv("HEICADLEARN_SEED", raising=False)
    seed0 = inputs_digest(text(doc))
    monkeypatch.setenv("HEICADLEARN_SEED", "1")
    assert inputs_digest(text(doc)) != seed0
    executed = with_inputs(text(doc))
    assert executed.count("\n") == text(doc).count("\n"), "the digest must not move any line"
    assert executed.splitlines()[30:] == text(doc).splitlines()[30:]
