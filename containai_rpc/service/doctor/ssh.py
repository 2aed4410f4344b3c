"""Doctor: the OpenSSH client, ~/.ssh, our key and its folder, the host-config folder and
what is in it, the Include line (and the folder it really loads), ports."""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path

from containai_rpc.errors import DomainError
from containai_rpc.service.doctor.findings import Finding, finding
from containai_rpc.ssh import hostconfig, keys
from containai_rpc.ssh.ports import port_is_free
from containai_rpc.ssh.safefiles import dir_problem

MIN_OPENSSH = (7, 3)
"""`Include` in ssh_config arrived in OpenSSH 7.3."""
SSH_VERSION_TIMEOUT_S = 5.0
FEW_PORTS = 5


def ssh_client_check() -> Finding:
    title = "OpenSSH client"
    install = "Install the OpenSSH client (e.g. apt-get install openssh-client)."
    try:
        done = subprocess.run(
            ["ssh", "-V"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=SSH_VERSION_TIMEOUT_S,
            check=False,
        )
    except FileNotFoundError:
        return finding("ssh.client", title, "error", "ssh is not installed", install, "setupSsh")
    except subprocess.TimeoutExpired:
        return finding("ssh.client", title, "warn", "'ssh -V' did not answer in time")
    text = (done.stderr or done.stdout).strip()
    match = re.match(r"OpenSSH_(\d+)\.(\d+)(p\d+)?", text)
    if match is None:
        return finding("ssh.client", title, "warn", f"Not OpenSSH? 'ssh -V' said: {text[:80]}")
    version = f"{match[1]}.{match[2]}{match[3] or ''}"
    if (int(match[1]), int(match[2])) < MIN_OPENSSH:
        need = f"OpenSSH {version}: 7.3 or newer is needed (Include)"
        return finding("ssh.client", title, "error", need, install, "setupSsh")
    return finding("ssh.client", title, "ok", f"OpenSSH {version}")


def _not_yet(path: Path) -> str:
    return f"{path} (not created yet: the first run creates it)"


def ssh_home_check() -> Finding:
    """`~/.ssh` writable by group or others: anyone could add host configs ssh loads."""
    path, title = hostconfig.home() / ".ssh", "~/.ssh"
    try:
        st = path.stat()
    except FileNotFoundError:
        return finding("ssh.home", title, "ok", _not_yet(path))
    except OSError as exc:
        return finding("ssh.home", title, "warn", f"{path}: {exc.strerror or exc}")
    if not stat.S_ISDIR(st.st_mode):
        return finding(
            "ssh.home",
            title,
            "error",
            f"{path} is not a directory",
            f"Move it aside (`mv {path} {path}.bak`).",
            "setupSsh",
        )
    if st.st_uid != os.getuid() or st.st_mode & 0o022:
        detail = (
            f"{path} is owned by uid {st.st_uid}, not by you"
            if st.st_uid != os.getuid()
            else f"{path} has mode {stat.S_IMODE(st.st_mode):o}: group or others can "
            "change your SSH configuration"
        )
        return finding(
            "ssh.home",
            title,
            "warn",
            detail,
            f"Run `chmod 700 {path}` (and chown it to yourself), then check its files.",
        )
    return finding("ssh.home", title, "ok", f"{path} (mode {stat.S_IMODE(st.st_mode):o})")


def ssh_key_check() -> Finding:
    path, title = keys.key_path(), "SSH key"
    problem = dir_problem(path.parent)
    if problem is not None:
        what, hint = problem
        return finding("ssh.key", title, "error", f"{path.parent} {what}", hint, "setupSsh")
    if path.is_symlink() or path.with_name(path.name + ".pub").is_symlink():
        return finding(
            "ssh.key",
            title,
            "error",
            f"{path} or its .pub is a symbolic link; ContainAI does not follow it",
            f"Remove the link(s) (`rm {path} {path}.pub`); the next run creates a new key.",
            "setupSsh",
        )
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return finding("ssh.key", title, "ok", _not_yet(path))
    except OSError as exc:
        return finding(
            "ssh.key", title, "error", f"{path}: {exc.strerror or exc}", None, "setupSsh"
        )
    if not stat.S_ISREG(mode):
        return finding(
            "ssh.key",
            title,
            "error",
            f"{path} is not a file",
            "Move it aside; the next run creates a new key.",
            "setupSsh",
        )
    if mode & 0o077:
        return finding(
            "ssh.key",
            title,
            "warn",
            f"{path} has mode {stat.S_IMODE(mode):o}: ssh refuses a key others can read",
            f"chmod 600 {path} (the next run does it too).",
        )
    return finding("ssh.key", title, "ok", str(path))


def ssh_dir_check() -> Finding:
    path, title = hostconfig.host_config_dir(), "SSH config dir"
    if not path.exists():
        return finding("ssh.configDir", title, "ok", _not_yet(path))
    problem = dir_problem(path)
    if problem is not None:
        what, hint = problem
        return finding("ssh.configDir", title, "error", f"{path} {what}", hint, "setupSsh")
    if not path.is_dir() or not os.access(path, os.R_OK | os.W_OK | os.X_OK):
        return finding(
            "ssh.configDir",
            title,
            "error",
            f"{path} is not a writable directory",
            f"Move {path} aside (or make it yours, mode 700); the next run recreates it.",
            "setupSsh",
        )
    count = _host_configs()
    foreign = _foreign_entries()
    if foreign:
        names = ", ".join(p.name + (" (symlink)" if p.is_symlink() else "") for p in foreign)
        return finding(
            "ssh.configDir",
            title,
            "warn",
            f"{path}: {len(foreign)} file(s) ssh loads that ContainAI did not write: {names}",
            f"Check them; move away what you did not put there (e.g. `mv {foreign[0]} "
            f"{foreign[0]}.bak`). A run never overwrites them.",
        )
    return finding("ssh.configDir", title, "ok", f"{path} ({count} host config(s))")


def _foreign_entries() -> list[Path]:
    try:
        return hostconfig.foreign_entries()
    except OSError:
        return []


def _host_configs() -> int:
    """How many ContainAI host configs exist (0 when the folder cannot be read)."""
    try:
        return len(hostconfig.our_host_configs())
    except OSError:
        return 0


def ssh_include_check() -> Finding:
    """`Include …containai.d/*.conf` must be the first effective line of ~/.ssh/config."""
    path, title = hostconfig.user_ssh_config(), "Include in ~/.ssh/config"
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        lines = []
    except OSError as exc:
        return finding(
            "ssh.include", title, "error", f"{path}: {exc.strerror or exc}", None, "setupSsh"
        )
    effective = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    includes = [line for line in effective if hostconfig.INCLUDE_RE.match(line)]
    try:
        wanted = hostconfig.include_line()
    except DomainError as exc:
        return finding("ssh.include", title, "error", exc.message, exc.hint, "setupSsh")
    top = f"Put '{wanted}' first in {path} (the next run does it too)."
    if includes and hostconfig.INCLUDE_RE.match(effective[0]):
        loads = hostconfig.include_target(effective[0])
        ours = hostconfig.host_config_dir()
        if loads is None or os.path.realpath(loads) != os.path.realpath(ours):
            where = loads or "another user's folder"
            detail = (
                f"{path}: '{effective[0].strip()}' loads {where}, "
                f"not {ours} where ContainAI writes (ssh expands ~ to the login home, "
                "not $HOME)"
            )
            return finding("ssh.include", title, "warn", detail, top)
        return finding("ssh.include", title, "ok", f"{path}: {includes[0].strip()}")
    if includes:
        detail = f"{path}: present but not first, so earlier Host blocks win"
        return finding("ssh.include", title, "warn", detail, top)
    if _host_configs():
        detail = f"{path}: missing, so 'ssh <container>' does not find the containers"
        return finding("ssh.include", title, "warn", detail, top)
    return finding("ssh.include", title, "ok", f"{path}: not added yet (the first run adds it)")


def ports_check(port_range: tuple[int, int], held: list[int]) -> Finding:
    """How many ports of the range a new container could still get ."""
    start, end = port_range
    title = f"SSH ports {start}-{end}"
    ports = range(start, end + 1)
    by_containers = {p for p in held if start <= p <= end}
    busy = [p for p in ports if p not in by_containers and not port_is_free(p)]
    free = len(ports) - len(by_containers) - len(busy)
    detail = (
        f"{free} of {len(ports)} free ({len(by_containers)} held by containers, "
        f"{len(busy)} by other processes)"
    )
    hint = (
        "Remove unused containers (stop with remove, or gc) or widen "
        "[ssh] port_range_start/port_range_end."
    )
    if free == 0:
        return finding("ssh.ports", title, "error", detail, hint, "fixConfig")
    if free < FEW_PORTS:
        return finding("ssh.ports", title, "warn", detail, hint)
    return finding("ssh.ports", title, "ok", detail)
