"""The launch notebooks on a learner's stack: Colab's older libraries, not the book's pins.

`make test` builds `.venv-colab` (Python 3.12) from tests/envs/colab.txt. These tests install the
course package into it the way a notebook's setup cell does (pip, with its declared
dependencies), check that no library of the stack was upgraded or downgraded, and run every
launch notebook top to bottom there: live widget demos on ipywidgets 7, TensorFlow 2.19,
NumPy 2.0. The book's hidden checks are not part of a learner's notebook, so none run here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

from .conftest import ROOT, is_executable, notebook_errors, toc_docnames

pytestmark = pytest.mark.colab

VENV = ROOT / ".venv-colab"
PYTHON = VENV / "bin" / "python"
CHAPTERS = [d for d in toc_docnames() if is_executable(d)]


def pinned() -> dict[str, str]:
    lines = (ROOT / "tests/envs/colab.txt").read_text().splitlines()
    return dict(line.split("==") for line in (raw.split("#")[0].strip() for raw in lines) if "==" in line)


def installed() -> dict[str, str]:
    out = subprocess.run([str(PYTHON), "-m", "pip", "list", "--format", "json"], capture_output=True, text=True)
    return {p["name"].lower().replace("_", "-"): p["version"] for p in json.loads(out.stdout)}


@pytest.fixture(scope="module")
def colab(tmp_path_factory):
    """The Colab-like venv with the course package installed by the notebooks' own setup cell."""
    if not PYTHON.is_file():
        pytest.fail("No Colab-like environment: run `make test`, which builds .venv-colab from tests/envs/colab.txt.")
    subprocess.run([str(PYTHON), "-m", "pip", "uninstall", "--quiet", "--yes", "heicadlearn"], capture_output=True)
    before = installed()
    # The setup cell of every launch notebook, pointed at this working tree instead of the repository.
    package = tmp_path_factory.mktemp("package") / "code"
    shutil.copytree(ROOT / "code", package, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    setup_cell = (ROOT / "_build/html/_notebooks" / f"{CHAPTERS[0]}.ipynb").read_text()
    source = "".join(nbformat.reads(setup_cell, as_version=4).cells[1].source)
    source = re.sub(r"heicadlearn @ git\+[^\"]+", f"heicadlearn @ {package.as_uri()}", source)
    result = subprocess.run([str(PYTHON), "-c", source], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return before, installed()


def test_setup_cell_changes_nothing_in_the_learners_stack(colab):
    before, after = colab
    assert "heicadlearn" in after and "heicadlearn" not in before
    for name, version in pinned().items():
        key = name.lower()
        assert before.get(key) == version, f"{name}: the Colab-like venv has {before.get(key)}, not {version}"
        assert after.get(key) == version, f"installing the course package changed {name} {version} -> {after.get(key)}"
    added = sorted(set(after) - set(before) - {"heicadlearn"})
    assert added == [], f"installing the course package brought in {added}"


@pytest.mark.parametrize("doc", CHAPTERS)
def test_notebook_runs_on_the_colab_stack(colab, site, doc, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("JUPYTER_PATH", str(VENV / "share" / "jupyter"))
    for key in ("HEICADLEARN_STATIC_DEMOS", "PYTHONPATH"):
        monkeypatch.delenv(key, raising=False)
    assert os.environ.get("HEICADLEARN_DATA") or os.environ.get("CI") is None
    shutil.copytree(site / "_notebooks", tmp_path / "_notebooks")
    folder = (tmp_path / "_notebooks" / doc).parent
    nb = nbformat.read(folder / f"{Path(doc).name}.ipynb", as_version=4)
    client = NotebookClient(nb, timeout=900, kernel_name="colab", resources={"metadata": {"path": str(folder)}})
    client.execute()
    version = [o.text for o in nb.cells[1].outputs if o.get("name") == "stdout"]
    errors = notebook_errors(nb)
    assert errors == [], (doc, version)
