"""SNS → Lambda delivery in the local runtime: asynchronous, retried twice, then dead-lettered.

Data flow: the provisioner turns each `lambda` subscription into a delivery queue subscribed to
the topic with protocol sqs (moto would otherwise run the function through Docker inside
Publish), so a Publish returns at once and the message waits, durably, in the local cloud.
Per subscription a `Subscriber` thread long-polls its queue, as Lambda's pollers do
(WaitTimeSeconds=20: the local cloud answers as soon as a message arrives, and an idle `dev` makes
one request per subscription every 20 s, not ten a second), turns each SNS envelope into Lambda's
SNS event (`sns_event`) and invokes the function through the runtime's warm workers on an executor
thread:

    ok                               → delete the message
    error / timeout, attempts left   → send it again with `stagewise.attempt` + 1, delayed by the
                                       next retry delay, then delete the received copy
    error / timeout, no attempts left → an invocation record to the EventInvokeConfig OnFailure
                                       destination, else the event + error attributes to the
                                       DeadLetterConfig target (SQS or SNS), else to a `<queue>-dlq`
                                       queue created here; then delete
    runtime stopping mid-invoke      → released (visible again at once), not counted
    received after the runtime stopped → released too: stopping does not wait for a long poll

A message is deleted only after success or after it reached a dead-letter target, so stopping
`dev` at any moment loses nothing: the cloud is durable and the next start delivers what is left
(a message received by a killed process becomes visible again after its visibility timeout).
"""

from __future__ import annotations

import enum
import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from stagewise.runtime.model import FunctionSpec, RuntimeModel, SubscriptionSpec
from stagewise.runtime.protocol import WorkerGone
from stagewise.runtime.workers import InvokeResult, InvokeStatus, WorkerSet

ATTEMPT_ATTRIBUTE = "stagewise.attempt"
TRACE_ATTRIBUTE = "AWSTraceHeader"
VISIBILITY_MARGIN_S = 20  # beyond the function's timeout: time to wait for a free worker
MAX_QUEUE_NAME = 80
MAX_BATCH = 10  # SQS ReceiveMessage limit
MAX_ERROR_MESSAGE = 1024
Log = Callable[[str], None]


class Outcome(enum.Enum):
    DELIVERED = "ok"
    RETRYING = "retrying"
    DEAD_LETTERED = "dead-lettered"
    RELEASED = "released"  # the runtime stopped mid-invoke; delivered after the next start


@dataclass(frozen=True)
class DeliverySettings:
    """How fast to poll and how long to wait between attempts (Lambda: ~1 min, then ~2 min)."""

    retry_delays_s: tuple[int, ...] = (1, 2)  # whole seconds (SQS DelaySeconds); the last one repeats
    wait_time_s: int = 20  # ReceiveMessage's WaitTimeSeconds: SQS's longest, what Lambda's pollers use
    slot_wait_s: float = 0.5  # how long a poller with every invocation slot busy waits before it looks again
    error_backoff_s: float = 1.0  # after the cloud failed to answer
    max_in_flight: int = 4  # concurrent invocations per subscription


def sns_event(envelope: dict[str, Any], *, subscription_arn: str) -> dict[str, Any]:
    """Lambda's SNS event for one SNS envelope (the JSON body SNS puts in an SQS message)."""
    region = subscription_arn.split(":")[3] if subscription_arn.count(":") >= 3 else "us-east-1"
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription_arn,
                "Sns": {
                    "Type": envelope.get("Type", "Notification"),
                    "MessageId": envelope.get("MessageId", ""),
                    "TopicArn": envelope.get("TopicArn", ""),
                    "Subject": envelope.get("Subject"),
                    "Message": envelope.get("Message", ""),
                    "Timestamp": envelope.get("Timestamp", ""),
                    "SignatureVersion": envelope.get("SignatureVersion", "1"),
                    "Signature": envelope.get("Signature", ""),
                    "SigningCertUrl": envelope.get("SigningCertURL", envelope.get("SigningCertUrl", "")),
                    "UnsubscribeUrl": f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={subscription_arn}",
                    "MessageAttributes": envelope.get("MessageAttributes") or {},
                },
            }
        ]
    }


@dataclass(frozen=True)
class Received:
    """One message taken from a delivery queue."""

    receipt: str
    body: str
    attempt: int  # 1 for the first delivery
    trace: str | None = None  # the publisher's X-Ray trace header (SQS's AWSTraceHeader): the invocation continues it

    @classmethod
    def of(cls, message: dict[str, Any]) -> Received:
        attributes = message.get("MessageAttributes") or {}
        attempt = int((attributes.get(ATTEMPT_ATTRIBUTE) or {}).get("StringValue", "1"))
        trace = (message.get("Attributes") or {}).get(TRACE_ATTRIBUTE)
        return cls(receipt=message["ReceiptHandle"], body=message["Body"], attempt=attempt, trace=trace)


class Subscriber:
    """One subscription: a poller thread and the handling of each message it receives."""

    def __init__(self, sub: SubscriptionSpec, function: FunctionSpec, *, delivery: Delivery) -> None:
        self.sub = sub
        self.function = function
        self.delivery = delivery
        self.queue_url = sub.delivery_queue_url or ""
        self.visibility_s = function.timeout_s + VISIBILITY_MARGIN_S
        self._slots = threading.Semaphore(delivery.settings.max_in_flight)
        delivery.workers.pool(function.logical_id)  # exists before any stop, so a late invoke finds it closed
        self._thread = threading.Thread(target=self._poll, name=f"sns-{function.name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _poll(self) -> None:
        wait = 0.0
        while not self.delivery.stopping.wait(wait):
            wait = self._poll_once()

    def _poll_once(self) -> float:
        """One long poll for as many messages as there are free slots; returns how long to wait next."""
        free = self._take_slots()
        if not free:
            return 0.0  # every slot busy; _take_slots already waited
        try:
            messages = self._receive(free)
        except (BotoCoreError, ClientError) as exc:
            if self.delivery.stopping.is_set():  # the cloud stopped with dev while the poll waited
                return 0.0
            self.delivery.log(f"sns → {self.function.name}: cannot read {self.queue_url}: {exc}")
            messages = None
        for _ in range(free - len(messages or ())):
            self._slots.release()
        if messages is None:
            return self.delivery.settings.error_backoff_s
        for message in messages:
            self.delivery.submit(self._handle, Received.of(message))
        return 0.0

    def _take_slots(self) -> int:
        """Free invocation slots (at most 10, SQS's batch limit): waits a little for the first."""
        if not self._slots.acquire(timeout=self.delivery.settings.slot_wait_s):
            return 0
        taken = 1
        while taken < MAX_BATCH and self._slots.acquire(blocking=False):
            taken += 1
        return taken

    def _receive(self, count: int) -> list[dict[str, Any]]:
        reply = self.delivery.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=count, WaitTimeSeconds=self.delivery.settings.wait_time_s,
            VisibilityTimeout=self.visibility_s, MessageAttributeNames=["All"],
            MessageSystemAttributeNames=[TRACE_ATTRIBUTE],
        )
        return reply.get("Messages") or []

    def _handle(self, message: Received) -> None:
        try:
            self._deliver(message)
        except (BotoCoreError, ClientError) as exc:
            # Not deleted: the message comes back after its visibility timeout.
            self.delivery.log(f"sns → {self.function.name}: cloud error while delivering: {exc}")
        except Exception as exc:  # the thread boundary: say it, the message comes back after its timeout
            self.delivery.log(f"sns → {self.function.name}: delivery failed: {type(exc).__name__}: {exc}")
        finally:
            self._slots.release()

    def _release(self, message: Received) -> None:
        """Make a received message visible again at once (the runtime is stopping); not an attempt."""
        self.delivery.sqs.change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=message.receipt, VisibilityTimeout=0
        )

    def _deliver(self, message: Received) -> None:
        try:
            envelope = json.loads(message.body)
        except json.JSONDecodeError:
            envelope = {"Message": message.body}
        event = sns_event(envelope, subscription_arn=self.sub.subscription_arn)
        result = self._invoke(event, message.trace)
        outcome = self._settle(message, event=event, result=result)
        self._log(message, result=result, outcome=outcome)

    def _invoke(self, event: dict[str, Any], trace: str | None) -> InvokeResult | None:
        if self.delivery.stopping.is_set():
            return None
        try:
            return self.delivery.workers.pool(self.function.logical_id).invoke(event, trace_id=trace)
        except WorkerGone:
            return None

    def _settle(self, message: Received, *, event: dict[str, Any], result: InvokeResult | None) -> Outcome:
        sqs = self.delivery.sqs
        if result is None or (self.delivery.stopping.is_set() and not result.ok):
            self._release(message)
            return Outcome.RELEASED
        if result.ok:
            outcome = Outcome.DELIVERED
        elif message.attempt <= self.function.max_retry_attempts:
            self._retry(message)
            outcome = Outcome.RETRYING
        else:
            self.delivery.dead_letter(self, event=event, result=result)
            outcome = Outcome.DEAD_LETTERED
        sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message.receipt)
        return outcome

    def _retry(self, message: Received) -> None:
        delays = self.delivery.settings.retry_delays_s or (0,)
        delay = delays[min(message.attempt - 1, len(delays) - 1)]
        traced = {"MessageSystemAttributes": {TRACE_ATTRIBUTE: {"DataType": "String", "StringValue": message.trace}}}
        self.delivery.sqs.send_message(
            QueueUrl=self.queue_url, MessageBody=message.body, DelaySeconds=int(delay),
            MessageAttributes={ATTEMPT_ATTRIBUTE: {"DataType": "Number", "StringValue": str(message.attempt + 1)}},
            **(traced if message.trace else {}),
        )

    def _log(self, message: Received, *, result: InvokeResult | None, outcome: Outcome) -> None:
        attempts = self.function.max_retry_attempts + 1
        head = f"sns → {self.function.name} attempt {message.attempt}/{attempts}"
        if outcome is Outcome.RELEASED:
            self.delivery.log(f"{head} interrupted: released for the next start")
        elif result is not None and result.ok:
            self.delivery.log(f"{head} ok ({result.duration_ms:.0f} ms)")
        else:
            self.delivery.log(f"{head} error: {error_text(result)} → {outcome.value}")


def failure_record(function: FunctionSpec, *, event: dict[str, Any], result: InvokeResult) -> dict[str, Any]:
    """What Lambda sends an OnFailure destination: the request, why it failed, and the function's error."""
    return {
        "version": "1.0",
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "requestContext": {
            "requestId": result.request_id,
            "functionArn": f"{function.arn}:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": function.max_retry_attempts + 1,
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": result.error or {"errorMessage": error_text(result)},
    }


def error_text(result: InvokeResult | None) -> str:
    if result is None:
        return "runtime stopped"
    if result.status is InvokeStatus.TIMEOUT:
        return "Task timed out"
    error = result.error or {}
    return f"{error.get('errorType', result.status.value)}: {error.get('errorMessage', '')}".strip()


class Delivery:
    """Every SNS → Lambda subscription of a model, delivered while the runtime runs."""

    def __init__(self, model: RuntimeModel, *, workers: WorkerSet, clients: Callable[[], tuple[Any, Any]], log: Log,
                 settings: DeliverySettings | None = None) -> None:
        """`clients()` → (sqs, sns) clients of the local cloud; called only when there is something to deliver."""
        self.workers = workers
        self.log = log
        self.settings = settings or DeliverySettings()
        self.stopping = threading.Event()
        self._dead_letter_urls: dict[str, str] = {}
        self._lock = threading.Lock()
        deliverable = [sub for sub in model.subscriptions if self._deliverable(sub)]
        self.sqs, self.sns = clients() if deliverable else (None, None)
        self.subscribers = [Subscriber(sub, model.function(sub.function), delivery=self) for sub in deliverable]
        self._executor = ThreadPoolExecutor(
            max_workers=max(1, len(self.subscribers) * self.settings.max_in_flight), thread_name_prefix="sns-invoke"
        )

    def _deliverable(self, sub: SubscriptionSpec) -> bool:
        if not sub.delivery_queue_url:
            self.log(f"warning: subscription {sub.logical_id} has no delivery queue; redeploy its stack to deliver it")
            return False
        return True

    def start(self) -> None:
        for subscriber in self.subscribers:
            subscriber.start()

    def stop(self) -> None:
        """Stop polling; invocations still running finish (or are released once the workers stop).

        A poller waiting in a long poll is not waited for: what that poll still receives is released
        (`_invoke` sees the stop), and the thread ends when the poll does, or with the process."""
        self.stopping.set()

    def join(self) -> None:
        """Wait for the invocations in flight to be settled (call after the workers stopped)."""
        self._executor.shutdown(wait=True)

    def submit(self, handle: Callable[[Received], None], message: Received) -> None:
        try:
            self._executor.submit(handle, message)
        except RuntimeError:  # the executor already shut down: handle it here (it is released, as stopping)
            handle(message)

    def dead_letter(self, subscriber: Subscriber, *, event: dict[str, Any], result: InvokeResult) -> None:
        """After the last attempt: an invocation record to the OnFailure destination, else the event to the DLQ."""
        function = subscriber.function
        if function.on_failure_arn:
            record = failure_record(function, event=event, result=result)
            self._send(subscriber, target=function.on_failure_arn, body=record, attributes=None)
            return
        attributes = {
            "RequestID": {"DataType": "String", "StringValue": result.request_id},
            "ErrorCode": {"DataType": "Number", "StringValue": "200"},
            "ErrorMessage": {"DataType": "String", "StringValue": error_text(result)[:MAX_ERROR_MESSAGE]},
        }
        self._send(subscriber, target=function.dead_letter_arn, body=event, attributes=attributes)

    def _send(self, subscriber: Subscriber, *, target: str | None, body: dict[str, Any],
              attributes: dict[str, Any] | None) -> None:
        """To an SNS topic or an SQS queue by ARN; no target: the subscription's own `-dlq` queue."""
        extra = {"MessageAttributes": attributes} if attributes else {}
        if target and target.split(":")[2:3] == ["sns"]:
            self.sns.publish(TopicArn=target, Message=json.dumps(body), **extra)
            return
        url = self._queue_for(subscriber, target)
        self.sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body), **extra)

    def _queue_for(self, subscriber: Subscriber, arn: str | None) -> str:
        key = arn or subscriber.queue_url
        with self._lock:
            if key not in self._dead_letter_urls:
                self._dead_letter_urls[key] = self._resolve_queue(subscriber, arn)
            return self._dead_letter_urls[key]

    def _resolve_queue(self, subscriber: Subscriber, arn: str | None) -> str:
        if arn:
            parts = arn.split(":")
            return self.sqs.get_queue_url(QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])["QueueUrl"]
        name = subscriber.queue_url.rstrip("/").rsplit("/", 1)[-1][: MAX_QUEUE_NAME - 4] + "-dlq"
        url = self.sqs.create_queue(QueueName=name, Attributes={"MessageRetentionPeriod": "1209600"})["QueueUrl"]
        self.log(
            f"WARNING: function {subscriber.function.name} has no dead-letter queue (DeadLetterConfig or an "
            f"EventInvokeConfig OnFailure destination); its failed SNS events are kept in {url} — declare one"
        )
        return url


def cloud_clients(env: dict[str, str], *, region: str) -> tuple[Any, Any]:
    """SQS and SNS clients for the local cloud named by a worker base env (endpoint + credentials)."""
    from botocore.config import Config

    from stagewise.cloud.accounts import env_client

    config = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=2,
                    read_timeout=DeliverySettings.wait_time_s + 10,  # a long poll's answer comes after its wait
                    max_pool_connections=20)
    return env_client("sqs", env, region=region, config=config), env_client("sns", env, region=region, config=config)

