"""ContainAI's own known_hosts (`$XDG_CONFIG_HOME/containai/known_hosts`),
shared with the original tool.

Edited in Python (no `ssh-keygen -R`, which leaves `.old` copies behind), under one
lock, with atomic writes. Hashed entries (`|1|salt|hash`, as written by an ssh with
`HashKnownHosts yes`) are matched too.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from containai_rpc.errors import DomainError
from containai_rpc.ssh.locking import ssh_lock
from containai_rpc.ssh.safefiles import ensure_private_dir, read_nofollow, strict_write
from containai_rpc.workspace.state import config_dir

LOCK_TIMEOUT_S = 10.0
_KEY_TYPE_RE = re.compile(r"^(ssh|ecdsa|sk)-[a-z0-9@.-]+$")
_KEY_DATA_RE = re.compile(r"^[A-Za-z0-9+/]+={0,3}$")


@dataclass(frozen=True)
class HostKey:
    """One public host key: algorithm and base64 material."""

    type: str
    data: str


def known_hosts_path() -> Path:
    return config_dir() / "known_hosts"


def loopback_host(port: int) -> str:
    """How ssh names 127.0.0.1:<port> in known_hosts."""
    return "127.0.0.1" if port == 22 else f"[127.0.0.1]:{port}"


def host_names(port: int, name: str | None = None) -> list[str]:
    """Every form the original may have recorded for a container (port and host alias)."""
    names = [loopback_host(port), f"[localhost]:{port}"]
    if port == 22:
        names += ["localhost", "[127.0.0.1]:22", "[localhost]:22"]
    if name:
        names += [f"[{name}]:{port}", name]
    return names


def parse_keys(text: str) -> list[HostKey]:
    """Host keys from `*.pub` lines (`type base64 [comment]`); anything else is dropped.

    The text comes from the container, so only well-formed keys get into known_hosts.
    """
    keys: list[HostKey] = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 2 and _KEY_TYPE_RE.match(fields[0]) and _KEY_DATA_RE.match(fields[1]):
            key = HostKey(fields[0], fields[1])
            if key not in keys:
                keys.append(key)
    return keys


def _hashed_match(entry: str, host: str) -> bool:
    try:
        _, magic, salt, digest = entry.split("|")
        if magic != "1":
            return False
        mac = hmac.new(base64.b64decode(salt), host.encode(), hashlib.sha1).digest()
        return hmac.compare_digest(mac, base64.b64decode(digest))
    except (ValueError, binascii.Error):
        return False


def _matches(line: str, hosts: Iterable[str]) -> bool:
    """Whether a known_hosts line is for one of `hosts` (markers like @revoked: never)."""
    fields = line.split()
    if len(fields) < 3 or line.lstrip().startswith(("#", "@")):
        return False
    wanted = set(hosts)
    for entry in fields[0].split(","):
        if entry in wanted:
            return True
        if entry.startswith("|") and any(_hashed_match(entry, h) for h in wanted):
            return True
    return False


@contextmanager
def _editing() -> Iterator[list[str]]:
    """The file's lines under the lock; written back (0600) only if the list changed.

    The folder must be ours and not group/other-writable; a symlinked file is refused."""
    path = known_hosts_path()
    with ssh_lock("known_hosts", timeout_s=LOCK_TIMEOUT_S):
        ensure_private_dir(path.parent)
        text = read_nofollow(path)
        lines = (text or "").splitlines()
        before = list(lines)
        yield lines
        if lines != before or text is None:
            strict_write(path, "".join(f"{line}\n" for line in lines))


def _entry(port: int, key: HostKey) -> str:
    return f"{loopback_host(port)} {key.type} {key.data}"


def has_entries(port: int) -> bool:
    """Whether we already trust host keys for the container on `port`."""
    text = read_nofollow(known_hosts_path())
    if text is None:
        return False
    return any(_matches(line, host_names(port)) for line in text.splitlines())


def replace(port: int, keys: list[HostKey]) -> None:
    """A new container on `port` (create, fresh, reset): its keys replace any old ones."""
    with _editing() as lines:
        lines[:] = [line for line in lines if not _matches(line, host_names(port))]
        lines.extend(_entry(port, key) for key in keys)


def check(port: int, keys: list[HostKey], container: str) -> None:
    """An existing container: a known key type with other material is `hostKeyChanged`.

    Key types not yet recorded are added; nothing is replaced silently.
    """
    path = known_hosts_path()
    with _editing() as lines:
        known: dict[str, set[str]] = {}
        for line in lines:
            if _matches(line, [loopback_host(port)]):
                fields = line.split()
                known.setdefault(fields[1], set()).add(fields[2])
        changed = [k.type for k in keys if k.type in known and k.data not in known[k.type]]
        if changed:
            raise DomainError(
                "hostKeyChanged",
                f"SSH host key has changed for container {container} (port {port}, "
                f"{', '.join(changed)})",
                hint="If you recreated the container outside ContainAI, recreate it with a "
                "fresh run "
                f"(or remove the old entry: ssh-keygen -R '{loopback_host(port)}' -f {path}); "
                "otherwise something else may be answering on this port.",
                container=container,
                port=port,
            )
        lines.extend(_entry(port, k) for k in keys if k.type not in known)


def forget(port: int, name: str | None = None) -> None:
    """Drop every entry of a removed container, as the original does on removal."""
    if not known_hosts_path().is_file():
        return
    with _editing() as lines:
        lines[:] = [line for line in lines if not _matches(line, host_names(port, name))]
