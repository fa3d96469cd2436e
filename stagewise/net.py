"""Loopback ports: is one free for a server of ours, and a listening socket on one. (Cheap to import: the
CLI checks before it loads anything heavy.)"""

from __future__ import annotations

import socket

from stagewise.errors import UserError


def check_port_free(port: int) -> None:
    """Raise a UserError naming the port when something already listens on 127.0.0.1:`port`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Like the server will: a port whose old connections linger in TIME_WAIT is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            raise UserError(f"port {port} on 127.0.0.1 is already in use; stop what uses it or pass --port") from exc


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (tests and benchmarks start servers on it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def loopback_listener(port: int, backlog: int = 128) -> socket.socket:
    """A socket listening on 127.0.0.1:`port` (0: a free one), never beyond loopback."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    return sock
