"""SSH port allocation: lowest free port in the range, chosen under a file lock."""

from __future__ import annotations

import socket
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from containai_rpc.engine import ContainerInfo, Engine, EngineSet
from containai_rpc.errors import DomainError
from containai_rpc.ssh.locking import ssh_lock


def port_is_free(port: int) -> bool:
    """Nothing listens on it on the host (checked by binding, no `ss` needed).

    Binding the wildcard address conflicts with a listener on any IPv4 address (and a
    dual-stack IPv6 one). SO_REUSEADDR keeps connections in TIME_WAIT — e.g. from our
    own login check on a container just removed — from counting as "in use".
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def pick_port(port_range: tuple[int, int], used: Iterable[int]) -> int:
    """The lowest port in the range that no managed container holds and nothing listens on."""
    taken = set(used)
    start, end = port_range
    for port in range(start, end + 1):
        if port not in taken and port_is_free(port):
            return port
    raise DomainError(
        "portsExhausted",
        f"All {end - start + 1} SSH ports in range {start}-{end} are in use",
        hint="Remove unused containers (stop with remove, or gc) or widen "
        "[ssh] port_range_start/port_range_end.",
    )


def allocate(engine: Engine, port_range: tuple[int, int], elsewhere: Iterable[int] = ()) -> int:
    """Pick a port for a new container; call inside `port_allocation()` until it exists.

    `elsewhere`: ports of managed containers on the other engines. A container on a remote
    engine publishes its port on that host's 127.0.0.1, where no local bind check sees it,
    yet known_hosts names every container by `[127.0.0.1]:<port>`: no two may share one.
    """
    return pick_port(port_range, {*engine.managed_ports(), *elsewhere})


def ports_elsewhere(engines: EngineSet, context: str) -> set[int]:
    """Ports labelled on managed containers of every other managed context that answers."""
    others = [name for name in engines.managed_contexts() if name != context]
    found: set[int] = set()
    for _, ports in engines.each(others, lambda engine: engine.managed_ports()):
        if isinstance(ports, set):
            found |= ports
    return found


def taken_port(engine: Engine, info: ContainerInfo) -> int | None:
    """The labelled port of a stopped container if someone else holds it now (then `run` moves it).

    "Someone else" is another running managed container publishing it, or any process
    listening on this machine (for a local engine); the stopped container binds nothing.
    """
    port = info.ssh_port
    if port is None or info.running:
        return None
    others = (c for c in engine.list_managed() if c.id != info.id and c.running)
    here = engine.host == "local"  # a remote engine's ports are not on this machine
    if (here and not port_is_free(port)) or any(c.published_ssh_port == port for c in others):
        return port
    return None


@contextmanager
def port_allocation() -> Iterator[None]:
    """Serialise 'choose a port, create the container' across processes."""
    with ssh_lock("port", timeout_s=30.0):
        yield
