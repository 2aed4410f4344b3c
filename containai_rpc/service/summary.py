"""Engine facts → protocol snapshots (the guide's status vocabulary, RFC 3339 times)."""

from __future__ import annotations

from containai_rpc.core.ages import parse_docker_time, to_rfc3339
from containai_rpc.engine import ContainerInfo
from containai_rpc.protocol.models import ContainerStatus, ContainerSummary

_STATUS: dict[str, ContainerStatus] = {
    "running": "running",
    "exited": "stopped",
    "created": "created",
    "paused": "paused",
    "restarting": "restarting",
    "dead": "dead",
    "removing": "stopped",
}


def guide_status(docker_state: str) -> ContainerStatus:
    return _STATUS.get(docker_state, "dead")


def iso(value: str | None) -> str | None:
    parsed = parse_docker_time(value or "")
    return to_rfc3339(parsed) if parsed else None


def isolation_of(info: ContainerInfo) -> str:
    return "sysbox" if info.runtime == "sysbox-runc" else "runc-reduced"


def to_summary(
    info: ContainerInfo, kept: frozenset[str] | set[str] = frozenset()
) -> ContainerSummary:
    """The snapshot `list`, `status` and notifications share."""
    running = info.state in ("running", "paused", "restarting")
    return ContainerSummary(
        id=info.id,
        name=info.name,
        context=info.context,
        status=guide_status(info.state),
        docker_state=info.state,
        image=info.image,
        workspace=info.workspace,
        data_volume=info.mounted_volume() or info.data_volume,
        ssh_port=info.ssh_port,
        keep=info.keep_label or info.name in kept,
        created_at=iso(info.created_at),
        started_at=iso(info.started_at),
        finished_at=None if running else iso(info.finished_at),
    )
