"""Lighthouse scores of every page, with Lighthouse's mobile emulation (a benchmark, not a test).

Serves the built site on 127.0.0.1, text gzip-compressed as GitHub Pages sends it, and runs the pinned
``lighthouse`` from node_modules with the Debian Chromium, one page at a time: mobile
screen, simulated slow 4G and a 4x slower CPU (Lighthouse's defaults). Prints
performance, accessibility and best-practices scores with the metrics behind
performance, and keeps each page's JSON report under ``_build/lighthouse/``.
Goals (issue #14): accessibility 100 and performance at least 90 on every page.
Performance depends on how busy the machine is: ``--runs 3`` reports each page's median run.

    python scripts/lighthouse.py [--site _build/html] [--runs 1]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from urllib.parse import urljoin

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.weigh import FLAGS, ROOT, SITE, chromium_path, serve, toc_pages  # noqa: E402

LIGHTHOUSE = ROOT / "node_modules" / "lighthouse" / "cli" / "index.js"
REPORTS = ROOT / "_build" / "lighthouse"
CATEGORIES = ("performance", "accessibility", "best-practices")
GOALS = {"performance": 90, "accessibility": 100}
METRICS = {
    "first-contentful-paint": "FCP s",
    "largest-contentful-paint": "LCP s",
    "total-blocking-time": "TBT ms",
    "cumulative-layout-shift": "CLS",
}


def run_lighthouse(url: str, report: Path, throttling: str = "simulate") -> dict:
    """One Lighthouse run; returns the parsed JSON report."""
    cmd = [
        "node",
        str(LIGHTHOUSE),
        url,
        f"--chrome-path={chromium_path()}",
        "--chrome-flags=" + " ".join(f for f in FLAGS if f != "--headless") + " --headless=new",
        "--only-categories=" + ",".join(CATEGORIES),
        "--form-factor=mobile",
        f"--throttling-method={throttling}",
        "--output=json",
        f"--output-path={report}",
        "--quiet",
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if result.returncode != 0 or not report.is_file():
        raise RuntimeError(f"lighthouse failed on {url}:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return json.loads(report.read_text(encoding="utf-8"))


def scores(lhr: dict) -> dict:
    out = {c: round(100 * (lhr["categories"][c]["score"] or 0)) for c in CATEGORIES}
    for audit, label in METRICS.items():
        value = lhr["audits"][audit]["numericValue"]
        out[label] = value / 1000 if label.endswith(" s") else value
    out["failed"] = sorted(
        a["id"]
        for c in ("accessibility", "best-practices")
        for ref in lhr["categories"][c]["auditRefs"]
        if ref["weight"] > 0 and (a := lhr["audits"][ref["id"]])["score"] is not None and a["score"] < 1
    )
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=SITE)
    parser.add_argument("--runs", type=int, default=1, help="runs per page; the run with the median performance counts")
    parser.add_argument("--pages", nargs="*", help="only these pages (paths relative to the site root)")
    parser.add_argument(
        "--throttling",
        choices=("simulate", "devtools"),
        default="simulate",
        help="Lighthouse's default 'simulate' estimates slow 4G and a 4x slower CPU from an unthrottled load; "
        "'devtools' really throttles the browser (slower, less sensitive to a busy machine's timing)",
    )
    args = parser.parse_args(argv)
    if not (args.site / "index.html").is_file():
        print(f"No site at {args.site}: run `make book` first.", file=sys.stderr)
        return 2
    if not LIGHTHOUSE.is_file():
        print("lighthouse is missing: run `npm ci` (make book does).", file=sys.stderr)
        return 2
    REPORTS.mkdir(parents=True, exist_ok=True)
    rows = []
    with serve(args.site, compress=True) as base:
        for page in args.pages or toc_pages():
            runs = []
            for i in range(args.runs):
                report = REPORTS / f"{page.replace('/', '_').removesuffix('.html')}-{i}.json"
                runs.append(scores(run_lighthouse(urljoin(base, page), report, args.throttling)))
            runs.sort(key=lambda r: r["performance"])
            rows.append((page, runs[len(runs) // 2], [r["performance"] for r in runs]))
            print(f"{page}: {rows[-1][1]['performance']}", file=sys.stderr, flush=True)
    header = (
        "| page | performance | accessibility | best practices | " + " | ".join(METRICS.values()) + " | not passed |"
    )
    print(header)
    print("|---" * (4 + len(METRICS)) + "|---|")
    for page, r, perfs in rows:
        perf = f"{r['performance']}" + (f" (runs {', '.join(map(str, perfs))})" if len(perfs) > 1 else "")
        metrics = " | ".join(
            f"{r[label]:.2f}"
            if label in ("FCP s", "LCP s")
            else f"{r[label]:.3f}"
            if label == "CLS"
            else f"{r[label]:.0f}"
            for label in METRICS.values()
        )
        print(
            f"| {page} | {perf} | {r['accessibility']} | {r['best-practices']} | {metrics} | "
            f"{', '.join(r['failed']) or '-'} |"
        )
    below = [f"{page}: {c} {r[c]} < {goal}" for page, r, _ in rows for c, goal in GOALS.items() if r[c] < goal]
    print()
    print(
        "Goals: accessibility 100, performance >= 90 on every page "
        f"(Lighthouse mobile emulation, throttling: {args.throttling})."
    )
    median = statistics.median(r["performance"] for _, r, _ in rows)
    print(f"median performance {median:.0f}; " + ("all goals met." if not below else "below goal: " + "; ".join(below)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
