"""bench/dev_bench.py's cold-init suite drives the runtime's own Worker and Template directly, so a change
to their signatures breaks `make bench` but no other test: run it here, one round, on one function."""

from __future__ import annotations

from bench.dev_bench import REPO, cold_init


def test_the_cold_init_suite_runs_and_reports_each_function():
    figures = cold_init({"notify-job": (REPO / "services/notify-job", "notify_job.handler")}, rounds=1)
    assert 0 < figures["cold_init_ms[notify-job]"] < 10_000
    assert 0 < figures["cold_import_ms[notify-job]"] < 10_000
