"""Turn the measured figures into docs/benchmarks.md: each figure beside its target from the issues."""

from __future__ import annotations

# key -> (what, unit, target or None, the issue that names it)
ROWS: list[tuple[str, str, str, str | None]] = [
    ("cpu_reference_s", "CPU reference: a fixed pure-Python loop (10⁷ squares); higher = machine busier", "s", None),
    ("start_provisioned_s", "`stagewise dev` start → first authenticated 200, stage already provisioned", "s", "≤ 1.5"),
    ("start_provisioned_cloud_running_s", "the same, local cloud left running (`dev --keep-cloud`)", "s", None),
    ("start_provisioned_range_s", "the same, fastest–slowest of the rounds", "s", None),
    ("start_fresh_s", "`stagewise dev` start → first authenticated 200, fresh local cloud", "s", "≤ 3"),
    ("start_fresh_range_s", "the same, fastest–slowest of the rounds", "s", None),
    ("get_note_p50_ms", "warm `GET /notes/{id}`, keep-alive, p50", "ms", "≤ 10"),
    ("get_note_p99_ms", "warm `GET /notes/{id}`, keep-alive, p99", "ms", "≤ 40"),
    ("loaded_get_p50_ms", "the same while 200 keep-alive connections stay open and 20 slow clients trickle their "
     "heads, p50", "ms", None),
    ("loaded_get_p99_ms", "the same, p99 (issue 10: within twice the unloaded p99 above)", "ms", None),
    ("loaded_unanswered", "of those 200 connections, ones left without an answer", "", "0"),
    ("throughput_rps_8", "8 concurrent keep-alive clients for 10 s (bench/load.py since issue 13 session 6: one "
     "process, one signature sent as is): requests/s", "req/s", None),
    ("throughput_p99_ms_8", "8 concurrent keep-alive clients for 10 s: p99", "ms", None),
    ("throughput_errors", "8 concurrent clients: non-200 answers", "", "0"),
    ("rss_under_load_mb", "RSS of the whole `dev` tree under that load", "MB", None),
    ("idle_cpu_pct", "CPU of the whole `dev` tree at rest for 10 s, every function warm (session 11: 5.35 % "
     "while SNS delivery short-polled)", "% of a core", None),
    ("hot_reload_ms", "hot reload: file saved → new code answering", "ms", "≤ 1000"),
    ("iam_check_p50_us", "AWS_IAM check of a signed request (SigV4 + identity + policies), in-process, p50", "µs",
     "≤ 500"),
    ("iam_check_p99_us", "the same, p99", "µs", None),
    ("cloud_sigv4_p50_us", "the local cloud's SigV4 check of one SDK call (DynamoDB GetItem), in-process, p50", "µs",
     "≤ 300"),
    ("cloud_sigv4_p99_us", "the same, p99", "µs", None),
    ("billing_p50_ms", "`POST /billing` end to end, p50", "ms", "≤ 30"),
    ("sms_after_billing_p50_ms", "billing response → SMS listed, p50", "ms", "≤ 200"),
    ("deploy_full_s", "full deploy of all stacks to an empty local cloud (through its CloudFormation API)", "s", "≤ 3"),
    ("deploy_noop_s", "no-op deploy", "s", "≤ 0.3"),
    ("deploy_noop_writes", "no-op deploy: write calls", "", "0"),
    ("deploy_one_service_s", "one-service change deploy (median of 3)", "s", "≤ 0.5"),
    ("deploy_one_service_first_s", "the same, the first of the 3 (until issue 13 session 6, the only one)", "s", "report"),
    ("build_warm_s", "build of all artifacts, warm wheel cache", "s", "≤ 3"),
    # issue 13 item 5: the CLI's own start-up
    ("cli_help_s", "`stagewise --help`, spawn → exit", "s", "≤ 0.2"),
    ("cli_token_s", "`stagewise token EMAIL` for a user signed in before, spawn → exit", "s", "≤ 0.4"),
    # tracing (issue 12; bench/tracing_bench.py)
    ("traced_get_p50_ms", "warm `GET /notes/{id}` under `dev` (tracing on), p50", "ms", None),
    ("untraced_get_p50_ms", "the same under `dev --no-tracing`, same run, p50", "ms", None),
    ("tracing_cost_p50_ms", "tracing on − off, warm request p50", "ms", "≤ 2"),
    ("daemon_segments_sent", "local X-Ray daemon at 500 requests/s for 5 s: segment documents sent", "", None),
    ("daemon_segments_stored", "… of which stored", "", None),
    ("daemon_segments_dropped", "… dropped", "", "0"),
    ("cold_init_traced_ms[billing-api]", "billing-api handler import, Powertools Tracer on (cold init)", "ms", None),
    ("cold_init_untraced_ms[billing-api]", "the same, tracer disabled", "ms", None),
    ("cold_init_traced_ms[notes-api]", "notes-api handler import, Powertools Tracer on (cold init)", "ms", None),
    ("cold_init_untraced_ms[notes-api]", "the same, tracer disabled", "ms", None),
]

# Issue 13 (workers forked from a warm template, the event-loop gateway, a second app): its targets,
# some on rows above with the tighter target this issue sets.
ROWS_13: list[tuple[str, str, str, str | None]] = [
    ("hello_rps_8", "bench/hello, no-AWS route (`GET /hello`), 8 keep-alive connections: requests/s", "req/s",
     "≥ 5,500"),
    ("hello_p99_ms_8", "the same, p99 under that load", "ms", "≤ 5"),
    ("hello_p50_ms", "bench/hello, `GET /items/{id}`, one keep-alive connection, p50", "ms", None),
    ("hello_p99_ms", "the same, p99", "ms", None),
    ("hello_start_s", "bench/hello: `stagewise dev` start → first 200, fresh local cloud", "s", None),
    ("hello_pss_mb", "bench/hello: PSS of the whole `dev` tree after that load", "MB", None),
    ("pss_under_load_mb", "notes app: PSS of the whole `dev` tree, every function warm (one purchase: "
     "notify-job too), the local Stripe running, 8-client load", "MB", "≤ 400"),
    ("pss_under_load_mb[worker]", "of which: the workers (forked from the template)", "MB", None),
    ("workers_under_load", "the number of those workers", "", None),
    ("pss_under_load_mb[cloud]", "of which: the local cloud", "MB", None),
    ("pss_under_load_mb[dev]", "of which: the `dev` process (gateway, runtime)", "MB", None),
    ("pss_under_load_mb[template]", "of which: the worker template", "MB", None),
    ("pss_under_load_mb[other]", "of which: the local Stripe stand-in (and any other child)", "MB", None),
    ("pss_under_load_mb[xray-daemon]", "of which: the local X-Ray daemon", "MB", None),
    ("cold_init_ms[notes-api]", "Init Duration of notes-api, forked from the worker template", "ms", "≤ 150"),
    ("cold_init_ms[billing-api]", "Init Duration of billing-api, forked from the worker template", "ms", "≤ 150"),
    ("cold_init_ms[notify-job]", "Init Duration of notify-job, forked from the worker template", "ms", "≤ 150"),
    ("cold_import_ms[notes-api]", "for comparison: importing notes-api in a fresh interpreter", "ms", None),
    ("cold_import_ms[billing-api]", "the same, billing-api", "ms", None),
    ("cold_import_ms[notify-job]", "the same, notify-job", "ms", None),
    ("cloud_getitem_cpu_us", "CPU of one DynamoDB GetItem answered in-process by the local cloud (guard, moto, "
     "client signing and parsing)", "µs", None),
    ("cloud_getitem_http_cpu_us[1]", "CPU of the local cloud's process per GetItem over HTTP, one keep-alive "
     "client (cheroot, before issue 13 session 6: 830–890 µs)", "µs", None),
    ("cloud_getitem_http_cpu_us[4]", "the same, 4 keep-alive clients (cheroot: 800–820 µs)", "µs", None),
    ("sdk_getitem_client_cpu_us[urllib3]", "CPU of the calling boto3 client per GetItem over HTTP, through "
     "botocore's own urllib3 session", "µs", None),
    ("sdk_getitem_client_cpu_us[direct]", "the same, through the session a worker's clients use "
     "(runtime/sdk_http.py: a pooled socket, llhttp)", "µs", None),
]
# Rows above whose target issue 13 tightens: shown again in its block, with that target.
TIGHTENED_13 = {"cli_help_s": "≤ 0.2", "cli_token_s": "≤ 0.4",
                "hot_reload_ms": "≤ 150", "get_note_p50_ms": "≤ 3", "get_note_p99_ms": "≤ 8",
                "throughput_rps_8": "≥ 1,000", "throughput_p99_ms_8": "≤ 15", "start_provisioned_s": "≤ 1.2",
                "start_fresh_s": "≤ 2.5"}


# "Before": the figures issue 13 was filed with (make bench and a side-by-side run, 2026-12-01, CPU
# reference 0.48 s), as its text gives them; no entry where it gave none.
BEFORE_13 = {
    "hello_rps_8": "2,577 req/s (the two routes inside the notes app's dev)",
    "hello_p50_ms": "0.44 ms (the same)",
    "hello_p99_ms": "1.34 ms (the same)",
    "hello_start_s": "0.82 s (the same)",
    "pss_under_load_mb": "~840 MB",
    "cold_init_ms[notes-api]": "250–430 ms (every function)",
    "cold_init_ms[billing-api]": "250–430 ms",
    "cold_init_ms[notify-job]": "250–430 ms",
    "hot_reload_ms": "566 ms",
    "throughput_rps_8": "189–349 req/s",
    "throughput_p99_ms_8": "58–82 ms",
    "cli_help_s": "0.36 s",
    "cli_token_s": "1.1–1.3 s",
}


def _rows_13() -> list[tuple[str, str, str, str | None]]:
    by_key = {row[0]: row for row in ROWS}
    return ROWS_13 + [(key, by_key[key][1], by_key[key][2], target) for key, target in TIGHTENED_13.items()]

def _table(rows: list[tuple[str, str, str, str | None]], figures: dict[str, float | str],
           before: dict[str, str] | None = None) -> list[str]:
    lines = ["| what | before | measured | target |", "|---|---|---|---|"] if before is not None else [
        "| what | measured | target |", "|---|---|---|"]
    for key, what, unit, target in rows:
        if key in figures:
            cells = [what, f"{figures[key]} {unit}", f"{target} {unit}" if target else "report"]
            if before is not None:
                cells.insert(1, before.get(key, "—"))
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def render(figures: dict[str, float | str], *, date: str, machine: str) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Measured by `make bench` on {date}, on {machine}. Medians unless a row says otherwise.",
        "Every figure comes from a real `stagewise dev` (or pipeline run) on loopback, on free ports.",
        "",
        *_table(ROWS, figures),
        "",
        "## Issue 13: workers forked from a warm template, the event-loop gateway, a second app",
        "",
        "Before: what the issue was filed with (its text; CPU reference 0.48 s that day).",
        "",
        *_table(_rows_13(), figures, before=BEFORE_13),
    ]
    extra = sorted(k for k in figures if k not in {row[0] for row in ROWS + ROWS_13})
    if extra:
        lines += ["", "| also measured | value |", "|---|---|"]
        lines += [f"| {key} | {figures[key]} |" for key in extra]
    return "\n".join(lines) + "\n"
