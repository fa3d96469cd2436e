"""The HTTP/1.1 front end of the local API Gateway, and of the local cloud (`cloud/wsgi.py`).

`http1.py`: request framing on llhttp (`httptools`), without I/O — limits, RFC 9112 refusals, the
response encoder. `loop.py`: the asyncio server around it (one event loop for every connection, an
`async def` app awaited on it — the runtime's gateway —, a plain one — the cloud's — in a bounded thread pool,
timeouts, connection cap). See docs/runtime.md
("The HTTP front end") for limits and statuses, docs/decisions.md ("Local API HTTP front end") for why.
"""

from stagewise.runtime.server.http1 import (
           MAX_BODY,
           HttpError,
           Limits,
           RequestParser,
           encode_response,
           error_response,
)
from stagewise.runtime.server.loop import App, HttpServer, Timeouts

__all__ = ["MAX_BODY", "App", "HttpError", "HttpServer", "Limits", "RequestParser", "Timeouts", "encode_response",
           "error_response"]
