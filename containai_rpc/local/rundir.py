"""Where the shared server's socket lives, and the checks that keep it private.

The directory is `$XDG_RUNTIME_DIR/containai` (else `/tmp/containai-<uid>`), mode 0700 and
ours; the socket in it is 0600 and ours; the peer on the other end runs as our uid
(SO_PEERCRED). Anything else is refused with a message that says what is wrong.

A server's name holds our version and a digest of what it answers from (this install, the
environment that selects config, engines and images), so a `cai` of another version or
another environment never talks to it: it starts its own.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import stat
import struct
from pathlib import Path
from typing import Any, NamedTuple

from containai_rpc import __version__

PREFIX = "rpc-"
# What a server reads from its environment: a client whose values differ needs another one.
_ENV_KEYS = ("HOME", "PATH", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME")
_ENV_PREFIXES = ("CONTAINAI_", "DOCKER_")
_ENV_IGNORED = ("CONTAINAI_LOG_LEVEL",)


class Refused(Exception):
    """The shared server's socket or directory cannot be trusted (or used): why, in words."""


def runtime_dir(env: dict[str, str] | os._Environ[str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_RUNTIME_DIR")
    if base and os.path.isabs(base):
        return Path(base) / "containai"
    return Path(f"/tmp/containai-{os.getuid()}")


def env_digest(env: dict[str, str] | os._Environ[str] | None = None) -> str:
    """12 hex digits over this install and the environment a server answers from."""
    env = os.environ if env is None else env
    keys = sorted(
        k for k in env if (k in _ENV_KEYS or k.startswith(_ENV_PREFIXES)) and k not in _ENV_IGNORED
    )
    parts = [os.path.dirname(os.path.abspath(__file__)), *(f"{k}={env[k]}" for k in keys)]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:12]


class Place(NamedTuple):
    """The files of one shared server: its socket, the lock it holds while it runs, the
    lock its starters take, its log, and its info (pid, version, start time)."""

    dir: Path
    name: str

    @property
    def socket(self) -> Path:
        return self.dir / f"{self.name}.sock"

    @property
    def lock(self) -> Path:
        return self.dir / f"{self.name}.lock"

    @property
    def start_lock(self) -> Path:
        return self.dir / f"{self.name}.start"

    @property
    def log(self) -> Path:
        return self.dir / f"{self.name}.log"

    @property
    def info(self) -> Path:
        return self.dir / f"{self.name}.json"


def place(env: dict[str, str] | os._Environ[str] | None = None) -> Place:
    return Place(runtime_dir(env), f"{PREFIX}{__version__}-{env_digest(env)}")


def ensure_dir(path: Path) -> None:
    """Create the runtime directory 0700, or check that an existing one is ours and private."""
    try:
        path.mkdir(mode=0o700, parents=False, exist_ok=True)
    except FileNotFoundError:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.mkdir(mode=0o700, exist_ok=True)
    check_private(path, "directory", stat.S_ISDIR)


def check_private(path: Path, kind: str, is_kind: object) -> None:
    """`path` is a `kind` (not a symlink), owned by us, with no group or other bits."""
    st = os.lstat(path)
    if not is_kind(st.st_mode):  # type: ignore[operator]
        raise Refused(f"Refusing the shared server {kind} {path}: it is not a {kind}")
    if st.st_uid != os.getuid():
        raise Refused(
            f"Refusing the shared server {kind} {path}: it is owned by uid {st.st_uid}, "
            f"not by you (uid {os.getuid()})"
        )
    if st.st_mode & 0o077:
        raise Refused(
            f"Refusing the shared server {kind} {path}: its permissions "
            f"{stat.filemode(st.st_mode)} let other users in (it must be private to you)"
        )


def check_socket(path: Path) -> None:
    """Raise FileNotFoundError when no socket is there, Refused when it is not private."""
    check_private(path.parent, "directory", stat.S_ISDIR)
    check_private(path, "socket", stat.S_ISSOCK)


def peer(sock: socket.socket) -> tuple[int, int]:
    """(pid, uid) of the process on the other end of a unix socket (SO_PEERCRED)."""
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, _gid = struct.unpack("3i", raw)
    return pid, uid


def check_peer(sock: socket.socket) -> int:
    """The peer's pid; Refused when it runs as another user."""
    pid, uid = peer(sock)
    if uid != os.getuid():
        raise Refused(f"Refusing a shared server peer running as uid {uid} (pid {pid})")
    return pid


def write_info(place: Place, info: dict[str, Any]) -> None:
    fd = os.open(place.info, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(info, f)


def read_info(place: Place) -> dict[str, Any]:
    """What the server wrote about itself at start ({} when it is gone or unreadable)."""
    try:
        data = json.loads(place.info.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def server_pid(path: Path) -> int | None:
    """The pid of the server listening at `path` (ours, checked), None when none does."""
    try:
        check_socket(path)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(str(path))
            return check_peer(sock)
    except (OSError, Refused):
        return None


def servers(directory: Path) -> list[Place]:
    """Every shared server's place in `directory` (whatever its version or environment)."""
    return [
        Place(directory, p.name.removesuffix(".sock"))
        for p in sorted(directory.glob(f"{PREFIX}*.sock"))
    ]
