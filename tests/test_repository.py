"""Repository-level promises: README commands, CI script, workflows, pins, no data committed."""

from __future__ import annotations

import re
import subprocess

from .conftest import ROOT


def test_readme_gives_exactly_the_two_setup_commands():
    readme = (ROOT / "README.md").read_text()
    setup = readme.split("## Set-up", 1)[1].split("##", 1)[0]
    block = re.search(r"```bash\n(.*?)```", setup, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.split("#")[0].strip()]
    assert commands == ["make book", "make test"]
    assert "HEICADLEARN_DATA" in setup


def test_ci_script_installs_what_tests_need_and_runs_make_test():
    run = (ROOT / ".ci/run").read_text()
    assert "make test" in run
    for package in ("chromium", "dataset-fashion-mnist"):
        assert package in run
    assert "HEICADLEARN_DATA" in run


def test_workflows_pass_actionlint():
    workflows = sorted(str(p) for p in (ROOT / ".github/workflows").glob("*.yml"))
    assert workflows
    result = subprocess.run(
        ["node", str(ROOT / "tests/tools/actionlint.cjs"), *workflows], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_requirements_are_exact_pins():
    lines = [x for x in (ROOT / "requirements.txt").read_text().splitlines() if x and not x.startswith("#")]
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[\w.+-]+", x) for x in lines), [x for x in lines if "==" not in x]
    names = {re.sub(r"[-_.]+", "-", x.split("==")[0].lower()) for x in lines}
    for needed in (
        "jupyter-book",
        "tensorflow-cpu",
        "numpy",
        "matplotlib",
        "ipywidgets",
        "myst-nb",
        "scikit-learn",
        "pandas",
        "pooch",
        "playwright",
        "ruff",
        "codespell",
        "pre-commit",
    ):
        assert needed in names, needed
    assert "jupyter-book==1.0.4.post1" in lines


def test_no_data_or_binaries_are_committed():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    binary = [f for f in files if f.endswith((".npz", ".png", ".gz", ".h5", ".keras", ".ipynb", ".jpg", ".pkl"))]
    assert binary == []
    big = [f for f in files if (ROOT / f).is_file() and (ROOT / f).stat().st_size > 1_000_000]
    assert big == [], big


def test_no_package_named_code_and_one_helper_package():
    assert not (ROOT / "code" / "__init__.py").exists()
    assert (ROOT / "code" / "heicadlearn" / "__init__.py").is_file()


def test_lint_is_clean():
    """The pre-commit hooks' checks, without fixing: ruff, ruff-format, codespell."""
    bin_dir = ROOT / ".venv" / "bin"
    for cmd in (
        [bin_dir / "ruff", "check", "code", "tests", "scripts"],
        [bin_dir / "ruff", "format", "--check", "code", "tests", "scripts"],
        [bin_dir / "codespell", "book", "code", "tests", "scripts", "README.md", "CONTRIBUTING.md", "data/README.md"],
    ):
        result = subprocess.run([str(c) for c in cmd], cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0, f"{cmd[0].name} {cmd[1]}: {result.stdout[-2000:]}{result.stderr[-2000:]}"


def test_make_chapter_strips_what_only_execution_gives_other_chapters():
    """`make chapter` leaves the other chapters unexecuted: no glue roles, no slides showing outputs."""
    from scripts.build_chapter import unexecuted

    for path in sorted((ROOT / "book").glob("*.md")):
        text = unexecuted(path.read_text(encoding="utf-8"))
        assert "{glue" not in text and not re.search(r"^:show:", text, re.MULTILINE), path.name
    slide = "```{slide} Title\n:show: fig-a out-b\n:layout: split\n- point\n```\n"
    assert unexecuted(slide) == "```{slide} Title\n:layout: split\n- point\n```\n"
