"""Engine facts → protocol snapshots (the user-facing status vocabulary, RFC 3339 times)."""

from __future__ import annotations

from dataclasses import dataclass

from containai_rpc.core.ages import parse_docker_time, to_rfc3339
from containai_rpc.core.states import guide_status, is_active
from containai_rpc.engine import ContainerInfo
from containai_rpc.protocol.gc import KeepSource
from containai_rpc.protocol.models import ContainerSummary, Isolation
from containai_rpc.workspace.templates import TEMPLATE_LABEL
from containai_rpc.workspace.userconfig import UserConfig


def iso(value: str | None) -> str | None:
    parsed = parse_docker_time(value or "")
    return to_rfc3339(parsed) if parsed else None


def isolation_of(info: ContainerInfo) -> Isolation:
    return "sysbox" if info.runtime == "sysbox-runc" else "runc-reduced"


@dataclass(frozen=True)
class KeepPolicy:
    """Who is protected from gc: the ONE rule behind `keep` in snapshots, gc and `keep`.

    Labels are immutable, so the user config records changes made after creation:
    `[keep].containers` adds protection, `[keep].released` switches a creation-time
    `containai.keep=true` label off.
    """

    kept: frozenset[str] = frozenset()
    released: frozenset[str] = frozenset()

    @classmethod
    def of(cls, config: UserConfig) -> KeepPolicy:
        return cls(config.kept, config.released)

    @classmethod
    def load(cls) -> KeepPolicy:
        """The policy as the user config says now (one read)."""
        return cls.of(UserConfig.load())

    def with_entry(self, name: str, entry: bool | None) -> KeepPolicy:
        """The policy after `set_keep(name, entry)`: True → kept, False → released."""
        kept, released = self.kept - {name}, self.released - {name}
        if entry is True:
            kept |= {name}
        elif entry is False:
            released |= {name}
        return KeepPolicy(kept, released)

    def source(self, info: ContainerInfo) -> KeepSource:
        label = info.keep_label and info.name not in self.released
        config = info.name in self.kept
        if label and config:
            return "both"
        return "label" if label else "config" if config else "none"

    def protects(self, info: ContainerInfo) -> bool:
        return self.source(info) != "none"


def to_summary(info: ContainerInfo, keep: KeepPolicy) -> ContainerSummary:
    """The snapshot `list`, `status` and notifications share."""
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
        keep=keep.protects(info),
        created_at=iso(info.created_at),
        started_at=iso(info.started_at),
        finished_at=None if is_active(info.state) else iso(info.finished_at),
        memory_limit_bytes=info.memory_limit,
        cpus=info.nano_cpus / 1e9 if info.nano_cpus else None,
        template=info.labels.get(TEMPLATE_LABEL),
        host=info.host,
    )
