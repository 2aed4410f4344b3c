"""SSH port allocation: lowest free port in the range, chosen under a file lock (spec §4.5)."""

from __future__ import annotations

import socket
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from containai_rpc.errors import DomainError
from containai_rpc.service.locks import locked


def port_is_free(port: int) -> bool:
    """Nothing listens on it on the host (checked by binding, no `ss` needed)."""
    for family, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET, "127.0.0.1")):
        with socket.socket(family, socket.SOCK_STREAM) as s:
            try:
                s.bind((addr, port))
            except OSError:
                return False
    return True


def pick_port(port_range: tuple[int, int], used: Iterable[int]) -> int:
    taken = set(used)
    start, end = port_range
    for port in range(start, end + 1):
        if port not in taken and port_is_free(port):
            return port
    raise DomainError(
        "portsExhausted",
        f"All {end - start + 1} SSH ports in range {start}-{end} are in use",
        hint="Remove unused containers (cai stop --all --remove, cai gc) or widen "
        "[ssh] port_range_start/port_range_end.",
    )


@contextmanager
def port_allocation() -> Iterator[None]:
    """Serialise 'choose a port, create the container' across processes."""
    with locked(".ssh-port"):
        yield
