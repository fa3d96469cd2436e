"""Snapshots of moto's whole state, so a start replays only the journal written since.

Data flow: `take(path, seq)` pickles, in one go (so objects shared between services
stay shared), every in-use moto `BackendDict` and the model instances moto tracks
for `/moto-api/data.json`, tagged with the journal sequence number it covers; it
writes to a temp file, fsyncs and renames, so a crash leaves the old snapshot or the
new one, never half of one. `restore(path)` puts that state back into the freshly
imported moto modules and returns the sequence number; the server then replays only
journal entries after it. A few moto objects do not pickle as they are (Cognito's
RSA key, locks, defaultdict subclasses with their own __init__, one SSM lambda,
Lambda's weak ARN index);
`_Pickler` reduces them. Anything else that does
not pickle makes `take` raise `SnapshotError`: the server then keeps the full
journal, which is slower to replay but loses nothing.
"""

from __future__ import annotations

import importlib
import io
import pickle
import threading
import weakref
from collections import defaultdict
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from stagewise.cloud.layout import SNAPSHOT_FILE
from stagewise.cloud.sealing import Seal
from stagewise.fileio import write_atomically

__all__ = ["SNAPSHOT_FILE", "SnapshotError", "restore", "take"]
_LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))


PICKLE_MAGIC = b"\x80"  # a pickle of protocol 2 or later starts with PROTO


class SnapshotError(Exception):
    """The current state could not be snapshotted (the journal alone still holds it)."""


def _nested_dict() -> defaultdict[str, dict[str, str]]:
    return defaultdict(dict)


def _defaultdict_of(cls: type, factory: Any) -> Any:
    """A defaultdict subclass rebuilt without its own __init__ (moto's take extra arguments)."""
    made = defaultdict.__new__(cls)
    defaultdict.__init__(made, factory)
    return made


def _fresh_lock(kind: type) -> Any:
    return threading.RLock() if kind is type(threading.RLock()) else threading.Lock()


def _weak_values(items: list[tuple[Any, Any]]) -> weakref.WeakValueDictionary:
    return weakref.WeakValueDictionary(items)


def _load_rsa(pem: bytes) -> RSAPrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, RSAPrivateKey):
        raise SnapshotError("snapshot holds a key that is not RSA")
    return key


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, _LOCK_TYPES):
            return _fresh_lock, (type(obj),)
        if isinstance(obj, weakref.WeakValueDictionary):
            # Lambda's ARN index: its values are held elsewhere in the same pickle, so they
            # come back as the same objects and the rebuilt weak index points at them again.
            return _weak_values, (list(obj.items()),)
        if isinstance(obj, RSAPrivateKey):
            pem = obj.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            return _load_rsa, (pem,)
        if isinstance(obj, defaultdict):
            factory = obj.default_factory
            qualname = getattr(factory, "__qualname__", "")
            if qualname == "SimpleSystemManagerBackend.__init__.<locals>.<lambda>":
                factory = _nested_dict
            elif qualname == "LambdaStorage.__init__.<locals>.<lambda>":
                factory = dict  # `lambda: {}`
            if type(obj) is not defaultdict or factory is not obj.default_factory:
                return _defaultdict_of, (type(obj), factory), getattr(obj, "__dict__", None) or None, None, iter(obj.items())
        return NotImplemented


def _state() -> dict[str, Any]:
    from moto.core.base_backend import BackendDict
    from moto.core.model_instances import model_data

    backends = []
    for bd in BackendDict._instances:  # type: ignore[misc]
        module = importlib.import_module(bd.backend.__module__)
        _backend_dict(module, bd.service_name)  # a snapshot is only taken if it can be restored
        backends.append((module.__name__, bd.service_name, dict(bd)))
    tracked = {
        (service, name): list(cls.instances_tracked)  # type: ignore[attr-defined]
        for service, models in model_data.items()
        for name, cls in models.items()
        if getattr(cls, "instances_tracked", None)
    }
    return {"backends": backends, "tracked": tracked, "model_modules": _model_modules(model_data)}


def _model_modules(model_data: Any) -> dict[tuple[str, str], str]:
    return {(s, n): cls.__module__ for s, models in model_data.items() for n, cls in models.items()}


def take(path: Path, *, seq: int, seal: Seal | None = None) -> int:
    """Write a snapshot covering journal entries up to `seq` (sealed when a `seal` is given); returns
    its size in bytes."""
    buffer = io.BytesIO()
    try:
        _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump({"seq": seq, **_state()})
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise SnapshotError(f"moto state does not pickle: {exc}") from exc
    # durable (fsync, then the rename): the journal is emptied once this returns; private (0600):
    # it holds SecureString values, like the journal
    data = buffer.getvalue()
    write_atomically(path, seal.seal(data) if seal is not None else data, durable=True)
    return len(data)


def restore(path: Path, seal: Seal | None = None) -> int:
    """Load a snapshot into moto; returns the journal sequence number it covers (0: none). A snapshot
    written before sealing existed (a plain pickle) is read as it is."""
    if not path.exists():
        return 0
    from moto.core.base_backend import BackendDict
    from moto.core.model_instances import model_data

    data = path.read_bytes()
    if not data.startswith(PICKLE_MAGIC):
        if seal is None:
            raise SnapshotError("the snapshot is sealed, and no key was given to open it")
        data = seal.open(data)
    saved = pickle.loads(data)
    for module_name, service_name, accounts in saved["backends"]:
        live = _backend_dict(importlib.import_module(module_name), service_name)
        live.clear()
        live.update(accounts)
        if not any(known is live for known in BackendDict._instances):  # type: ignore[misc]
            BackendDict._instances.append(live)  # type: ignore[misc]
    for (service, name), instances in saved["tracked"].items():
        importlib.import_module(saved["model_modules"][(service, name)])
        model_data[service][name].instances_tracked = instances  # type: ignore[attr-defined]
    return int(saved["seq"])


def _backend_dict(module: Any, service_name: str) -> Any:
    from moto.core.base_backend import BackendDict

    for value in vars(module).values():
        if isinstance(value, BackendDict) and value.service_name == service_name:
            return value
    raise SnapshotError(f"no moto backend '{service_name}' in {module.__name__}; was moto upgraded? run reset")
