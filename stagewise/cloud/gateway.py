"""The cheroot WSGI gateway moto needs: raw request URI and original S3 metadata header names.

Data flow: cheroot parses a request into `req.inheaders` (names title-cased, bytes)
and builds the WSGI environ; this subclass adds `RAW_URI` (moto matches S3 keys
against the undecoded path) and the map moto reads to report `x-amz-meta-*` headers
whose names contain `_` under their own spelling (WSGI folds `-` and `_` together).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cheroot.wsgi import Gateway_10
from moto.core.request import (
    PRESERVED_HEADER_NAMES_ENVIRON_KEY,
    environ_key_for_header,
    should_preserve_original_header_name,
)


def preserved_names(header_names: Iterable[str]) -> dict[str, str]:
    """The environ entry moto reads for header names WSGI would fold (`x-amz-meta-a_b`)."""
    names: dict[str, str] = {}
    for name in header_names:
        if should_preserve_original_header_name(name):
            names.setdefault(environ_key_for_header(name), name)
    return names


class MotoGateway(Gateway_10):
    def get_environ(self) -> dict[str, Any]:
        environ = super().get_environ()
        environ["RAW_URI"] = environ.get("REQUEST_URI", "")
        environ[PRESERVED_HEADER_NAMES_ENVIRON_KEY] = preserved_names(
            raw.decode("latin-1") for raw in self.req.inheaders)
        return environ
