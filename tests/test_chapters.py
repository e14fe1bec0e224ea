"""The chapter standard (CONTRIBUTING.md), checked on the chapters' sources."""

from __future__ import annotations

import re

import pytest
from myst_nb.core.read import read_myst_markdown_notebook

from .conftest import ROOT, is_executable, toc_docnames

TEACHING = [d for d in toc_docnames() if is_executable(d) and d not in ("book/welcome", "book/jupyterhub_colab")]
NO_DEMO = {"book/group_work"}


def read(doc):
    return read_myst_markdown_notebook((ROOT / f"{doc}.md").read_text(encoding="utf-8"))


def prose_words(nb) -> int:
    words = 0
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        text = re.sub(r"```.*?```", " ", cell.source, flags=re.S)  # code blocks and directive lines
        text = re.sub(r"\{[\w:-]+\}`[^`]*`", " ", text)
        words += len(re.findall(r"[A-Za-zÄÖÜäöüß]{2,}", text))
    return words


def test_there_are_nine_teaching_chapters():
    assert len(TEACHING) == 9, TEACHING


@pytest.mark.parametrize("doc", TEACHING)
def test_chapter_structure(doc):
    text = (ROOT / f"{doc}.md").read_text(encoding="utf-8")
    nb = read(doc)
    assert prose_words(nb) >= 1200, f"{doc}: {prose_words(nb)} words of explanation"
    lower = text.lower()
    assert "objective" in lower or "you will learn" in lower
    assert "prerequisite" in lower
    assert re.search(r"\btime\b", lower)
    assert re.search(r"^## Summary", text, re.M) and re.search(r"^## Further reading", text, re.M)
    assert "{cite}" in text or "{cite:" in text
    exercises = re.findall(r"^```\{exercise\}", text, re.M) + re.findall(r"^```\{exercise-start\}", text, re.M)
    solutions = re.findall(r"^```\{solution(?:-start)?\}", text, re.M)
    assert len(exercises) >= 3, f"{doc}: {len(exercises)} exercises"
    assert len(solutions) >= len(exercises)
    assert text.count(":class: dropdown") >= len(solutions), "solutions are hidden until clicked"
    assert "solution-start" in text, "at least one exercise has an executed (coding) solution"
    if doc not in NO_DEMO:
        assert re.search(r"\bdemo\(", text), f"{doc} has no widget demo"


@pytest.mark.parametrize("doc", [d for d in toc_docnames() if is_executable(d)])
def test_cells_are_short_and_figures_described(doc):
    nb = read(doc)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        assert len(cell.source.splitlines()) <= 30, f"{doc}: a {len(cell.source.splitlines())}-line cell"
        meta = cell.metadata.get("mystnb", {})
        if "figure" in meta:
            alt = meta.get("image", {}).get("alt", "")
            assert len(alt.split()) >= 5, f"{doc}: figure without specific alt text: {cell.source[:50]!r}"
            assert meta["figure"].get("caption"), f"{doc}: figure without caption"
        if re.search(r"plt\.(subplots|figure)\(", cell.source) and "def " not in cell.source:
            assert "figure" in meta, f"{doc}: a figure cell without caption/alt metadata: {cell.source[:60]!r}"


@pytest.mark.parametrize("doc", [d for d in toc_docnames() if is_executable(d)])
def test_chapters_use_the_helpers_not_copies(doc):
    text = (ROOT / f"{doc}.md").read_text(encoding="utf-8")
    for helper in ("def load_fashion_mnist", "def load_pneumoniamnist", "def demo(", "def use_course_style"):
        assert helper not in text, f"{doc} redefines {helper}"
    if "import tensorflow" in text or "import keras" in text:
        assert "import_tensorflow(" in text, f"{doc} imports TensorFlow without heicadlearn.tf.import_tensorflow"


@pytest.mark.parametrize("doc", TEACHING)
def test_a_coding_exercise_gives_feedback_without_the_answer(doc):
    """At least one coding exercise checks the learner's attempt with heicadlearn.check (CONTRIBUTING.md)."""
    checks = [c for c in read(doc).cells if "answer-check" in c.metadata.get("tags", [])]
    assert checks, f"{doc}: no cell tagged answer-check inside a solution"
    for cell in checks:
        assert re.search(r"\bcheck_(close|function)\(", cell.source), f"{doc}: answer-check without heicadlearn.check"


@pytest.mark.parametrize("doc", [d for d in toc_docnames() if is_executable(d)])
def test_run_numbers_are_glued_and_seeds_come_from_the_course(doc):
    text = (ROOT / f"{doc}.md").read_text(encoding="utf-8")
    code = "\n".join(c.source for c in read(doc).cells if c.cell_type == "code")
    assert not re.search(r"import_tensorflow\(\s*seed\s*=\s*\d", code), f"{doc}: a fixed TensorFlow seed"
    assert not re.search(r"default_rng\(\s*\d+\s*\)", code), f"{doc}: a fixed NumPy seed; use course_seed()"
    assert not re.search(r"set_random_seed\(\s*\d+\s*\)", code), f"{doc}: a fixed Keras seed; use set_seed()"
    if re.search(r"\b(import_tensorflow|course_seed)\(", code) and "remove-cell" in text:
        assert "{glue:text}`" in text, f"{doc} trains or samples but quotes no glued number"
