"""Every params, result and notification of the containai/* protocol.

This module is the single definition of the wire format: the server validates with it,
`containai_rpc.protocol.schema` generates `protocol.schema.json` (and from that the
extension's TypeScript types) and the reference part of protocol.md.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from containai_rpc.protocol.base import Params, WireModel

PROTOCOL_VERSION = "1.0"

ContainerStatus = Literal["running", "stopped", "created", "paused", "restarting", "dead"]
Isolation = Literal["sysbox", "runc-reduced"]
RunAction = Literal["create", "start", "attach", "recreate"]
ChangeKind = Literal["created", "started", "stopped", "removed", "recreated", "updated"]
Health = Literal["ok", "warning", "error"]

WorkspacePath = Field(
    default=None,
    description="Workspace directory (absolute, or relative to the server's cwd); "
    "defaults to the server's working directory.",
    max_length=4096,
)
ContainerName = Field(
    default=None, description="A container name; Docker's naming rule applies.", max_length=128
)
ContextName = Field(default=None, description="Docker context to use.", max_length=64)


# --------------------------------------------------------------------------- data model


class SshEndpoint(WireModel):
    """How to reach a container's sshd (published on 127.0.0.1 only)."""

    host: str = Field(description="Host alias in ~/.ssh/containai.d (the container name).")
    hostname: str = "127.0.0.1"
    port: int
    user: str = "agent"
    command: str = Field(description="A command line that opens a session, e.g. `ssh myapp-main`.")


class ContainerSummary(WireModel):
    """One managed container as seen by `list` and carried by notifications."""

    id: str
    name: str
    context: str
    status: ContainerStatus | Literal["removed"] = Field(
        description="The guide's vocabulary; `removed` only in a `removed` notification."
    )
    docker_state: str = Field(description="Docker's raw `.State.Status`.")
    image: str
    workspace: str | None = None
    data_volume: str | None = None
    ssh_port: int | None = None
    keep: bool = False
    created_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None


class Sessions(WireModel):
    """Best-effort session counts (spec §7.4)."""

    ssh_connections: int
    active_terminals: int


class Resources(WireModel):
    """Memory and CPU of a running container, computed like `docker stats`."""

    memory_bytes: int | None = Field(
        default=None, description="Usage without the inactive page cache."
    )
    memory_limit_bytes: int | None = Field(
        default=None, description="The container's limit, or the engine's memory if lower."
    )
    memory_percent: float | None = None
    cpu_percent: float | None = Field(
        default=None, description="Over the last 0.1-2 s; 100 is one full core."
    )
    memory_text: str | None = Field(
        default=None, description="Human form, e.g. `1.2GiB / 4GiB (30%)`."
    )


# --------------------------------------------------------------------------- initialize


class InitOptions(WireModel):
    """`initializationOptions.containai`."""

    protocol_version: str | None = Field(
        default=None,
        pattern=r"^[0-9]+\.[0-9]+$",
        description='"MAJOR.MINOR" the client speaks; absent means the server\'s own version. '
        "A different major is refused.",
    )


class ServerCapabilities(WireModel):
    """`capabilities.experimental.containai` in the initialize result."""

    protocol_version: str = Field(
        default=PROTOCOL_VERSION, description='"MAJOR.MINOR" the server speaks.'
    )
    server_version: str = Field(description="The containai-rpc package version.")
    features: list[str] = Field(
        description="The `containai/*` methods this server answers, without the namespace."
    )


# --------------------------------------------------------------------------- requests


class RunParams(Params):
    """`containai/run`: create if missing, start if stopped, attach if running."""

    workspace: str | None = WorkspacePath
    container: str | None = ContainerName
    data_volume: str | None = Field(default=None, max_length=255)
    context: str | None = ContextName
    dry_run: bool = False
    fresh: bool = False
    restart: bool = Field(default=False, description="Alias of `fresh`.")
    reset: bool = False
    keep: bool = False
    image: str | None = Field(default=None, max_length=512)
    allow_reduced_isolation: bool = False
    work_done_token: int | str | None = None


class RunResult(WireModel):
    action: RunAction
    container_name: str
    workspace: str
    data_volume: str
    data_volume_source: str | None = None
    image: str
    context: str
    state: ContainerStatus | Literal["absent"]
    isolation: Isolation | None = None
    dry_run: bool = False
    container: ContainerSummary | None = None
    ssh: SshEndpoint | None = None
    warnings: list[str] | None = None


class TargetParams(Params):
    """Picks one container: by `container` name, else the `workspace`'s container."""

    workspace: str | None = WorkspacePath
    container: str | None = ContainerName
    context: str | None = ContextName


class StopParams(TargetParams):
    all: bool = False
    remove: bool = False
    force: bool = False


StopAction = Literal["stopped", "removed", "alreadyStopped", "notFound", "declined", "failed"]


class StopOutcome(WireModel):
    container_name: str
    context: str
    action: StopAction
    sessions: Literal["yes", "no", "unknown"] | None = None
    message: str | None = None


class StopResult(WireModel):
    results: list[StopOutcome]


class StatusParams(TargetParams):
    pass


class StatusResult(ContainerSummary):
    isolation: Isolation | None = None
    uptime: str | None = None
    sessions: Sessions | None = None
    sessions_known: bool | None = Field(
        default=None, description="Running container only: false when sessions are unknown."
    )
    resources: Resources | None = None
    partial: list[str] | None = Field(
        default=None, description="Best-effort parts cut by the 5 s deadline."
    )


class ListParams(Params):
    context: str | None = ContextName


class ContextError(WireModel):
    context: str
    message: str


class ListResult(WireModel):
    revision: int
    containers: list[ContainerSummary]
    errors: list[ContextError] | None = None


class ConfigGetParams(Params):
    key: str = Field(max_length=64)
    workspace: str | None = WorkspacePath


class ConfigGetResult(WireModel):
    key: str
    value: str | None = None
    source: str | None = None


# --------------------------------------------------------------------------- notifications


class ContainerChanged(WireModel):
    """`containai/containerChanged`: a fact, with the full snapshot after it."""

    revision: int
    kind: ChangeKind
    container: ContainerSummary


class EngineStatus(WireModel):
    """`containai/engineStatus`: sent after `initialized` and on every change."""

    health: Health
    message: str
    context: str
    endpoint: str | None = None


# --------------------------------------------------------------------------- errors


class ErrorData(WireModel):
    """`error.data` of an error response (-32803 RequestFailed, -32602 InvalidParams).

    Other keys are reason-specific details (`context`, `container`, `file`, `key`, …).
    """

    model_config = ConfigDict(extra="allow")

    reason: str = Field(description="Stable machine-readable cause; see the error table.")
    hint: str | None = Field(default=None, description="What the user can do about it.")
    errors: list[dict[str, Any]] | None = Field(
        default=None,
        description="`invalidParams` only: pydantic's errors (`type`, `loc`, `msg`).",
    )
