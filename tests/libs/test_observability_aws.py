"""libs.observability and libs.aws: objects built once per container, from the environment."""

from __future__ import annotations

import json

from libs import aws, observability


def test_logger_tracer_metrics_are_built_once_with_the_service_name(monkeypatch):
    # GIVEN a function's environment
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "billing-api")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "notes")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    for factory in (observability.logger, observability.tracer, observability.metrics):
        factory.cache_clear()
    try:
        # WHEN each is asked for twice THEN the same object comes back, named after the service
        assert observability.logger() is observability.logger()
        assert observability.tracer() is observability.tracer()
        assert observability.metrics() is observability.metrics()
        assert observability.logger().service == "billing-api"
        assert observability.service_name() == "billing-api"
    finally:
        for factory in (observability.logger, observability.tracer, observability.metrics):
            factory.cache_clear()


def test_count_writes_one_emf_metric_line(monkeypatch, capsys):
    # GIVEN metrics for a service WHEN one event is counted
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "notes-api")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "notes")
    observability.metrics.cache_clear()
    try:
        observability.count("NotesCreated")
    finally:
        observability.metrics.cache_clear()
    # THEN one EMF document with that metric in the namespace is printed
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["NotesCreated"] == [1.0]
    assert line["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "notes"


def test_clients_are_cached_per_service_and_honour_the_endpoint(monkeypatch):
    # GIVEN a local endpoint (as the local runtime sets it)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    aws.reset()
    try:
        # WHEN clients are asked for THEN one per service, pointed at the endpoint; S3 URLs are path-style
        assert aws.client("dynamodb") is aws.client("dynamodb")
        assert aws.client("dynamodb").meta.endpoint_url == "http://127.0.0.1:4566"
        url = aws.client("s3").generate_presigned_url(
            "get_object", Params={"Bucket": "b", "Key": "k"}, ExpiresIn=60
        )
        assert url.startswith("http://127.0.0.1:4566/b/k?")
    finally:
        aws.reset()
