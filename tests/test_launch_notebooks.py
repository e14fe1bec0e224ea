"""The launch notebooks in _build/html/_notebooks: valid, plain Markdown, and runnable top to bottom.

They run in a fresh kernel with the helper package installed from the working tree and data
from HEICADLEARN_DATA — the conditions a learner has on the hub. Widget demos run live
(HEICADLEARN_STATIC_DEMOS is unset), as in Jupyter.
"""

from __future__ import annotations

import os
import re
import shutil

import nbformat
import pytest

from .conftest import (
    MYST_SYNTAX,
    ROOT,
    cached_execution,
    front_matter,
    is_executable,
    notebook_errors,
    source_notebook,
    toc_docnames,
)

pytestmark = pytest.mark.notebooks

CHAPTERS = [d for d in toc_docnames() if is_executable(d)]


def notebook(site, doc):
    path = site / "_notebooks" / f"{doc}.ipynb"
    assert path.is_file(), f"no launch notebook for {doc}"
    return nbformat.read(path, as_version=4)


@pytest.mark.parametrize("doc", CHAPTERS)
def test_notebook_is_valid_plain_and_empty(site, doc):
    nb = notebook(site, doc)
    nbformat.validate(nb)
    wants_gpu = (front_matter(doc).get("heicadlearn") or {}).get("accelerator") == "GPU"
    assert (nb.metadata.get("accelerator") == "GPU") == wants_gpu
    assert (nb.metadata.get("colab", {}).get("gpuType") == "T4") == wants_gpu
    assert "widgets" not in nb.metadata
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
        else:
            prose = re.sub(r"```.*?```", "", cell.source, flags=re.S)
            assert not MYST_SYNTAX.search(prose), f"{doc}: MyST syntax left: {MYST_SYNTAX.search(prose).group(0)!r}"
    # Files the chapter offers for download lie next to its notebook, as beside the chapter.
    for target in re.findall(r"\{download\}`(?:[^`<]*<)?([^`<>]+?)>?`", (ROOT / f"{doc}.md").read_text()):
        assert ((site / "_notebooks" / doc).parent / target).is_file(), target
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert "pip" in first_code.source and 'find_spec("heicadlearn")' in first_code.source


def with_book_checks(nb, doc):
    """The learner's notebook with the book's hidden checks put back, from the chapter source."""
    source = source_notebook(doc)
    checks = {i: c for i, c in enumerate(source.cells) if "remove-cell" in c.metadata.get("tags", [])}
    cells, pending = [], sorted(checks)
    for cell in nb.cells:
        index = cell.metadata.get("heicadlearn", {}).get("source_cell")
        while index is not None and pending and pending[0] < index:
            check = nbformat.v4.new_code_cell(checks[pending.pop(0)].source)
            check.metadata["heicadlearn"] = {"source_cell": -1, "book_check": True}
            cells.append(check)
        cells.append(cell)
    for i in pending:
        check = nbformat.v4.new_code_cell(checks[i].source)
        check.metadata["heicadlearn"] = {"source_cell": -1, "book_check": True}
        cells.append(check)
    nb.cells = cells
    return nb


@pytest.mark.parametrize("doc", CHAPTERS)
def test_exercises_are_try_first_with_hidden_solutions(site, doc):
    text = (ROOT / f"{doc}.md").read_text(encoding="utf-8")
    nb = notebook(site, doc)
    tagged = {t: [c for c in nb.cells if t in c.metadata.get("tags", [])] for t in ("exercise", "solution")}
    assert len(tagged["exercise"]) == text.count("```{solution-start}"), "one attempt cell per coding exercise"
    assert all(c.cell_type == "code" for c in tagged["exercise"])
    for cell in tagged["solution"]:
        assert cell.metadata["jupyter"]["source_hidden"] is True and cell.metadata["cellView"] == "form"
        assert cell.source.startswith("#@title Solution")
    answers = [c for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("**Your answer:**")]
    assert len(answers) == len(re.findall(r"^```\{solution\}", text, re.M)), "one answer cell per text exercise"


def test_learner_notebooks_hold_no_checks(site):
    for doc in CHAPTERS:
        nb = notebook(site, doc)
        hidden = [c for c in nb.cells if "remove-cell" in c.metadata.get("tags", [])]
        assert hidden == [], f"{doc}: the book's hidden cells reached the learner's notebook"
        assert not any("from myst_nb import glue" in c.source for c in nb.cells), doc


@pytest.mark.parametrize("doc", CHAPTERS)
def test_notebook_runs_top_to_bottom(site, doc, tmp_path, monkeypatch):
    from heicadlearn_book.execution import chapter_environment
    from nbclient import NotebookClient

    for key, value in chapter_environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("HEICADLEARN_STATIC_DEMOS", raising=False)  # demos run live, as in Jupyter
    assert os.environ.get("HEICADLEARN_DATA") or os.environ.get("CI") is None
    # Lay the notebooks out as nbgitpuller does on the hub, and run this one from its folder.
    shutil.copytree(site / "_notebooks", tmp_path / "_notebooks")
    folder = (tmp_path / "_notebooks" / doc).parent
    nb = with_book_checks(notebook(site, doc), doc)
    client = NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(folder)}})
    client.execute()
    # Only cells that teach an error may fail; the book's hidden checks must pass here too.
    errors = notebook_errors(nb)
    assert errors == []
    # Determinism: with fixed seeds, the learner's run prints what the book printed, cell by cell.
    book = cached_execution(doc).cells
    ran = {
        c.metadata["heicadlearn"]["source_cell"]: c
        for c in nb.cells
        if c.cell_type == "code"
        and c.metadata.get("heicadlearn", {}).get("source_cell", -1) >= 0
        and "answer-check" not in c.metadata.get("tags", [])
    }
    assert {i: printed(c) for i, c in ran.items()} == {i: printed(book[i]) for i in ran}


def printed(cell) -> str:
    """What a code cell printed (stdout; chunks joined, as their split depends on timing)."""
    return "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")
