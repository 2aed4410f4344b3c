"""Which methods and notifications exist, with their models: the server binds from this,
the schema and protocol.md are generated from it, and a test checks both against it."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from containai_rpc.protocol import backup, doctor, gc, idle, ssh
from containai_rpc.protocol import models as m


@dataclass(frozen=True)
class Method:
    """A request the server answers; `operation` names the `Service` method behind it."""

    name: str
    params: type[BaseModel]
    result: type[BaseModel]
    operation: str
    summary: str
    long_running: bool = False


@dataclass(frozen=True)
class Notification:
    name: str
    params: type[BaseModel]
    summary: str


METHODS: tuple[Method, ...] = (
    Method(
        "containai/run",
        m.RunParams,
        m.RunResult,
        "run",
        "Create the workspace's container if missing, start it if stopped, attach if running; "
        "fresh/reset recreate it.",
        long_running=True,
    ),
    Method(
        "containai/stop",
        m.StopParams,
        m.StopResult,
        "stop",
        "Stop (or remove) one container or all managed ones; volumes are never removed.",
        long_running=True,
    ),
    Method(
        "containai/status",
        m.StatusParams,
        m.StatusResult,
        "status",
        "State, image, uptime, sessions and resources of one container.",
    ),
    Method(
        "containai/list",
        m.ListParams,
        m.ListResult,
        "list",
        "Every managed container of every managed context, with the live revision.",
    ),
    Method(
        "containai/configGet",
        m.ConfigGetParams,
        m.ConfigGetResult,
        "config_get",
        "A setting's effective value and where it comes from.",
    ),
    Method(
        "containai/gc",
        gc.GcParams,
        gc.GcResult,
        "gc",
        "Remove stale stopped managed containers (and unused ContainAI images) in every "
        "managed context; never a running or kept container, never a volume.",
        long_running=True,
    ),
    Method(
        "containai/keep",
        gc.KeepParams,
        gc.KeepResult,
        "keep",
        "Protect an existing container from gc, or stop protecting it.",
    ),
    Method(
        "containai/export",
        backup.ExportParams,
        backup.ExportResult,
        "export",
        "Write a data volume's files (and the workspace's state entry) to a .tgz file; the "
        "file appears under its name only when complete.",
        long_running=True,
    ),
    Method(
        "containai/import",
        backup.ImportParams,
        backup.ImportResult,
        "import_",
        "Check an exported archive completely, then restore it into a new or empty volume; "
        "a non-empty volume only with force.",
        long_running=True,
    ),
    Method(
        "containai/postponeIdleStop",
        m.TargetParams,
        idle.PostponeIdleStopResult,
        "postpone_idle_stop",
        "Count now as activity for a running container: its idle auto-stop moves one idle "
        "period ahead.",
    ),
    Method(
        "containai/sshCleanup",
        ssh.SshCleanupParams,
        ssh.SshCleanupResult,
        "ssh_cleanup",
        "Remove the SSH host configs and known_hosts entries of containers that no longer "
        "exist in any reachable context; never a file without the ContainAI marker.",
    ),
    Method(
        "containai/doctor",
        doctor.DoctorParams,
        doctor.DoctorResult,
        "doctor",
        "Check engine, contexts, isolation, image, SSH, ports and config; every problem is "
        "a check result with a hint, plus the one action to take first.",
    ),
)

NOTIFICATIONS: tuple[Notification, ...] = (
    Notification(
        "containai/containerChanged",
        m.ContainerChanged,
        "A managed container changed; carries the full snapshot after the change.",
    ),
    Notification(
        "containai/engineStatus",
        m.EngineStatus,
        "Engine health, after `initialized` and on every change.",
    ),
    Notification(
        "containai/idleWarning",
        idle.IdleWarning,
        "A container will stop itself at `autoStopAt` unless used (or postponed) before.",
    ),
)


def method(name: str) -> Method:
    return next(x for x in METHODS if x.name == name)
