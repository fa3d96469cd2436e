"""Billing figures: `POST /billing` end to end (local Stripe, SNS publish), and billing response → SMS listed."""

from __future__ import annotations

import time
from pathlib import Path

from stagewise.testing import Client, DevProcess, free_port, median_ms, project_copy

REPO = Path(__file__).resolve().parents[1]


def run(requests: int = 40) -> dict[str, float]:
    from bench.dev_bench import _wait_authenticated_200
    from stagewise.cloud import sent_sms
    from stagewise.localstage import connect

    with project_copy(REPO):
        dev = DevProcess(port=free_port(), cloud_port=free_port())
        try:
            _, creds = _wait_authenticated_200(dev, None, dev.start())
            local = connect("local")
            client = Client(dev.port, credentials=creds)  # signed, as the app's clients call it
            client.call("POST", "/billing", {"storage": 10, "source": "tok_visa"})  # cold start, not measured
            _wait_for_sms(sent_sms, local, 1)
            billing, sms = [], []
            for i in range(requests):
                t0 = time.perf_counter()
                status, body = client.call("POST", "/billing", {"storage": 10, "source": "tok_visa"})
                answered = time.perf_counter()
                if status != 200:
                    raise RuntimeError(f"POST /billing answered {status}: {body}")
                billing.append(answered - t0)
                _wait_for_sms(sent_sms, local, i + 2)
                sms.append(time.perf_counter() - answered)
            return {"billing_p50_ms": median_ms(billing), "sms_after_billing_p50_ms": median_ms(sms)}
        finally:
            dev.stop()


def _wait_for_sms(sent_sms, local, count: int, limit: float = 20) -> None:
    deadline = time.perf_counter() + limit
    while len(sent_sms(local.endpoint, account_id=local.account_id)) < count:
        if time.perf_counter() > deadline:
            raise RuntimeError(f"fewer than {count} SMS after {limit} s")
        time.sleep(0.002)
