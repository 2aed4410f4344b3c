"""Start verification: what `run` promises about a container before it answers.

After create and start: the container runs; where PID 1 is systemd,
`systemctl is-system-running` settles on `running` (or `degraded`, reported as a
warning naming the failed units); sshd answers on 127.0.0.1:<port>; our key is
authorised, known_hosts and the host config are in place, and a key login works.
On attach only the quick part runs (short sshd check, no systemd wait) and SSH
problems become warnings, as in the original — except a changed host key, which is
never accepted silently.

Every step has its own deadline and reason: `startTimeout`, `startFailed`,
`sshdTimeout`, `sshSetupFailed`, `hostKeyChanged`. The sshd deadline after a create or
start (30 s, the original's) is a parameter (`Service(sshd_timeout_s=…)`), so a test can
show that a dead sshd fails fast.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Literal, TypeVar

from containai_rpc.engine import ContainerInfo, Engine
from containai_rpc.engine.sshtunnel import SshDestination
from containai_rpc.errors import DomainError
from containai_rpc.protocol.models import RunAction, SshEndpoint
from containai_rpc.service.hooks import Hooks
from containai_rpc.ssh import access, hostconfig, keys, known_hosts
from containai_rpc.workspace.config import Settings

RUNNING_DEADLINE_S = 15.0
SYSTEMD_DEADLINE_S = 60.0
SSHD_DEADLINE_S = 30.0
ATTACH_SSHD_DEADLINE_S = 3.0
PROBE_TIMEOUT_S = 10.0
SSH_UNITS = ("ssh.service", "sshd.service", "ssh.socket")
# `is-system-running` answers that end the wait; anything else (`starting`, `initializing`,
# or an error while systemd's bus is not up yet in early boot) means "ask again".
SETTLED_STATES = ("running", "degraded", "maintenance", "stopping")
_UNIT_RE = re.compile(r"^\S+\.[a-z]+$")  # `foo.service`, not `Failed` of an error line

Phase = Literal["create", "start", "attach"]  # create: new host keys expected
T = TypeVar("T")


def _poll(deadline_s: float, hooks: Hooks, step: Callable[[], T | None]) -> T | None:
    """`step()` until it returns a value, or None once the deadline has passed.

    A bounded poll with backoff, for states the engine sends no event for; a cancelled
    request stops at the next round.
    """
    deadline = time.monotonic() + deadline_s
    delay = 0.02
    while True:
        hooks.checkpoint()
        value = step()
        if value is not None:
            return value
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        time.sleep(min(delay, remaining))
        delay = min(delay * 2, 0.5)


def wait_running(engine: Engine, container_id: str, hooks: Hooks) -> ContainerInfo:
    """Poll the state with a deadline (the original: 30 x 0.5 s)."""
    last: list[ContainerInfo] = []

    def step() -> ContainerInfo | None:
        info = engine.require(container_id)
        last[:] = [info]
        if info.state in ("exited", "dead"):
            raise DomainError(
                "startFailed",
                f"Container '{info.name}' exited right after start (state: {info.state})",
                hint=f"See 'docker logs {info.name}'.",
            )
        return info if info.running else None

    found = _poll(RUNNING_DEADLINE_S, hooks, step)
    if found is None:
        info = last[0]
        raise DomainError(
            "startTimeout",
            f"Container '{info.name}' did not reach running within "
            f"{RUNNING_DEADLINE_S:.0f} s (state: {info.state})",
            hint=f"See 'docker logs {info.name}'.",
        )
    return found


def _output(engine: Engine, info: ContainerInfo, argv: list[str]) -> str | None:
    """A probe's output whatever its exit code; None when it could not run or hit the deadline."""
    try:
        result = engine.exec(info.id, argv, timeout_s=PROBE_TIMEOUT_S)
    except DomainError as exc:
        if exc.reason == "engineUnavailable":
            raise
        return None
    return None if result.exit_code is None else result.output


def failed_units(engine: Engine, info: ContainerInfo) -> list[str]:
    output = _output(engine, info, ["systemctl", "--failed", "--plain", "--no-legend"]) or ""
    units = (line.replace("●", " ").split() for line in output.splitlines())
    return [fields[0] for fields in units if fields and _UNIT_RE.match(fields[0])]


def check_systemd(engine: Engine, info: ContainerInfo, hooks: Hooks) -> list[str]:
    """Warnings (degraded) or `startFailed`; nothing to check when PID 1 is not systemd."""
    if (_output(engine, info, ["cat", "/proc/1/comm"]) or "").strip() != "systemd":
        return []
    hooks.progress(f"Waiting for systemd in {info.name}")
    last = ["unknown"]

    def step() -> str | None:
        words = (_output(engine, info, ["systemctl", "is-system-running"]) or "").split()
        last[0] = words[0] if len(words) == 1 else "unknown"
        return last[0] if last[0] in SETTLED_STATES else None

    state = _poll(SYSTEMD_DEADLINE_S, hooks, step)
    if state == "running":
        return []
    units = failed_units(engine, info)
    named = ", ".join(units) or "none reported"
    hint = f"See 'docker exec {info.name} systemctl --failed' and 'journalctl -b'."
    if state is None:
        raise DomainError(
            "startFailed",
            f"systemd in {info.name} was still '{last[0]}' after {SYSTEMD_DEADLINE_S:.0f} s "
            f"(failed units: {named})",
            hint=hint,
            state=last[0],
            units=units,
        )
    sshd_failed = info.ssh_port is not None and set(units) & set(SSH_UNITS)
    if state != "degraded" or sshd_failed:
        raise DomainError(
            "startFailed",
            f"systemd in {info.name} is '{state}' (failed units: {named})",
            hint=hint,
            state=state,
            units=units,
        )
    return [f"systemd in {info.name} is degraded; failed units: {named}"]


def wait_sshd(
    engine: Engine, info: ContainerInfo, port: int, deadline_s: float, hooks: Hooks
) -> None:
    """The `SSH-` banner on 127.0.0.1:<port>; a container that stops meanwhile fails at once."""
    where = f"127.0.0.1:{port}" + (f" of {engine.host}" if engine.tunnel is not None else "")
    hooks.progress(f"Waiting for sshd on {where}")
    checked = [time.monotonic()]
    channel = engine.tunnel.channel_argv(port) if engine.tunnel is not None else None

    def step() -> bool | None:
        if access.banner(port, timeout_s=min(2.0, deadline_s), channel=channel):
            return True
        if time.monotonic() - checked[0] >= 1.0:
            checked[0] = time.monotonic()
            current = engine.require(info.id)
            if not current.running:
                raise DomainError(
                    "startFailed",
                    f"Container '{info.name}' stopped while waiting for sshd "
                    f"(state: {current.state})",
                    hint=f"See 'docker logs {info.name}'.",
                )
        return None

    if _poll(deadline_s, hooks, step) is None:
        raise DomainError(
            "sshdTimeout",
            f"sshd in {info.name} did not answer on {where} within {deadline_s:g} s",
            hint=f"Check 'docker exec {info.name} systemctl status ssh' (is sshd installed "
            "and enabled?); images without sshd should carry the label "
            "containai.image.ssh=false.",
            port=port,
        )


def setup_ssh(
    engine: Engine,
    info: ContainerInfo,
    port: int,
    settings: Settings,
    phase: Phase,
    hooks: Hooks,
    sshd_deadline_s: float = SSHD_DEADLINE_S,
) -> SshEndpoint:
    """sshd ready → key authorised → known_hosts → host config → a real key login.

    `sshd_deadline_s` bounds the wait for sshd after a create or start; attaching to a
    running container waits `ATTACH_SSHD_DEADLINE_S` at most.
    """
    endpoint = SshEndpoint(host=info.name, port=port, command=hostconfig.connect_command(info.name))
    if phase == "attach" and _still_reachable(engine, info, port, settings):
        return endpoint
    deadline_s = ATTACH_SSHD_DEADLINE_S if phase == "attach" else sshd_deadline_s
    wait_sshd(engine, info, port, deadline_s, hooks)
    hooks.progress(f"Setting up SSH access to {info.name}")
    access.inject_key(engine, info, keys.ensure_key())
    host_keys = access.host_keys(engine, info)
    if phase == "create":
        known_hosts.replace(port, host_keys)
    else:
        known_hosts.check(port, host_keys, info.name)
    config = hostconfig.write_host_config(
        info.name, port, keys.key_path(), known_hosts.known_hosts_path(), settings, _jump(engine)
    )
    hooks.progress(f"Checking SSH login to {info.name}")
    access.login(info.name, str(config))
    return endpoint


def _jump(engine: Engine) -> SshDestination | None:
    """The host a container on a remote engine is reached through; None for a local one."""
    return engine.tunnel.dest if engine.tunnel is not None else None


def _still_reachable(engine: Engine, info: ContainerInfo, port: int, settings: Settings) -> bool:
    """Attach fast path: a key login against host keys we already trust proves the key is
    authorised and the sshd is the one we verified (the running container holds the port),
    so the two `docker exec`s of the full set-up are not needed. Any failure → full path."""
    if not known_hosts.has_entries(port):
        return False
    config = hostconfig.write_host_config(
        info.name, port, keys.key_path(), known_hosts.known_hosts_path(), settings, _jump(engine)
    )
    if not keys.key_path().exists():
        return False
    try:
        access.login(info.name, str(config))
    except DomainError:
        return False
    return True


def verify_start(
    engine: Engine,
    info: ContainerInfo,
    settings: Settings,
    action: RunAction,
    hooks: Hooks,
    *,
    sshd_deadline_s: float = SSHD_DEADLINE_S,
) -> tuple[SshEndpoint | None, list[str]]:
    """(connection details or None without SSH, warnings) for a container `run` just
    created, recreated, started or attached to."""
    phase: Phase = "attach" if action == "attach" else "start" if action == "start" else "create"
    warnings = [] if phase == "attach" else check_systemd(engine, info, hooks)
    port = info.ssh_port
    if port is None:  # images labelled containai.image.ssh=false get no port
        return None, warnings
    try:
        endpoint = setup_ssh(engine, info, port, settings, phase, hooks, sshd_deadline_s)
        return endpoint, warnings
    except DomainError as exc:
        if phase != "attach" or exc.reason in ("hostKeyChanged", "engineUnavailable"):
            raise
        warnings.append(f"SSH setup failed: {exc.message}")
        return None, warnings
