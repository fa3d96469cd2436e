"""Logger, Tracer and Metrics of Powertools, built once per container and shared by a service's modules.

Data flow: the first `logger()` / `tracer()` / `metrics()` call builds the object from the
environment Powertools reads itself (`POWERTOOLS_SERVICE_NAME`, `LOG_LEVEL`,
`POWERTOOLS_METRICS_NAMESPACE`, `POWERTOOLS_TRACE_DISABLED`); later calls return the same one.
`count(name)` records and writes one Count metric.
Cost to keep in view: `tracer()` imports the X-Ray SDK (~0.18 s of the ~0.38 s notes-api import
measured here; DESIGN.md measured ~0.4 s for `Tracer()`).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics, Tracer

DEFAULT_SERVICE = "service_undefined"


def service_name() -> str:
    """The service these handlers belong to (`POWERTOOLS_SERVICE_NAME`)."""
    return os.environ.get("POWERTOOLS_SERVICE_NAME", DEFAULT_SERVICE)


@functools.cache
def logger() -> Logger:
    """The service's structured JSON logger; level from `LOG_LEVEL` (default INFO)."""
    return build_logger(service_name(), level=os.environ.get("LOG_LEVEL", "INFO"))


@functools.cache
def tracer() -> Tracer:
    """The service's X-Ray tracer; Powertools disables it outside Lambda or with POWERTOOLS_TRACE_DISABLED."""
    from aws_lambda_powertools import Tracer

    return Tracer(service=service_name())


def annotate_caller(event: Mapping[str, Any]) -> None:
    """Annotate the trace with the caller's Cognito identity id (never the token or the keys), so
    `identity_id = "…"` finds one user's requests; nothing for an anonymous caller."""
    from libs.auth import caller_id

    identity_id = caller_id(event)
    if identity_id:
        tracer().put_annotation(key="identity_id", value=identity_id)


@functools.cache
def metrics() -> Metrics:
    """The service's CloudWatch EMF metrics, in namespace `POWERTOOLS_METRICS_NAMESPACE`."""
    return build_metrics(service_name(), namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE"))


def build_logger(service: str, *, level: str = "INFO") -> Logger:
    """A new Powertools Logger (use `logger()` in handlers; this is for explicit wiring and tests)."""
    from aws_lambda_powertools import Logger

    return Logger(service=service, level=level)


def build_metrics(service: str, *, namespace: str | None) -> Metrics:
    """A new Powertools Metrics (use `metrics()` in handlers; this is for explicit wiring and tests)."""
    from aws_lambda_powertools import Metrics

    return Metrics(service=service, namespace=namespace)


def count(name: str, value: float = 1, *, recorder: Metrics | None = None) -> None:
    """Record one business event as a Count metric and write it (one EMF log line) right away.

    Flushing per event instead of wrapping the handler in `log_metrics` keeps invocations that
    record nothing (most API reads) free of Powertools' "no metrics" warning. A metric that cannot
    be written (e.g. no namespace configured) is logged as a warning and never fails the request
    whose work is already done.
    """
    from aws_lambda_powertools.metrics import MetricUnit

    target = recorder or metrics()
    try:
        target.add_metric(name=name, unit=MetricUnit.Count, value=value)
        target.flush_metrics()
    except Exception as exc:  # telemetry must not turn a completed write into a 500
        target.clear_metrics()
        logger().warning(
            "metric not recorded", extra={"metric": name, "error": f"{type(exc).__name__}: {exc}"}
        )
