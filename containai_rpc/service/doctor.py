"""`doctor`: is this machine ready for `cai run`, and if not, what to do first (spec §11).

Never raises for a broken engine, context or config: each problem is a check result.
Bounded: the engines of all managed contexts are probed at once (`EngineSet.each`, 3 s,
ssh 5 s), `ssh -V` has a timeout, the rest reads local files and binds local ports.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

from containai_rpc.engine import EngineInfo, EngineSet
from containai_rpc.errors import DomainError
from containai_rpc.protocol.doctor import (
    Check,
    CheckStatus,
    DoctorParams,
    DoctorResult,
    RecommendedAction,
)
from containai_rpc.protocol.models import Isolation
from containai_rpc.ssh import hostconfig, keys
from containai_rpc.ssh.ports import port_is_free
from containai_rpc.workspace.config import DEFAULT_IMAGE, Settings, load_settings
from containai_rpc.workspace.state import load_user_config, user_config_path

MIN_KERNEL = (5, 5)
"""What Sysbox needs (the original's doctor checks the same)."""
MIN_OPENSSH = (7, 3)
"""`Include` in ssh_config arrived in OpenSSH 7.3."""
SSH_VERSION_TIMEOUT_S = 5.0
FEW_PORTS = 5
ACTIONS: tuple[RecommendedAction, ...] = get_args(RecommendedAction)[1:]
"""Priority of the actions, most fundamental first (the order of the wire Literal)."""


@dataclass(frozen=True)
class Finding:
    """A check plus the action that fixes it when it is an error."""

    check: Check
    action: RecommendedAction | None = None


def finding(
    id: str,
    title: str,
    status: CheckStatus,
    detail: str,
    hint: str | None = None,
    action: RecommendedAction | None = None,
) -> Finding:
    """An error must name its action, so `ok: false` never comes with `ready`."""
    assert (status == "error") == (action is not None), id
    return Finding(Check(id=id, title=title, status=status, detail=detail, hint=hint), action)


@dataclass(frozen=True)
class Engines:
    """What the engine probes found: the selected context's facts or its error."""

    context: str
    selected: EngineInfo | DomainError
    others: list[tuple[str, EngineInfo | DomainError]]


# --------------------------------------------------------------------------- config


def config_checks() -> tuple[list[Finding], Settings | None]:
    """The state file (workspace state and keep lists) and the settings built on it."""
    path = user_config_path()
    try:
        load_user_config()
    except DomainError as exc:
        return [
            finding("config.state", "State file", "error", exc.message, exc.hint, "fixConfig"),
            finding("config.settings", "Settings", "skip", "The state file cannot be read."),
        ], None
    state = finding(
        "config.state",
        "State file",
        "ok",
        str(path) if path.exists() else f"{path} (not created yet: the first run writes it)",
    )
    try:
        settings = load_settings()
    except DomainError as exc:
        return [
            state,
            finding("config.settings", "Settings", "error", exc.message, exc.hint, "fixConfig"),
        ], None
    start, end = settings.ssh_port_range
    detail = f"image {settings.image}, SSH ports {start}-{end}"
    return [state, finding("config.settings", "Settings", "ok", detail)], settings


# --------------------------------------------------------------------------- engines


def probe_engines(engines: EngineSet, context: str | None) -> Engines:
    """The selected context (or `context`) and every other managed one, concurrently."""
    selected = context or engines.default_context()
    names = [selected, *(n for n in engines.managed_contexts() if n != selected)]
    found = engines.each(names, lambda engine: engine.info(refresh=True))
    return Engines(selected, found[0][1], found[1:])


def _engine_detail(info: EngineInfo) -> str:
    return f"Docker {info.server_version} (API {info.api_version}) at {info.endpoint}"


def engine_checks(probed: Engines) -> list[Finding]:
    out = []
    selected = probed.selected
    title = f"Docker engine (context '{probed.context}')"
    if isinstance(selected, DomainError):
        bad_context = selected.reason in ("contextNotFound", "contextInvalid")
        action: RecommendedAction = "fixConfig" if bad_context else "startDocker"
        out.append(
            finding("docker.engine", title, "error", selected.message, selected.hint, action)
        )
    else:
        out.append(finding("docker.engine", title, "ok", _engine_detail(selected)))
    for name, info in probed.others:
        check_id, other = f"docker.context.{name}", f"Context '{name}'"
        if isinstance(info, DomainError):  # the selected one still works: not fatal
            out.append(finding(check_id, other, "warn", info.message, info.hint))
        else:
            out.append(finding(check_id, other, "ok", _engine_detail(info)))
    return out


# --------------------------------------------------------------------------- isolation


def expected_isolation(info: EngineInfo | DomainError, settings: Settings) -> Isolation | None:
    """What `run` would create with: Sysbox, runc with the opt-in, else nothing."""
    if isinstance(info, DomainError):
        return None
    if info.has_sysbox:
        return "sysbox"
    return "runc-reduced" if settings.allow_reduced_isolation else None


def isolation_checks(
    info: EngineInfo | DomainError, settings: Settings, isolation: Isolation | None
) -> list[Finding]:
    title = "Isolation runtime"
    if isinstance(info, DomainError):
        runtime = finding("isolation.runtime", title, "skip", "The engine does not answer.")
        kernel = os.uname().release
        where = "this host"
    else:
        runtimes = ", ".join(info.runtimes) or "none"
        if isolation == "sysbox":
            runtime = finding("isolation.runtime", title, "ok", f"sysbox-runc ({runtimes})")
        elif isolation == "runc-reduced":
            runtime = finding(
                "isolation.runtime",
                title,
                "warn",
                f"runc-reduced: no sysbox-runc on this engine ({runtimes}); containers run "
                "under runc with CAP_SYS_ADMIN (reduced isolation, opted in)",
                "Install Sysbox on the engine's host for full isolation; 'cai run' then "
                "uses sysbox-runc by itself.",
            )
        else:
            runtime = finding(
                "isolation.runtime",
                title,
                "error",
                f"No isolation available: no sysbox-runc on this engine ({runtimes})",
                "Install Sysbox on the engine's host (or use a context with it, e.g. "
                "containai-docker), or opt in to reduced isolation: "
                "CONTAINAI_ALLOW_REDUCED_ISOLATION=1 or [isolation] allow_reduced = true.",
                "enableIsolation",
            )
        kernel, where = info.kernel_version, "engine host"
    return [runtime, _kernel_check(kernel, where, reduced=isolation == "runc-reduced")]


def _kernel_check(release: str, where: str, *, reduced: bool) -> Finding:
    title = "Kernel version"
    match = re.match(r"(\d+)\.(\d+)", release)
    if match is None:
        return finding("isolation.kernel", title, "warn", f"Unrecognised: {release!r} ({where})")
    version = (int(match[1]), int(match[2]))
    detail = f"{version[0]}.{version[1]} ({where})"
    if version >= MIN_KERNEL:
        return finding("isolation.kernel", title, "ok", detail)
    need = f"{detail}: Sysbox needs {MIN_KERNEL[0]}.{MIN_KERNEL[1]} or newer"
    hint = "Upgrade the kernel of the engine's host."
    if reduced:  # runc does not care; only the way to full isolation is blocked
        return finding("isolation.kernel", title, "warn", need, hint)
    return finding("isolation.kernel", title, "error", need, hint, "enableIsolation")


# --------------------------------------------------------------------------- image


def image_check(engines: EngineSet, probed: Engines, image: str) -> tuple[Finding, list[int]]:
    """Whether the default image is in the selected context, and the SSH ports its
    managed containers hold (for the port check)."""
    title, context = f"Image {image}", probed.context
    if isinstance(probed.selected, DomainError):
        return finding("image.default", title, "skip", "The engine does not answer."), []
    engine = engines.get(context)
    try:
        present = engine.image_labels(image) is not None
        held = sorted(engine.managed_ports())
    except DomainError as exc:
        return finding("image.default", title, "error", exc.message, exc.hint, "startDocker"), []
    if present:
        return finding("image.default", title, "ok", f"present in context '{context}'"), held
    build = (
        "Build it in a containai-rpc checkout: 'make setup' (scripts/images.sh, no registry "
        "needed), or with a registry 'DOCKER_BUILDKIT=0 docker build -f "
        f"images/containai/Dockerfile.registry -t {image} images'"
    )
    if image != DEFAULT_IMAGE:
        build += f"; or pull it: docker --context {context} pull {image}"
    missing = finding(
        "image.default",
        title,
        "error",
        f"not found in context '{context}'",
        build + ".",
        "buildImage",
    )
    return missing, held


# --------------------------------------------------------------------------- ssh


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


def ssh_key_check() -> Finding:
    path, title = keys.key_path(), "SSH key"
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
    return finding("ssh.configDir", title, "ok", f"{path} ({count} host config(s))")


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
    top = f"Put '{hostconfig.INCLUDE_LINE}' first in {path} (the next run does it too)."
    if includes and hostconfig.INCLUDE_RE.match(effective[0]):
        return finding("ssh.include", title, "ok", f"{path}: {includes[0].strip()}")
    if includes:
        detail = f"{path}: present but not first, so earlier Host blocks win"
        return finding("ssh.include", title, "warn", detail, top)
    if _host_configs():
        detail = f"{path}: missing, so 'ssh <container>' does not find the containers"
        return finding("ssh.include", title, "warn", detail, top)
    return finding("ssh.include", title, "ok", f"{path}: not added yet (the first run adds it)")


def ports_check(port_range: tuple[int, int], held: list[int]) -> Finding:
    """How many ports of the range a new container could still get (spec §4.5)."""
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
        "Remove unused containers (cai stop --all --remove, cai gc) or widen "
        "[ssh] port_range_start/port_range_end."
    )
    if free == 0:
        return finding("ssh.ports", title, "error", detail, hint, "fixConfig")
    if free < FEW_PORTS:
        return finding("ssh.ports", title, "warn", detail, hint)
    return finding("ssh.ports", title, "ok", detail)


# --------------------------------------------------------------------------- all of it


def doctor(engines: Callable[[], EngineSet], p: DoctorParams) -> DoctorResult:
    """Every check; `engines()` may fail (a broken config): the defaults are probed then."""
    findings, settings = config_checks()
    try:
        engine_set, own = engines(), False
    except DomainError:
        engine_set, own = EngineSet(), True
    try:
        effective = settings or Settings()
        probed = probe_engines(engine_set, p.context)
        isolation = expected_isolation(probed.selected, effective)
        image, held = image_check(engine_set, probed, effective.image)
    finally:
        if own:
            engine_set.close()
    findings = [
        *engine_checks(probed),
        *isolation_checks(probed.selected, effective, isolation),
        image,
        ssh_client_check(),
        ssh_key_check(),
        ssh_dir_check(),
        ssh_include_check(),
        ports_check(effective.ssh_port_range, held),
        *findings,
    ]
    failing = {f.action for f in findings if f.check.status == "error"}
    action = next((a for a in ACTIONS if a in failing), "ready")
    return DoctorResult(
        ok=not any(f.check.status == "error" for f in findings),
        recommended_action=action,
        isolation=isolation,
        checks=[f.check for f in findings],
    )
