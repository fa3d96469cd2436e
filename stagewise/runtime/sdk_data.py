"""botocore's data files, read once by the worker template and shared by every worker it forks.

Data flow (inside the template, after its preload, before `gc.freeze`): the services the functions'
code names (`preload.scan(...).services`) → `share_loader(services)`: one botocore `Loader` reads the
service list, endpoints, partitions, SDK defaults, retry rules, and those services' models and
endpoint rule sets → every botocore `Session` made later in the process, and so in every forked
worker, gets that loader instead of a new one that would read and parse the same JSON again (a
worker's first client: ~48 → ~14 ms and ~26 → ~14 MB of private memory, measured here).

A session whose `AWS_DATA_PATH` is set keeps a loader of its own, as botocore makes it. The
difference from Lambda: sessions of one worker share the loaded dictionaries, so an
application's own `service-data-loaded` handler that edits a model in place would edit it for the
worker's other sessions too (botocore's built-in handlers do not edit them).

Not `stagewise.cloud.shared_models`, which serves stagewise's own processes (the cloud, dev): that one
parses models into plain dicts without their documentation. A worker runs the application's code, so
its botocore reads the files exactly as botocore does; only the loader is shared.
"""

from __future__ import annotations

from collections.abc import Iterable

# What every client reads whatever its service (botocore.loaders data names).
_COMMON_DATA = ("endpoints", "partitions", "sdk-default-configuration", "_retry")
_SERVICE_DATA = ("service-2", "endpoint-rule-set-1")


def share_loader(services: Iterable[str]) -> list[str]:
    """Read botocore's common data and the models of `services` into one loader that every later
    default-path `Session` uses. Returns the services read (unknown names are left out)."""
    import botocore.loaders
    import botocore.session

    loader = botocore.loaders.create_loader()
    known = set(loader.list_available_services("service-2"))
    for name in _COMMON_DATA:
        loader.load_data(name)
    read = sorted(set(services) & known)
    for service in read:
        for kind in _SERVICE_DATA:
            loader.load_service_model(service, kind)
    own_loader = botocore.session.create_loader

    def create_loader(search_path_string: str | None = None) -> botocore.loaders.Loader:
        return loader if search_path_string is None else own_loader(search_path_string)

    botocore.session.create_loader = create_loader  # what Session uses for its `data_loader` component
    return read
