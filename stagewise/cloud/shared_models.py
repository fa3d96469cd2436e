"""One parsed copy of each botocore data file in the cloud's process, as plain dicts.

Three readers in the cloud process load the same botocore JSON (service models, endpoints), each
through its own `botocore.loaders.Loader` and so each into its own copy: moto's response code
(`moto.core.utils.get_service_model`, a fresh loader per service), moto's backend registry (a
boto3 session that reads every backend's service model to list its regions, and keeps them), and
the provisioner's and guard's boto3 clients (`accounts.shared_client`). Measured with the notes
app warm: ~69 MB of parsed JSON in the cloud process, ~3 copies of the same files. botocore
parses them into `OrderedDict`s, ~1.5x the size of dicts, which keep insertion order as well.

Any process that makes stagewise's clients (`accounts.shared_client`: `dev`, deploys) parses
them as dicts too; only the cloud server has more than one loader to share between.

`install()` makes every loader created after it read files through `SharedFileLoader`, which
parses each file once per process into dicts, without the models' documentation text, and hands
every loader the same object. That is
safe because loaded models are read-only: botocore already hands one loaded dict to every client
of a session. The exception is a model with an extras file (`<type>.<kind>-extras.json`, e.g.
botocore's `s3/.../service-2.sdk-extras.json`): a loader merges its extras into the model in
place, and moto's loader merges other extras than botocore's, so such files are parsed afresh for
each loader, as before.
"""

from __future__ import annotations

import glob
import json
import os
import threading
from typing import Any

from botocore.loaders import JSONFileLoader, Loader

_EXTRAS = "*-extras.json*"


def _data_roots() -> list[str]:
    """The folders every botocore loader may search: its own, `~/.aws/models`, AWS_DATA_PATH."""
    roots = [Loader.BUILTIN_DATA_PATH, Loader.CUSTOMER_DATA_PATH]
    return roots + [os.path.expanduser(os.path.expandvars(p))
                    for p in os.environ.get("AWS_DATA_PATH", "").split(os.pathsep) if p]


def _key(service: str, version: str, type_name: str) -> tuple[str, str, str]:
    return service.replace("-", ""), version, type_name  # moto looks extras up without hyphens


def models_with_extras(roots: list[str]) -> set[tuple[str, str, str]]:
    """(service, version, type) of every model that some loader merges an extras file into."""
    found = set()
    for root in roots:
        for path in glob.glob(os.path.join(glob.escape(root), "*", "*", _EXTRAS)):
            service_dir, version_dir, name = path.split(os.sep)[-3:]
            found.add(_key(service_dir, version_dir, name.split(".", 1)[0]))
    return found


class SharedFileLoader(JSONFileLoader):
    """botocore's file loader, with one parsed copy of each file for every loader in the process."""

    _parsed: dict[str, Any] = {}
    _lock = threading.Lock()
    _with_extras: set[tuple[str, str, str]] = set()

    def load_file(self, file_path: str) -> Any:
        if self._has_extras(file_path):
            return super().load_file(file_path)
        with self._lock:  # a second thread asking for the same file waits rather than parsing it again
            if file_path not in self._parsed:
                self._parsed[file_path] = super().load_file(file_path)
            return self._parsed[file_path]

    def _has_extras(self, file_path: str) -> bool:
        parts = file_path.split(os.sep)
        return len(parts) >= 3 and _key(*parts[-3:]) in self._with_extras

    def _load_file(self, full_path: str, open_method: Any) -> Any:
        if not os.path.isfile(full_path):
            return None
        with open_method(full_path, "rb") as fp:
            # dicts keep order too, in 2/3 of the memory; docs emptied (~1/3 of a model's memory)
            return json.loads(fp.read().decode("utf-8"), object_hook=_without_docs)


def _without_docs(obj: dict[str, Any]) -> dict[str, Any]:
    """A model object with its `documentation` (HTML for help() and docstrings, nothing a request
    uses) emptied; the key stays, as botocore reads some with `[...]`."""
    if "documentation" in obj:
        obj["documentation"] = ""
    return obj


def install(extra_roots: tuple[str, ...] = ()) -> None:
    """Every botocore loader created from now on shares parsed files. `extra_roots`: folders that
    other loaders of this process search too (moto's, in the cloud server)."""
    with_extras = models_with_extras(_data_roots() + list(extra_roots))
    SharedFileLoader._with_extras = SharedFileLoader._with_extras | with_extras
    Loader.FILE_LOADER_CLASS = SharedFileLoader
