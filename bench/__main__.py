"""`make bench`: run every benchmark and write docs/benchmarks.md (medians, with the machine and the date).

Usage:  python -m bench [--quick]     (--quick: fewer rounds, for a smoke run)
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds = 1 if args.quick else 5  # start times swing with disk fsync latency: 5 rounds, median
    figures: dict[str, float] = {}
    for name, run in _suites(rounds):
        print(f"bench: {name} …", file=sys.stderr, flush=True)
        result = run()
        print(json.dumps(result, indent=1), file=sys.stderr)
        figures.update(result)
    write_report(figures)


def _suites(rounds: int):
    from bench import billing_bench, pipeline_bench

    handlers = {
        "notes-api": (REPO / "services/notes-api", "notes_api.api"),
        "billing-api": (REPO / "services/billing-api", "billing_api.api"),
        "notify-job": (REPO / "services/notify-job", "notify_job.handler"),
    }
    return [
        ("dev start", lambda: dev_bench.start_times(rounds)),
        ("serving", dev_bench.serving),
        ("cold init", lambda: dev_bench.cold_init(handlers)),
        ("billing", billing_bench.run),
        ("pipeline", pipeline_bench.run),
    ]


def write_report(figures: dict[str, float]) -> None:
    from bench.report import render

    today = datetime.date.today().isoformat()
    RAW.write_text(json.dumps({"date": today, "machine": machine(), "figures": figures}, indent=2) + "\n")
    RESULTS.write_text(render(figures, date=today, machine=machine()))
    print(f"wrote {RESULTS.relative_to(REPO)}", file=sys.stderr)


if __name__ == "__main__":
    main()
