"""The local X-Ray daemon over real UDP on loopback, and its durable, bounded store."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

from stagewise.tracing.daemon import MAX_DOCUMENT, XRayDaemon
from stagewise.tracing.emit import PREAMBLE, Emitter
from stagewise.tracing.segments import new_id, new_trace_id
from stagewise.tracing.store import TraceStore


def segment(trace_id: str, **extra) -> dict:
    return {"trace_id": trace_id, "id": new_id(), "name": "s", "start_time": time.time(),
            "end_time": time.time() + 0.01, **extra}


def wait_for(daemon: XRayDaemon, key: str, count: int, limit: float = 5.0) -> dict[str, int]:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if daemon.stats.as_dict()[key] >= count:
            return daemon.stats.as_dict()
        time.sleep(0.01)
    raise AssertionError(f"{key} never reached {count}: {daemon.stats.as_dict()}")


def test_segments_sent_over_udp_are_stored_and_survive_a_restart(tmp_path) -> None:
    store = TraceStore(tmp_path / "traces.sqlite")
    daemon = XRayDaemon(store, stage="local")
    emitter = Emitter(daemon.start())
    trace_id = new_trace_id()
    first, second = segment(trace_id), segment(trace_id, fault=True)
    emitter.send(first)
    emitter.send(second)
    wait_for(daemon, "stored", 2)
    daemon.stop()
    store.close()
    reopened = TraceStore(tmp_path / "traces.sqlite")
    assert sorted(d["id"] for d in reopened.documents(trace_id)) == sorted([first["id"], second["id"]])
    assert reopened.trace_ids(stage="local", errors=True) == [trace_id]
    assert reopened.trace_ids(stage="other") == []


def test_malformed_and_oversized_datagrams_are_counted_and_dropped_and_the_daemon_goes_on(tmp_path) -> None:
    daemon = XRayDaemon(TraceStore(tmp_path / "t.sqlite"), stage="local")
    host, port = daemon.start().split(":")
    raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    bad = [b"no header at all", PREAMBLE + b"{not json", PREAMBLE + b"[1, 2]", PREAMBLE + b'{"id": "x"}',
           b'{"format": "xml"}\n' + json.dumps(segment(new_trace_id())).encode(), b"\xff\xfe\n\xff"]
    for datagram in bad:
        raw.sendto(datagram, (host, int(port)))
    big = segment(new_trace_id(), metadata={"pad": "x" * (MAX_DOCUMENT + 100)})
    raw.sendto(PREAMBLE + json.dumps(big).encode(), (host, int(port)))
    good = segment(new_trace_id())
    raw.sendto(PREAMBLE + json.dumps(good).encode(), (host, int(port)))
    stats = wait_for(daemon, "stored", 1)
    daemon.stop()
    assert stats["dropped_malformed"] == len(bad)
    assert stats["dropped_oversized"] == 1
    assert stats["received"] == len(bad) + 2
    assert [d["id"] for d in daemon.store.documents(good["trace_id"])] == [good["id"]]


def test_a_document_as_pythons_sdk_writes_it_reads_back_the_same(tmp_path) -> None:
    """The SDK's stdlib encoder escapes non-ASCII and may write NaN; the store reads with orjson."""
    daemon = XRayDaemon(TraceStore(tmp_path / "t.sqlite"), stage="local")
    host, port = daemon.start().split(":")
    doc = segment(new_trace_id(), metadata={"note": "café ☕ \U0001f600", "ratio": float("nan"), "n": 2**60})
    raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    raw.sendto(PREAMBLE + json.dumps(doc).encode(), (host, int(port)))
    wait_for(daemon, "stored", 1)
    daemon.stop()
    [stored] = daemon.store.documents(doc["trace_id"])
    assert stored["metadata"]["note"] == "café ☕ \U0001f600" and stored["metadata"]["n"] == 2**60
    assert stored["metadata"]["ratio"] is None  # JSON has no NaN: kept as null, the document is not lost
    assert {k: v for k, v in stored.items() if k != "metadata"} == {k: v for k, v in doc.items() if k != "metadata"}


def test_the_store_keeps_the_newest_traces_only(tmp_path) -> None:
    store = TraceStore(tmp_path / "t.sqlite", max_traces=3, prune_every_s=0)
    ids = [new_trace_id() + str(n) for n in range(5)]
    for trace_id in ids:
        store.add([segment(trace_id)], stage="local")
        time.sleep(0.002)
    kept = store.trace_ids(stage="local", last=10)
    assert sorted(kept) == sorted(ids[-3:])
    assert store.documents(ids[0]) == []


def test_a_segment_sent_again_replaces_the_in_progress_one(tmp_path) -> None:
    store = TraceStore(tmp_path / "t.sqlite")
    doc = segment(new_trace_id(), in_progress=True)
    store.add([doc], stage="local")
    store.add([{**doc, "in_progress": False}], stage="local")
    assert store.documents(doc["trace_id"]) == [{**doc, "in_progress": False}]


def test_the_daemon_process_stores_everything_sent_before_it_is_stopped(tmp_path) -> None:
    """`stagewise dev` runs the daemon in a process of its own: what it received is stored when dev stops it."""
    from stagewise.tracing.daemon import DaemonProcess

    daemon = DaemonProcess(tmp_path / "traces.sqlite", "local")
    emitter = Emitter(daemon.address)
    ids = [new_trace_id() for _ in range(200)]
    for trace_id in ids:
        emitter.send(segment(trace_id))
    daemon.stop()
    assert daemon._process.returncode == 0
    assert sorted(TraceStore(tmp_path / "traces.sqlite").trace_ids(stage="local", last=1000)) == sorted(ids)


def test_a_document_without_a_start_keeps_its_traces_start(tmp_path) -> None:
    store = TraceStore(tmp_path / "t.sqlite")
    trace_id = new_trace_id()
    store.add([segment(trace_id)], stage="local")
    store.add([{"trace_id": trace_id, "id": new_id(), "name": "late", "in_progress": True}], stage="local")
    assert store.trace_ids(stage="local", since=1.0) == [trace_id]  # a NULL start would hide it from `since`


def test_pruning_waits_a_moment_between_batches(tmp_path) -> None:
    store = TraceStore(tmp_path / "t.sqlite", max_traces=2, prune_every_s=60)
    ids = [new_trace_id() + str(n) for n in range(4)]
    for trace_id in ids:
        store.add([segment(trace_id)], stage="local")
    assert len(store.trace_ids(stage="local", last=10)) == 4  # over the bound until the next prune is due
    store.prune_every_s = 0
    store.add([segment(new_trace_id())], stage="local")
    assert len(store.trace_ids(stage="local", last=10)) == 2


def test_a_burst_of_segments_costs_the_daemon_a_few_wake_ups_not_one_per_segment(tmp_path) -> None:
    """Under load the daemon must not wake for every datagram: it shares two cores with the gateway and
    the workers, and each wake-up preempts one of them. Context switches of the daemon process's
    threads while 2,000 segments arrive over ~0.2 s, read from /proc."""
    from stagewise.tracing.daemon import DaemonProcess

    def switches(pid: int) -> int:
        total = 0
        for task in Path(f"/proc/{pid}/task").iterdir():
            for line in (task / "status").read_text().splitlines():
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    total += int(line.split()[1])
        return total

    daemon = DaemonProcess(tmp_path / "traces.sqlite", "local")
    emitter = Emitter(daemon.address)
    emitter.send(segment(new_trace_id()))
    time.sleep(0.5)  # started and idle
    before = switches(daemon._process.pid)
    ids = [new_trace_id() for _ in range(2000)]
    for i, trace_id in enumerate(ids):
        emitter.send(segment(trace_id))
        if i % 100 == 99:
            time.sleep(0.01)
    time.sleep(0.3)
    woken = switches(daemon._process.pid) - before
    daemon.stop()
    assert len(TraceStore(tmp_path / "traces.sqlite").trace_ids(stage="local", last=5000)) == 2001
    assert woken < 200, woken
