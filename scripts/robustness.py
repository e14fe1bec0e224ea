"""Benchmark: do the chapters' claims hold for other seeds and on one thread? (`make robustness`)

Re-executes every chapter that trains or samples (its code calls ``import_tensorflow``,
``course_seed`` or ``set_seed``) outside the execution cache, once for each seed in
``--seeds`` and once more with seed 0 on a single thread (``OMP_NUM_THREADS=1``, which
``heicadlearn.tf.import_tensorflow`` passes on to TensorFlow's intra- and inter-op pools).

Every cell runs even after a failure, so one failed claim does not hide the next. For each
chapter it prints a table: one row per hidden check cell (tagged ``remove-cell``, with an
``assert``), one column per run, "pass" or the assertion's message; then one row per glued
value (the numbers the prose quotes). It exits non-zero if any check failed or a cell
raised an error outside the cells that are meant to raise.

Not part of ``make test``: it takes about as long as a cold build per run. The published
book stays on seed 0.

Usage:
    make robustness                          # SEEDS="1 2 3", plus seed 0 on one thread
    make robustness SEEDS="1 2 3 4 5"
    python scripts/robustness.py --chapters "chexnet backpropagation" --seeds "0 1" --no-single-thread
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
SEEDED = re.compile(r"\b(import_tensorflow|course_seed|set_seed)\s*\(")
GLUE_MIME = "application/papermill.record/text/plain"


@dataclass
class Run:
    label: str
    env: dict[str, str]


@dataclass
class Result:
    checks: dict[str, str] = field(default_factory=dict)  # check label -> "pass" or failure message
    values: dict[str, str] = field(default_factory=dict)  # glue key -> text
    errors: list[str] = field(default_factory=list)  # errors outside check cells
    seconds: float = 0.0


def toc_chapters() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    names = [toc["root"]] + [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]
    return [Path(n).name for n in names]


def read_chapter(name: str) -> nbformat.NotebookNode:
    from myst_nb.core.read import read_myst_markdown_notebook

    return read_myst_markdown_notebook((ROOT / "book" / f"{name}.md").read_text(encoding="utf-8"))


def trains_or_samples(name: str) -> bool:
    path = ROOT / "book" / f"{name}.md"
    if not path.is_file() or "```{code-cell}" not in path.read_text(encoding="utf-8"):
        return False
    return any(SEEDED.search(c.source) for c in read_chapter(name).cells if c.cell_type == "code")


def is_check(cell) -> bool:
    return "remove-cell" in cell.metadata.get("tags", []) and re.search(r"^\s*assert\b", cell.source, re.M) is not None


def code_cell_lines(name: str) -> list[int]:
    """Line number of each code cell's fence in the chapter, in order."""
    text = (ROOT / "book" / f"{name}.md").read_text(encoding="utf-8")
    return [i + 1 for i, line in enumerate(text.splitlines()) if line.lstrip().startswith("```{code-cell}")]


def check_label(cell, line: int | str) -> str:
    """The check's first comment line and its line in the chapter."""
    for text in (raw.strip() for raw in cell.source.splitlines()):
        if text.startswith("#") and len(text) > 2:
            return f"line {line}: {text.lstrip('# ')[:60]}"
    return f"line {line}: check"


def build_env() -> dict[str, str]:
    """The environment the book build gives chapters (defined once, in the book's extension)."""
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    from heicadlearn_book.execution import chapter_environment

    return chapter_environment()


def execute(name: str, run: Run, timeout: int) -> Result:
    from nbclient import NotebookClient

    nb = read_chapter(name)
    lines = iter(code_cell_lines(name))
    saved = {k: os.environ.get(k) for k in run.env}
    os.environ.update(run.env)
    started = time.monotonic()
    try:
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            allow_errors=True,
            resources={"metadata": {"path": str(ROOT / "book")}},
        )
        client.execute()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    result = Result(seconds=time.monotonic() - started)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        line = next(lines, "?")
        failures = [o for o in cell.outputs if o.output_type == "error"]
        message = "; ".join(f"{o.ename}: {o.evalue}"[:160] for o in failures)
        if is_check(cell):
            result.checks[check_label(cell, line)] = "FAIL " + message if failures else "pass"
        elif failures and "raises-exception" not in cell.metadata.get("tags", []):
            result.errors.append(f"cell at line {line}: {message}")
        for out in cell.outputs:
            data = out.get("data", {})
            if GLUE_MIME in data:
                key = out.get("metadata", {}).get("scrapbook", {}).get("name", "?")
                result.values[key] = str(data[GLUE_MIME]).strip("'")[:40]
    return result


def table(name: str, runs: list[Run], results: dict[str, Result]) -> tuple[str, bool]:
    ok = True
    labels = [r.label for r in runs]
    lines = [f"\n### {name}\n", "| | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
    checks = list(dict.fromkeys(k for r in runs for k in results[r.label].checks))
    for check in checks:
        cells = []
        for r in runs:
            status = results[r.label].checks.get(check, "not run")
            ok &= status == "pass"
            cells.append(status.replace("|", "/"))
        lines.append(f"| {check} | " + " | ".join(cells) + " |")
    for r in runs:
        if results[r.label].errors:
            ok = False
            lines.append(f"| errors ({r.label}) | " + "; ".join(results[r.label].errors)[:300] + " |")
    keys = list(dict.fromkeys(k for r in runs for k in results[r.label].values))
    for key in keys:
        lines.append(f"| `{key}` | " + " | ".join(results[r.label].values.get(key, "-") for r in runs) + " |")
    lines.append("| seconds | " + " | ".join(f"{results[r.label].seconds:.0f}" for r in runs) + " |")
    return "\n".join(lines), ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default=os.environ.get("SEEDS", "1 2 3"), help='e.g. "1 2 3" (default: $SEEDS)')
    parser.add_argument(
        "--chapters", default="", help="chapter file names; default: every chapter that trains or samples"
    )
    parser.add_argument("--single-thread", dest="single", action="store_true", default=True)
    parser.add_argument("--no-single-thread", dest="single", action="store_false")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    args = parser.parse_args(argv)

    chapters = args.chapters.split() or [c for c in toc_chapters() if trains_or_samples(c)]
    unknown = [c for c in chapters if not (ROOT / "book" / f"{c}.md").is_file()]
    if unknown:
        print(f"No chapter book/<name>.md for: {', '.join(unknown)}", file=sys.stderr)
        return 2
    base = build_env()
    runs = [Run(f"seed {s}", {**base, "HEICADLEARN_SEED": s}) for s in args.seeds.split()]
    if args.single:
        runs.append(Run("seed 0, 1 thread", {**base, "HEICADLEARN_SEED": "0", "OMP_NUM_THREADS": "1"}))
    print(f"Robustness: {len(chapters)} chapters x {len(runs)} runs ({', '.join(r.label for r in runs)})", flush=True)
    started = time.monotonic()
    all_ok = True
    report = []
    for name in chapters:
        results = {}
        for run in runs:
            results[run.label] = execute(name, run, args.timeout)
            res = results[run.label]
            passed = sum(v == "pass" for v in res.checks.values())
            errors = f", {len(res.errors)} errors" if res.errors else ""
            print(
                f"  {name:24s} {run.label:18s} {res.seconds:6.0f} s  {passed}/{len(res.checks)} checks pass{errors}",
                flush=True,
            )
        text, ok = table(name, runs, results)
        all_ok &= ok
        report.append(text)
    print("\n".join(report))
    minutes = (time.monotonic() - started) / 60
    print(f"\n{'All checks passed' if all_ok else 'SOME CHECKS FAILED'} in {minutes:.1f} min.")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
