"""Build the book strictly, executing only one chapter: a quick check while writing it.

Usage (from the repository root): ``make chapter NAME=backpropagation``

Copies the book into a temporary folder (so a parallel full build is not disturbed),
excludes every other chapter from execution, and runs the same strict build as
``make book`` (``-n -W --keep-going``). Prints the build log's warnings and where
the executed HTML and the execution report are.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
GLUE_ROLE = re.compile(r"\{glue(?::\w*)?\}`[^`]*`")
SLIDE_SHOW = re.compile(r"^:show:.*\n", re.MULTILINE)


def unexecuted(text: str) -> str:
    """A chapter as this scratch build sees it when it does not execute it.

    Without execution it has no glued values and no figures from code cells, so its glue
    roles become a placeholder and its slides show no outputs, instead of warnings.
    """
    return SLIDE_SHOW.sub("", GLUE_ROLE.sub("…", text))


def main(name: str) -> int:
    chapter = ROOT / "book" / f"{name}.md"
    if not chapter.is_file():
        print(f"No chapter book/{name}.md")
        return 2
    work = Path(tempfile.gettempdir()) / f"heicadlearn-chapter-{name}"
    keep_cache = work / ".jupyter_cache"
    saved = None
    if keep_cache.exists():
        saved = Path(tempfile.mkdtemp()) / "cache"
        shutil.move(str(keep_cache), saved)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    if saved:
        shutil.move(str(saved), keep_cache)
    for item in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / item, work / item)
    shutil.copytree(ROOT / "book", work / "book")
    shutil.copytree(ROOT / "_static", work / "_static")
    shutil.copytree(ROOT / "data", work / "data", ignore=shutil.ignore_patterns("cache"))
    (work / "node_modules").symlink_to(ROOT / "node_modules")
    config = yaml.safe_load((work / "_config.yml").read_text())
    others = [str(p.relative_to(work)) for p in (work / "book").glob("*.md") if p.stem != name]
    # The other chapters are not executed here: in this scratch copy only, they lose what
    # execution would give them (glued values, figures for their slides).
    for other in others:
        path = work / other
        path.write_text(unexecuted(path.read_text(encoding="utf-8")), encoding="utf-8")
    config["execute"]["exclude_patterns"] = others
    config["execute"]["cache"] = str(keep_cache)
    (work / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    cmd = [str(ROOT / ".venv/bin/jupyter-book"), "build", str(work), "--builder", "html", "-n", "-W", "--keep-going"]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=work)
    log = proc.stdout + proc.stderr
    for line in log.splitlines():
        if "WARNING" in line or "ERROR" in line or "Executing" in line or "Executed" in line:
            print(line)
    print(f"\nexit code {proc.returncode}; page: {work}/_build/html/book/{name}.html")
    reports = work / "_build/html/reports"
    if reports.exists():
        for report in reports.iterdir():
            print(f"execution report: {report}")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
