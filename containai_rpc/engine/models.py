"""Domain objects the engine hands upwards (frozen dataclasses, no SDK types)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MANAGED_LABEL = "containai.managed"
WORKSPACE_LABEL = "containai.workspace"
VOLUME_LABEL = "containai.data-volume"
PORT_LABEL = "containai.ssh-port"
KEEP_LABEL = "containai.keep"
IMAGE_SSH_LABEL = "containai.image.ssh"

# What `run` puts on every container it creates besides `containai.managed=true`. A
# container marked managed but missing one of these was not made by us (or was tampered
# with): it is foreign, and no operation touches it (`ContainerInfo.is_ours`).
REQUIRED_LABELS = (WORKSPACE_LABEL, VOLUME_LABEL)

DATA_MOUNT = "/mnt/agent-data"
WORKSPACE_MOUNT = "/home/agent/workspace"


@dataclass(frozen=True)
class Mount:
    """One mount of a container (bind or named volume)."""

    type: str
    destination: str
    source: str
    name: str | None = None


@dataclass(frozen=True)
class ContainerInfo:
    """What `docker inspect` says about one container, reduced to what we use."""

    id: str
    name: str
    context: str
    state: str
    image: str
    labels: dict[str, str]
    created_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    mounts: tuple[Mount, ...] = ()
    runtime: str | None = None
    published_ssh_port: int | None = None
    memory_limit: int | None = None
    """Bytes (`HostConfig.Memory`); None: no limit."""
    nano_cpus: int | None = None
    """`HostConfig.NanoCpus`; None: no limit."""
    image_id: str | None = None
    host: str | None = None  # the engine's host: `local`, or e.g. `ssh://user@host`

    @property
    def managed(self) -> bool:
        return self.labels.get(MANAGED_LABEL) == "true"

    @property
    def missing_label(self) -> str | None:
        """The first required label (`REQUIRED_LABELS`) this container lacks or has empty."""
        return next((key for key in REQUIRED_LABELS if not self.labels.get(key)), None)

    @property
    def is_ours(self) -> bool:
        """The one ownership rule: `containai.managed=true` and every required label.

        Anything else is foreign: never stopped, removed, collected, attached to or
        recreated."""
        return self.managed and self.missing_label is None

    def foreign_because(self) -> str | None:
        """Why this container is not ours, in words (None when it is)."""
        if not self.managed:
            return "is not managed by ContainAI"
        missing = self.missing_label
        if missing is not None:
            return f"is labelled {MANAGED_LABEL}=true but has no {missing} label"
        return None

    @property
    def workspace(self) -> str | None:
        return self.labels.get(WORKSPACE_LABEL)

    @property
    def data_volume(self) -> str | None:
        return self.labels.get(VOLUME_LABEL)

    @property
    def ssh_port(self) -> int | None:
        value = self.labels.get(PORT_LABEL, "")
        return int(value) if value.isdigit() else None

    @property
    def keep_label(self) -> bool:
        return self.labels.get(KEEP_LABEL) == "true"

    @property
    def running(self) -> bool:
        return self.state == "running"

    def mounted_volume(self) -> str | None:
        """Name of the volume really mounted at /mnt/agent-data (may differ from the label)."""
        for m in self.mounts:
            if m.destination == DATA_MOUNT:
                return m.name
        return None

    @classmethod
    def from_inspect(
        cls, context: str, data: dict[str, Any], engine_host: str | None = None
    ) -> ContainerInfo:
        """The domain object of one `docker inspect` answer."""
        state = data.get("State") or {}
        config = data.get("Config") or {}
        host = data.get("HostConfig") or {}
        ports = (data.get("NetworkSettings") or {}).get("Ports") or {}
        published = None
        for binding in ports.get("22/tcp") or []:
            if str(binding.get("HostPort", "")).isdigit():
                published = int(binding["HostPort"])
                break
        mounts = tuple(
            Mount(
                type=m.get("Type", ""),
                destination=m.get("Destination", ""),
                source=m.get("Source", ""),
                name=m.get("Name"),
            )
            for m in data.get("Mounts") or []
        )
        return cls(
            id=data["Id"],
            name=data.get("Name", "").lstrip("/"),
            context=context,
            state=state.get("Status", "unknown"),
            image=config.get("Image", ""),
            labels=dict(config.get("Labels") or {}),
            created_at=data.get("Created"),
            started_at=state.get("StartedAt"),
            finished_at=state.get("FinishedAt"),
            mounts=mounts,
            host=engine_host,
            runtime=host.get("Runtime"),
            published_ssh_port=published,
            memory_limit=host.get("Memory") or None,
            nano_cpus=host.get("NanoCpus") or None,
            image_id=data.get("Image") or None,
        )


@dataclass(frozen=True)
class VolumeInfo:
    """An existing volume: its labels and the containers without our label mounting it."""

    labels: dict[str, str]
    foreign_users: tuple[str, ...] = ()

    @property
    def managed(self) -> bool:
        """Created by ContainAI (`containai.managed=true`)."""
        return self.labels.get(MANAGED_LABEL) == "true"


@dataclass(frozen=True)
class CreateSpec:
    """Everything needed to create a workspace container."""

    name: str
    image: str
    hostname: str
    workspace: str
    data_volume: str
    labels: dict[str, str]
    ssh_port: int | None
    runtime: str
    reduced_isolation: bool
    memory: str | None = None
    cpus: float | None = None
    environment: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ImageInfo:
    """One local image, its `repo:tag` references and its size (what gc needs)."""

    id: str
    tags: tuple[str, ...]
    size_bytes: int


@dataclass(frozen=True)
class ExecResult:
    """Output of a command run in a container; `exit_code` None means cut by the deadline."""

    exit_code: int | None
    output: str


@dataclass(frozen=True)
class EngineInfo:
    """The facts about an engine that the service and doctor need."""

    context: str
    endpoint: str
    server_version: str
    api_version: str
    runtimes: tuple[str, ...]
    kernel_version: str
    ncpu: int
    mem_total: int

    @property
    def has_sysbox(self) -> bool:
        return "sysbox-runc" in self.runtimes


@dataclass(frozen=True)
class EngineEvent:
    """A container event, parsed from both the old and the new (API ≥ 1.52) shapes."""

    context: str
    type: str
    action: str
    container_id: str
    attributes: dict[str, str]
    time_nano: int
