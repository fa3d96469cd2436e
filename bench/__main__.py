"""`make bench`: run every benchmark and write docs/benchmarks.md (medians, with the machine and the date).

Usage:  python -m bench [--quick] [--only NAME ...]
        (--quick: fewer rounds, for a smoke run; --only: run these suites, e.g. "hello app", print their
        figures and leave docs/benchmarks.md alone)
"""

from __future__ import annotations

import argparse
import compileall
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

from bench import dev_bench

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "docs" / "benchmarks.md"
RAW = REPO / "docs" / "benchmarks.json"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem_gib:.0f} GiB, Python {platform.python_version()}, {platform.system()}"


def compile_sources(*roots: Path) -> None:
    """Write the bytecode caches Python would write on a first run (PYTHONDONTWRITEBYTECODE=1, set on
    this machine, stops it), so start-up figures are those of a second run, not of compiling."""
    for root in roots:
        compileall.compile_dir(root, quiet=1, workers=1)


def cpu_reference_s(rounds: int = 3) -> float:
    """Seconds for a fixed pure-Python loop: how fast this shared machine was while it measured."""
    samples = []
    for _ in range(rounds):
        began = time.perf_counter()
        sum(i * i for i in range(10**7))
        samples.append(time.perf_counter() - began)
    return round(sorted(samples)[rounds // 2], 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="suites to run (names as printed)")
    args = parser.parse_args()
    rounds = 1 if args.quick else 5  # start times swing with this machine's load: 5 rounds, median
    compile_sources(*(REPO / name for name in ("stagewise", "libs", "services", "infra")))
    figures: dict[str, float | str] = {"cpu_reference_s": cpu_reference_s()}
    suites = _suites(rounds)
    unknown = set(args.only or ()) - {name for name, _ in suites}
    if unknown:
        parser.error(f"no suite named {', '.join(sorted(unknown))}; pick from: {', '.join(n for n, _ in suites)}")
    for name, run in suites:
        if args.only and name not in args.only:
            continue
        print(f"bench: {name} …", file=sys.stderr, flush=True)
        result = run()
        print(json.dumps(result, indent=1), file=sys.stderr)
        figures.update(result)
    if not args.only:
        write_report(figures)


def _suites(rounds: int):
    from bench import (
        auth_bench,
        billing_bench,
        cli_bench,
        cloud_bench,
        hello_bench,
        pipeline_bench,
        tracing_bench,
    )

    handlers = {
        "notes-api": (REPO / "services/notes-api", "notes_api.api"),
        "billing-api": (REPO / "services/billing-api", "billing_api.api"),
        "notify-job": (REPO / "services/notify-job", "notify_job.handler"),
    }
    return [
        ("dev start", lambda: dev_bench.start_times(rounds)),
        ("serving", dev_bench.serving),
        ("cold init", lambda: dev_bench.cold_init(handlers)),
        ("hello app", hello_bench.run),
        ("cloud request", cloud_bench.run),
        ("cloud over HTTP", cloud_bench.over_http),
        ("billing", billing_bench.run),
        ("IAM check", auth_bench.run),
        ("pipeline", pipeline_bench.run),
        ("CLI start-up", cli_bench.run),
        ("tracing", tracing_bench.run),
    ]


def write_report(figures: dict[str, float | str]) -> None:
    from bench.report import render

    today = datetime.date.today().isoformat()
    RAW.write_text(json.dumps({"date": today, "machine": machine(), "figures": figures}, indent=2) + "\n")
    RESULTS.write_text(render(figures, date=today, machine=machine()))
    print(f"wrote {RESULTS.relative_to(REPO)}", file=sys.stderr)


if __name__ == "__main__":
    main()
