"""Per-container host configs in `~/.ssh/containai.d` and the Include line that loads them.

`ssh <container>` works from any terminal because `~/.ssh/config` starts with an
`Include` of `containai.d/*.conf`, the layout the original tool uses too. The Include names
the folder by its absolute path: ssh expands `~` to the login (passwd) home, not `$HOME`,
so `ssh -F $HOME/.ssh/config` would otherwise miss our files whenever the two differ. An
Include written with `~` (ours earlier, or the original's) is rewritten in place.
HOME is read from the environment at call time, so tests (and users) can point it elsewhere.

Nothing here follows a symlink or overwrites a file without our marker line
(`ssh/safefiles.py`), and `containai.d` must be ours and not group/other-writable.
"""

from __future__ import annotations

import os
import pwd
import re
import shlex
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from containai_rpc.engine.sshtunnel import SshDestination, ssh_program
from containai_rpc.errors import DomainError
from containai_rpc.ssh.locking import ssh_lock
from containai_rpc.ssh.safefiles import (
    check_not_symlink,
    ensure_private_dir,
    first_line_nofollow,
    read_nofollow,
    refused,
    strict_write,
)
from containai_rpc.workspace.config import Settings
from containai_rpc.workspace.tomlfile import atomic_write

MARKER = "# ContainAI SSH config for container:"
SSH_USER = "agent"
INCLUDE_RE = re.compile(
    r"^\s*include(?:\s*=\s*|\s+)(?P<q>\"?)(?P<path>[^\"]*containai\.d/\*\.conf)(?P=q)\s*$",
    re.IGNORECASE,
)
_PLAIN_ARG_RE = re.compile(r"^[A-Za-z0-9_./+@:,=-]+$")
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


def include_line() -> str:
    """`Include <absolute containai.d>/*.conf`: right for whatever `$HOME` we run with."""
    pattern = f"{host_config_dir()}/*.conf"
    if _PLAIN_ARG_RE.match(pattern.replace("*", "")):
        return f"Include {pattern}"
    if any(c in pattern for c in '"\n\r'):
        raise refused(
            host_config_dir(),
            "cannot be named in an SSH Include line (quotes or newlines in the path)",
            "Run with a HOME whose path has no quotes or newlines.",
        )
    return f'Include "{pattern}"'


def include_target(line: str, login_home: Path | None = None) -> Path | None:
    """The folder an `Include …containai.d/*.conf` line loads, as ssh resolves it: `~` is
    the login (passwd) home, a relative path is relative to `~/.ssh`."""
    match = INCLUDE_RE.match(line)
    if match is None:
        return None
    raw = match["path"].removesuffix("/*.conf")
    base = login_home or _login_home() or home()
    if raw == "~" or raw.startswith("~/"):
        return base / raw[2:] if raw != "~" else base
    if raw.startswith("~"):
        return None  # ~otheruser/…: not ours
    path = Path(raw)
    return path if path.is_absolute() else base / ".ssh" / path


def _login_home() -> Path | None:
    try:
        return Path(pwd.getpwuid(os.getuid()).pw_dir)
    except KeyError:
        return None


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


def proxy_command(jump: SshDestination) -> str:
    """`ProxyCommand` to the remote engine's host, with the user's own ssh config (its
    hosts, users, ports, keys), then on to the port published on that host's 127.0.0.1."""
    argv = [*ssh_program(), *jump.args()]
    argv[len(argv) - 2 : len(argv) - 2] = ["-W", "127.0.0.1:%p"]  # before `--` and the host
    return " ".join(
        shlex.quote(arg).replace("%", "%%") if arg != "127.0.0.1:%p" else arg for arg in argv
    )


def render_host_config(
    name: str,
    port: int,
    key: Path,
    known_hosts: Path,
    settings: Settings,
    jump: SshDestination | None = None,
) -> str:
    """The original tool's options, so both tools write the same file; the first line is
    the marker cleanup relies on. A container on a remote engine is reached through that
    engine's host (`jump`): its port is published on the remote's 127.0.0.1."""
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
    if jump is not None:
        lines.append(f"    ProxyCommand {proxy_command(jump)}")
    for forward in settings.ssh_local_forwards:
        local, host, remote = forward.split(":")
        lines.append(f"    LocalForward {local} {host}:{remote}")
    return "\n".join(lines) + "\n"


def write_host_config(
    name: str,
    port: int,
    key: Path,
    known_hosts: Path,
    settings: Settings,
    jump: SshDestination | None = None,
) -> Path:
    """Write `<name>.conf` (0600, dir 0700) and make sure the Include line is in place.

    Refused (`sshSetupFailed`, with the fix): a `containai.d` not ours or writable by
    group/others, a `<name>.conf` that is a symlink, or one without our marker line.
    """
    path = host_config_path(name)
    text = render_host_config(name, port, key, known_hosts, settings, jump)
    with config_lock():
        path.parent.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        ensure_private_dir(path.parent)
        if check_not_symlink(path) and not is_ours(path):
            raise refused(
                path,
                "was not written by ContainAI (its first line is not our marker); "
                "not overwriting it",
                f"Move it aside (`mv {path} {path}.bak`) or delete it, then run again.",
            )
        if not _same_settings(path, text):  # an attach leaves the file (and its watchers) alone
            strict_write(path, text)
        ensure_include()
    return path


def _same_settings(path: Path, text: str) -> bool:
    """Whether `path` already says `text`, apart from the generation time."""

    def settings(s: str) -> list[str]:
        return [line for line in s.splitlines() if not line.startswith("# Generated at:")]

    current = read_nofollow(path)
    return current is not None and is_ours(path) and settings(current) == settings(text)


def ensure_include() -> None:
    """`Include <containai.d>/*.conf` as the first effective line of ~/.ssh/config.

    ssh takes the first value it finds, so the line must come before the user's own
    `Host *` blocks. The rest of the file stays byte for byte; an include line of ours
    first in the file that does not load the folder we write (`~/.ssh/…` when `$HOME` is
    not the login home) is rewritten in place, one elsewhere is moved to the top. The
    user's own config may be a symlink (dotfile managers): it is written through, but only
    to a regular file of ours.
    Call with `config_lock()` held.
    """
    path = user_ssh_config()
    ours = include_line()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    except (OSError, UnicodeDecodeError) as exc:
        raise DomainError(
            "sshSetupFailed",
            f"{path}: cannot read it to add the Include line ({exc})",
            hint=f"Add '{ours}' as its first line yourself.",
            file=str(path),
        ) from None
    lines = text.splitlines(keepends=True)
    effective = [
        i for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#")
    ]
    if effective and INCLUDE_RE.match(lines[effective[0]]):
        if _loads_our_dir(lines[effective[0]]) and not any(
            INCLUDE_RE.match(lines[i]) for i in effective[1:]
        ):
            return
        first = effective[0]
        new = [
            ours + "\n" if i == first else line
            for i, line in enumerate(lines)
            if i == first or not INCLUDE_RE.match(line)
        ]
        _write_user_config(path, "".join(new))
        return
    rest = "".join(line for line in lines if not INCLUDE_RE.match(line))
    _write_user_config(path, ours + "\n" + ("\n" + rest if rest else ""))


def _loads_our_dir(line: str) -> bool:
    """Whether an Include line loads the folder we write (as ssh resolves `~`)."""
    target = include_target(line)
    return target is not None and _same_dir(target, host_config_dir())


def _same_dir(a: Path, b: Path) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


def _write_user_config(path: Path, text: str) -> None:
    """The user's ~/.ssh/config: through a symlink only to a regular file owned by us."""
    if path.is_symlink():
        target = path.resolve()
        try:
            st = target.stat()
        except FileNotFoundError:
            st = None
        if st is not None and (not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid()):
            raise refused(
                path,
                f"is a symlink to {target}, which is not a regular file of yours; "
                "not writing through it",
                f"Add '{include_line()}' as the first line of the file yourself.",
            )
    atomic_write(path, text)


def is_ours(path: Path) -> bool:
    """Only regular files (never symlinks) whose first line is our marker are ever
    rewritten or deleted (as the original's `ssh cleanup`)."""
    line = first_line_nofollow(path)
    return line is not None and line.startswith(MARKER)


def configured_port(path: Path) -> int | None:
    """The `Port` of a host config file, for cleaning known_hosts when the label is gone."""
    try:
        text = read_nofollow(path)
    except DomainError:
        return None
    if text is None:
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
        if is_ours(path)
    ]


def foreign_entries() -> list[Path]:
    """`*.conf` files in containai.d that ssh would load but we did not write (symlinks,
    files without our marker): doctor names them, nothing deletes them."""
    folder = host_config_dir()
    if not folder.is_dir():
        return []
    return [path for path in sorted(folder.glob("*.conf")) if not is_ours(path)]


def remove_host_config(name: str) -> int | None:
    """Delete `<name>.conf` if it is ours; returns the port it named (None if unknown)."""
    path = host_config_path(name)
    with config_lock():
        if not is_ours(path):
            return None
        port = configured_port(path)
        path.unlink(missing_ok=True)
    return port


def connect_argv(name: str) -> list[str]:
    """How a user opens a session: `ssh <name>`, plus `-F` when HOME is not the login home.

    Without `-F`, ssh reads the config of the passwd home, not `$HOME`.
    """
    login_home = _login_home()
    if login_home is not None and login_home.resolve() == home().resolve():
        return ["ssh", name]
    return ["ssh", "-F", str(user_ssh_config()), name]


def connect_command(name: str) -> str:
    """`connect_argv` as one command line."""
    return shlex.join(connect_argv(name))
