"""Every params, result and notification of the containai/* protocol.

This module is the single definition of the wire format: the server validates with it,
`tools/generate_protocol.py` writes `protocol.schema.json` (and from that the
extension's TypeScript types) and the reference part of protocol.md.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from containai_rpc.protocol.base import Params, WireModel
from containai_rpc.protocol.container import ContainerStatus as ContainerStatus
from containai_rpc.protocol.container import ContainerSummary as ContainerSummary
from containai_rpc.protocol.reasons import Reason
from containai_rpc.protocol.session import SessionCommand, SessionOptions
from containai_rpc.protocol.version import PROTOCOL_VERSION as PROTOCOL_VERSION

Isolation = Literal["sysbox", "runc-reduced"]
RunAction = Literal["create", "start", "attach", "recreate"]
ChangeKind = Literal["created", "started", "stopped", "removed", "recreated", "updated"]
Health = Literal["ok", "warning", "error"]

WorkspacePath = Field(
    default=None,
    description="Workspace directory (absolute, or relative to the server's cwd); "
    "defaults to the server's working directory.",
    min_length=1,
    max_length=4096,
)
ContainerName = Field(
    default=None,
    description="A container name; Docker's naming rule applies.",
    min_length=1,
    max_length=128,
)
ContextName = Field(default=None, description="Docker context to use.", min_length=1, max_length=64)
WorkDoneToken = Field(
    default=None,
    description="LSP `WorkDoneProgressParams`: a token of the client's choice; the server "
    "then reports `$/progress` begin/report/end under it.",
)


# --------------------------------------------------------------------------- data model


class SshEndpoint(WireModel):
    """How to reach a container's sshd (published on 127.0.0.1 only)."""

    host: str = Field(description="Host alias in ~/.ssh/containai.d (the container name).")
    hostname: str = Field(default="127.0.0.1", description="Always the loopback address.")
    port: int = Field(description="Host port published for the container's sshd.")
    user: str = Field(default="agent", description="The user inside the container.")
    command: str = Field(description="A command line that opens a session, e.g. `ssh myapp-main`.")


class VolumeMismatch(WireModel):
    """The container mounts another data volume than the one resolved for its workspace."""

    mounted: str | None = Field(
        default=None, description="The volume mounted at /mnt/agent-data; absent: none."
    )
    requested: str = Field(description="The volume resolved for the workspace.")
    source: str = Field(
        description="Where `requested` came from (as `RunResult.dataVolumeSource`)."
    )


class Sessions(WireModel):
    """Best-effort session counts: established SSH connections and open terminals (ptys)."""

    ssh_connections: int = Field(description="Established TCP connections to port 22.")
    active_terminals: int = Field(description="Open pseudo-terminals (`/dev/pts/*`).")


class Resources(WireModel):
    """Memory and CPU of a running container, computed like `docker stats`."""

    memory_bytes: int | None = Field(
        default=None, description="Usage without the inactive page cache."
    )
    memory_limit_bytes: int | None = Field(
        default=None, description="The container's limit, or the engine's memory if lower."
    )
    memory_percent: float | None = Field(
        default=None, description="`memoryBytes` / `memoryLimitBytes`, in percent."
    )
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
    watch: bool = Field(
        default=True,
        description="false for one-shot clients (like `cai`): the server then starts no "
        "event watchers and sends no `containai/containerChanged` or `containai/engineStatus`; "
        "`containai/list` asks the engines directly.",
    )
    cwd: str | None = Field(
        default=None,
        description="The client's working directory (absolute): relative paths in params, "
        "and the current workspace when none is given, resolve against it. Absent: the "
        "server's own. Clients of a shared server (`containai-rpc --listen`) send it.",
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


class RunParams(SessionOptions):
    """`containai/run`: create if missing, start if stopped, attach if running."""

    workspace: str | None = WorkspacePath
    container: str | None = ContainerName
    data_volume: str | None = Field(
        default=None,
        min_length=1,
        max_length=255,
        description="Data volume to mount (default: resolved).",
    )
    context: str | None = ContextName
    dry_run: bool = Field(default=False, description="Only report the plan; change nothing.")
    fresh: bool = Field(default=False, description="Recreate the container, keep the volume.")
    restart: bool = Field(default=False, description="Alias of `fresh`.")
    reset: bool = Field(
        default=False, description="Recreate on a new data volume; the old one is kept."
    )
    keep: bool = Field(default=False, description="Create the container protected from gc.")
    image: str | None = Field(
        default=None, min_length=1, max_length=512, description="Image for a new container."
    )
    template: str | None = Field(
        default=None,
        description="Build a new container from `<config>/templates/<name>/Dockerfile` as "
        "`containai-template-<name>:local` (default: `[template] name`; `default` is "
        "installed on first use); `^[a-z0-9][a-z0-9_.-]*$`, else `invalidTemplateName`.",
    )
    image_tag: str | None = Field(
        default=None,
        description="Image `containai:<imageTag>`, no template; ignored (warning) with `template`.",
    )
    allow_reduced_isolation: bool = Field(
        default=False, description="Allow runc without Sysbox for a new container."
    )
    approve_volume: bool = Field(
        default=False,
        description="Approve, for this workspace, the data volume a repository's "
        "`.containai/config.toml` selects although ContainAI did not create it (recorded in "
        "the state file; without it such a volume is refused with `volumeNotApproved`).",
    )
    allow_system_workspace: bool = Field(
        default=False,
        description="Accept `/`, the home directory itself or a system directory as the "
        "workspace (refused with `workspaceRefused` otherwise).",
    )
    idle_stop: str | None = Field(
        default=None,
        pattern=r"^(off|[0-9]{1,7}[smhd])$",  # as core/idle.py parses it
        description="Stop the container after this long unused (`2h`, `20s`, `off`); "
        "recorded for the workspace. Absent: the workspace's, else `[lifecycle] idle_stop`, "
        "else off.",
    )
    work_done_token: int | str | None = WorkDoneToken


class RunResult(WireModel):
    action: RunAction = Field(description="What was (or, in a dry run, would be) done.")
    container_name: str
    workspace: str = Field(description="Normalised workspace path.")
    data_volume: str
    data_volume_source: str | None = Field(
        default=None,
        description="Where the volume name came from: `cli`, `env`, `workspace:<path>`, "
        "`repo-local`, `user-global`, `default`, `reset` or `container`.",
    )
    image: str
    context: str = Field(description="The Docker context used.")
    state: ContainerStatus | Literal["absent"] = Field(
        description="The container's status afterwards (`absent`: dry run, none yet)."
    )
    isolation: Isolation | None = Field(
        default=None, description="`runc-reduced`: runc without Sysbox (weaker isolation)."
    )
    dry_run: bool = False
    container: ContainerSummary | None = Field(
        default=None, description="Snapshot afterwards; absent in a dry run without container."
    )
    ssh: SshEndpoint | None = Field(default=None, description="Absent for images without sshd.")
    volume_mismatch: VolumeMismatch | None = Field(
        default=None,
        description="The container was attached to (or started) although it mounts another "
        "data volume than the one resolved for it (not requested explicitly); `dataVolume` is "
        "the mounted one. `warnings` says it in a sentence too.",
    )
    warnings: list[str] | None = None
    session: SessionCommand | None = Field(
        default=None,
        description="How to run the requested session (the agent, or `command`) in the "
        "container; absent in a dry run and for containers without SSH.",
    )


class TargetParams(Params):
    """Picks one container: by `container` name, else the `workspace`'s container."""

    workspace: str | None = WorkspacePath
    container: str | None = ContainerName
    context: str | None = ContextName


class StopParams(TargetParams):
    all: bool = Field(default=False, description="Every managed container (not with a target).")
    remove: bool = Field(default=False, description="Remove instead of stop; never a volume.")
    force: bool = Field(
        default=False,
        description="Do not ask about active sessions; stop even when `exportTo` fails.",
    )
    export_to: str | None = Field(
        default=None,
        description="Export the data volume to this .tgz file (an existing folder: a file "
        "named after the container and the time) before stopping; not with `all`.",
        min_length=1,
        max_length=4096,
    )
    work_done_token: int | str | None = WorkDoneToken


StopAction = Literal[
    "stopped", "removed", "alreadyStopped", "notFound", "declined", "failed", "notManaged"
]
"""`notManaged` (only from `all`): a container marked managed but missing a required label
(`containai.workspace`, `containai.data-volume`) is foreign and left alone."""


class StopOutcome(WireModel):
    container_name: str = Field(description="`*` for a context that could not be listed.")
    context: str
    action: StopAction
    sessions: Literal["yes", "no", "unknown"] | None = Field(
        default=None, description="Active sessions found before stopping a running container."
    )
    message: str | None = Field(
        default=None,
        description="Why, for `notFound`, `failed` and `notManaged`; a failed forced export.",
    )
    export_path: str | None = Field(default=None, description="The archive `exportTo` wrote.")


class StopResult(WireModel):
    results: list[StopOutcome]


class StatusParams(TargetParams):
    pass


class StatusResult(ContainerSummary):
    isolation: Isolation | None = Field(
        default=None, description="`runc-reduced`: runc without Sysbox (weaker isolation)."
    )
    uptime: str | None = Field(default=None, description="Running only, e.g. `3d 4h 12m`.")
    sessions: Sessions | None = None
    sessions_known: bool | None = Field(
        default=None, description="Running container only: false when sessions are unknown."
    )
    resources: Resources | None = None
    partial: list[str] | None = Field(
        default=None, description="Best-effort parts cut by the 5 s deadline."
    )
    volume_mismatch: VolumeMismatch | None = Field(
        default=None,
        description="The container mounts another data volume than a `run` of its workspace "
        "would resolve.",
    )


class ListParams(Params):
    context: str | None = ContextName


class ContextError(WireModel):
    """A context whose engine could not be listed."""

    context: str
    message: str


class ListResult(WireModel):
    revision: int = Field(description="The latest `containerChanged` revision sent.")
    containers: list[ContainerSummary] = Field(description="Sorted by context, then name.")
    errors: list[ContextError] | None = None


class ConfigGetParams(Params):
    key: str = Field(
        min_length=1, max_length=64, description="e.g. `data_volume`, `image`, `context`."
    )
    workspace: str | None = WorkspacePath


class ConfigGetResult(WireModel):
    key: str
    value: str | None = Field(default=None, description="Absent when the key has no value.")
    source: str | None = Field(
        default=None, description="Where the value comes from, e.g. `workspace:<path>`."
    )


# --------------------------------------------------------------------------- notifications


class ContainerChanged(WireModel):
    """`containai/containerChanged`: a fact, with the full snapshot after it."""

    revision: int = Field(description="One more than the previous notification's.")
    kind: ChangeKind
    container: ContainerSummary = Field(description="The snapshot after the change.")
    reason: Literal["idle"] | None = Field(
        default=None,
        description="`idle`: a `stopped` caused by the container's idle auto-stop.",
    )


class EngineStatus(WireModel):
    """`containai/engineStatus`: sent after `initialized` and on every change."""

    health: Health
    message: str = Field(description="For people, e.g. the engine version or the failure.")
    context: str = Field(description="The selected Docker context.")
    endpoint: str | None = Field(default=None, description="e.g. `unix:///var/run/docker.sock`.")
    connection: str | None = Field(
        default=None,
        description="How the server reaches an ssh:// engine: its one SSH connection "
        "(destination, local socket, ssh pid); absent for a local socket.",
    )


# --------------------------------------------------------------------------- errors


class ErrorData(WireModel):
    """`error.data` of an error response (-32803 RequestFailed, -32602 InvalidParams).

    Other keys are reason-specific details (`context`, `container`, `file`, `key`, …).
    """

    model_config = ConfigDict(extra="allow")

    reason: Reason
    hint: str | None = Field(default=None, description="What the user can do about it.")
    errors: list[dict[str, Any]] | None = Field(
        default=None,
        description="`invalidParams` only: pydantic's errors (`type`, `loc`, `msg`).",
    )
