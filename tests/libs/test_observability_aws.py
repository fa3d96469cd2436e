"""libs.observability and libs.aws: objects built once per container, from the environment."""

from __future__ import annotations

import json
import logging

from libs import aws, observability

SERVICE = "libs-observability-test"


def test_logger_tracer_metrics_are_built_once():
    # GIVEN a container WHEN each object is asked for twice THEN the same one comes back
    assert observability.logger() is observability.logger()
    assert observability.tracer() is observability.tracer()
    assert observability.metrics() is observability.metrics()


def test_service_name_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "billing-api")
    assert observability.service_name() == "billing-api"
    monkeypatch.delenv("POWERTOOLS_SERVICE_NAME")
    assert observability.service_name() == observability.DEFAULT_SERVICE


def test_built_logger_writes_structured_json_with_the_service(capsys):
    # GIVEN a logger for a service WHEN it logs with extra keys
    log = observability.build_logger(SERVICE, level="INFO")
    log.info("hello", extra={"noteId": "n1"})
    # THEN one JSON line carries the service, level, message and the extra key
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (line["service"], line["level"], line["message"], line["noteId"]) == (
        SERVICE,
        "INFO",
        "hello",
        "n1",
    )
    assert logging.getLogger(SERVICE).level == logging.INFO


def test_count_writes_one_emf_metric_line(capsys):
    # GIVEN metrics for a service in a namespace WHEN one event is counted
    observability.count("NotesCreated", recorder=observability.build_metrics(SERVICE, namespace="notes"))
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


def test_count_without_a_namespace_warns_instead_of_failing():
    # GIVEN metrics with no namespace configured, and a handler on the service logger itself
    # (Powertools' logger does not propagate to the root, so caplog would depend on test order)
    records: list[logging.LogRecord] = []
    handler = logging.Handler(level=logging.WARNING)
    handler.emit = records.append
    service_logger = logging.getLogger(observability.logger().name)
    service_logger.addHandler(handler)
    try:
        # WHEN an event is counted
        observability.count("NotesCreated", recorder=observability.build_metrics(SERVICE, namespace=None))
    finally:
        service_logger.removeHandler(handler)
    # THEN nothing is raised and the service logger warns, naming the metric
    warnings = [record for record in records if record.getMessage() == "metric not recorded"]
    assert warnings and warnings[-1].metric == "NotesCreated"
