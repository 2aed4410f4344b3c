"""Per-container host configs in `~/.ssh/containai.d` and the Include line that loads them.

`ssh <container>` works from any terminal because `~/.ssh/config` starts with
`Include ~/.ssh/containai.d/*.conf`, the layout the original tool uses too. HOME is read
from the environment
at call time, so tests (and users) can point it elsewhere.
"""

from __future__ import annotations

import os
import pwd
import re
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from containai_rpc.errors import DomainError
from containai_rpc.ssh.locking import ssh_lock
from containai_rpc.workspace.config import Settings
from containai_rpc.workspace.tomlfile import atomic_write

MARKER = "# ContainAI SSH config for container:"
INCLUDE_LINE = "Include ~/.ssh/containai.d/*.conf"
SSH_USER = "agent"
INCLUDE_RE = re.compile(r"^\s*include(\s*=\s*|\s+)\S*containai\.d/\*\.conf\s*$", re.IGNORECASE)
_PORT_RE = re.compile(r"^\s*port(\s*=\s*|\s+)([0-9]{1,5})\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class HostConfig:
    """One of our host config files: the container it is for and its `Port`."""

    container: str
    path: Path
    port: int | None


def home() -> Path:
    return Path(os.environ.get("HOME") or Path.home())


def user_ssh_config() -> Path:
    return home() / ".ssh" / "config"


def host_config_dir() -> Path:
    return home() / ".ssh" / "containai.d"


def host_config_path(name: str) -> Path:
    return host_config_dir() / f"{name}.conf"


@contextmanager
def config_lock() -> Iterator[None]:
    """One lock for every write and delete here, so cleanup never races a `run`."""
    with ssh_lock("host-config", timeout_s=30.0):
        yield


def _ssh_path(path: Path) -> str:
    """A path as an ssh_config argument: quoted, `%` escaped (ssh expands %-tokens)."""
    text = str(path)
    if any(c in text for c in '"\n\r'):
        raise DomainError(
            "sshSetupFailed",
            f"Cannot write a path containing quotes or newlines into an SSH config: {text!r}",
        )
    return '"' + text.replace("%", "%%") + '"'


def render_host_config(
    name: str, port: int, key: Path, known_hosts: Path, settings: Settings
) -> str:
    """The original tool's options, so both tools write the same file; the first line is
    the marker cleanup relies on."""
    lines = [
        f"{MARKER} {name}",
        "# Auto-generated - do not edit manually",
        f"# Generated at: {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"# VS Code Remote-SSH: connect to host '{name}'",
        f"Host {name}",
        "    HostName 127.0.0.1",
        "    AddressFamily inet",
        f"    Port {port}",
        f"    User {SSH_USER}",
        f"    IdentityFile {_ssh_path(key)}",
        "    IdentitiesOnly yes",
        f"    UserKnownHostsFile {_ssh_path(known_hosts)}",
        "    StrictHostKeyChecking accept-new",
        "    PreferredAuthentications publickey",
        "    GSSAPIAuthentication no",
        "    PasswordAuthentication no",
        f"    ForwardAgent {'yes' if settings.ssh_forward_agent else 'no'}",
    ]
    for forward in settings.ssh_local_forwards:
        local, host, remote = forward.split(":")
        lines.append(f"    LocalForward {local} {host}:{remote}")
    return "\n".join(lines) + "\n"


def write_host_config(
    name: str, port: int, key: Path, known_hosts: Path, settings: Settings
) -> Path:
    """Write `<name>.conf` (0600, dir 0700) and make sure the Include line is in place."""
    path = host_config_path(name)
    text = render_host_config(name, port, key, known_hosts, settings)
    with config_lock():
        _ensure_dir(path.parent.parent, fix=False)
        _ensure_dir(path.parent, fix=True)
        if not _same_settings(path, text):  # an attach leaves the file (and its watchers) alone
            atomic_write(path, text)
        ensure_include()
    return path


def _same_settings(path: Path, text: str) -> bool:
    """Whether `path` already says `text`, apart from the generation time."""

    def settings(s: str) -> list[str]:
        return [line for line in s.splitlines() if not line.startswith("# Generated at:")]

    try:
        return is_ours(path) and settings(path.read_text(encoding="utf-8")) == settings(text)
    except (OSError, UnicodeDecodeError):
        return False


def _ensure_dir(path: Path, *, fix: bool) -> None:
    """Create with 0700; `fix` also tightens an existing one (only for our own folder)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if fix and path.stat().st_mode & 0o777 != 0o700:
        path.chmod(0o700)


def ensure_include() -> None:
    """`Include …containai.d/*.conf` as the first effective line of ~/.ssh/config.

    ssh takes the first value it finds, so the line must come before the user's own
    `Host *` blocks. The rest of the file stays byte for byte; an existing include line
    elsewhere is moved to the top; a symlinked config is written through.
    Call with `config_lock()` held.
    """
    path = user_ssh_config()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    except (OSError, UnicodeDecodeError) as exc:
        raise DomainError(
            "sshSetupFailed",
            f"{path}: cannot read it to add the Include line ({exc})",
            hint=f"Add '{INCLUDE_LINE}' as its first line yourself.",
            file=str(path),
        ) from None
    lines = text.splitlines(keepends=True)
    effective = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if effective and INCLUDE_RE.match(effective[0]):
        return
    rest = "".join(line for line in lines if not INCLUDE_RE.match(line))
    atomic_write(path, INCLUDE_LINE + "\n" + ("\n" + rest if rest else ""))


def is_ours(path: Path) -> bool:
    """Only files whose first line is our marker are ever rewritten or deleted
    (as the original's `ssh cleanup`)."""
    try:
        with path.open(encoding="utf-8", errors="replace") as f:
            return f.readline().startswith(MARKER)
    except OSError:
        return False


def configured_port(path: Path) -> int | None:
    """The `Port` of a host config file, for cleaning known_hosts when the label is gone."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        match = _PORT_RE.match(line)
        if match:
            return int(match[2])
    return None


def our_host_configs() -> list[HostConfig]:
    """Every ContainAI host config file (others in the folder are left alone)."""
    folder = host_config_dir()
    if not folder.is_dir():
        return []
    return [
        HostConfig(path.name.removesuffix(".conf"), path, configured_port(path))
        for path in sorted(folder.glob("*.conf"))
        if path.is_file() and is_ours(path)
    ]


def remove_host_config(name: str) -> int | None:
    """Delete `<name>.conf` if it is ours; returns the port it named (None if unknown)."""
    path = host_config_path(name)
    with config_lock():
        if not is_ours(path):
            return None
        port = configured_port(path)
        path.unlink(missing_ok=True)
    return port


def connect_command(name: str) -> str:
    """How a user opens a session: `ssh <name>`, plus `-F` when HOME is not the login home.

    Without `-F`, ssh reads the config of the passwd home, not `$HOME`.
    """
    try:
        login_home = Path(pwd.getpwuid(os.getuid()).pw_dir)
    except KeyError:
        login_home = None
    if login_home is not None and login_home.resolve() == home().resolve():
        return shlex.join(["ssh", name])
    return shlex.join(["ssh", "-F", str(user_ssh_config()), name])
