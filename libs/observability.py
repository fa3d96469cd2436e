"""Logger, Tracer and Metrics of Powertools, built once per container and shared by a service's modules.

Data flow: the first `logger()` / `tracer()` / `metrics()` call builds the object from the
environment Powertools reads itself (`POWERTOOLS_SERVICE_NAME`, `LOG_LEVEL`,
`POWERTOOLS_METRICS_NAMESPACE`, `POWERTOOLS_TRACE_DISABLED`); later calls return the same one.
`count(name)` records and writes one Count metric.
Cost to keep in view: `tracer()` imports the X-Ray SDK (about 0.4 s of a cold start).
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics, Tracer

DEFAULT_SERVICE = "service_undefined"


def service_name() -> str:
    """The service these handlers belong to (`POWERTOOLS_SERVICE_NAME`)."""
    return os.environ.get("POWERTOOLS_SERVICE_NAME", DEFAULT_SERVICE)


@functools.cache
def logger() -> Logger:
    """Structured JSON logger; level from `LOG_LEVEL` (default INFO)."""
    from aws_lambda_powertools import Logger

    return Logger(service=service_name(), level=os.environ.get("LOG_LEVEL", "INFO"))


@functools.cache
def tracer() -> Tracer:
    """X-Ray tracer; disabled by Powertools itself outside Lambda or with POWERTOOLS_TRACE_DISABLED."""
    from aws_lambda_powertools import Tracer

    return Tracer(service=service_name())


@functools.cache
def metrics() -> Metrics:
    """CloudWatch EMF metrics in namespace `POWERTOOLS_METRICS_NAMESPACE`."""
    from aws_lambda_powertools import Metrics

    return Metrics(service=service_name())


def count(name: str, value: float = 1) -> None:
    """Record one business event as a Count metric and write it (one EMF log line) right away.

    Flushing per event instead of wrapping the handler in `log_metrics` keeps invocations that
    record nothing (most API reads) free of Powertools' "no metrics" warning.
    """
    from aws_lambda_powertools.metrics import MetricUnit

    recorder = metrics()
    recorder.add_metric(name=name, unit=MetricUnit.Count, value=value)
    recorder.flush_metrics()
