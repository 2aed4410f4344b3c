"""The container snapshot on the wire (part of the protocol's single source): what `list`,
`status`, `run` and every `containerChanged` carry for one managed container. The fields
other features add (limits, template, idle stop, host) made it a module of its own;
`protocol.models` re-exports it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from containai_rpc.protocol.base import WireModel

ContainerStatus = Literal["running", "stopped", "created", "paused", "restarting", "dead"]


class ContainerSummary(WireModel):
    """One managed container as seen by `list` and carried by notifications."""

    id: str = Field(description="Docker's full container id.")
    name: str = Field(description="Container name, without Docker's leading `/`.")
    context: str = Field(description="The Docker context it lives in.")
    status: ContainerStatus | Literal["removed"] = Field(
        description="The guide's vocabulary; `removed` only in a `removed` notification."
    )
    docker_state: str = Field(description="Docker's raw `.State.Status`.")
    image: str = Field(description="The image it was created from.")
    workspace: str | None = Field(
        default=None, description="Normalised workspace path (`containai.workspace` label)."
    )
    data_volume: str | None = Field(
        default=None, description="The data volume mounted at /mnt/agent-data."
    )
    ssh_port: int | None = Field(
        default=None, description="Host port (127.0.0.1) of its sshd; absent without sshd."
    )
    keep: bool = Field(default=False, description="Protected from `gc`.")
    created_at: str | None = Field(default=None, description="RFC 3339 UTC.")
    started_at: str | None = Field(default=None, description="RFC 3339 UTC, last start.")
    finished_at: str | None = Field(
        default=None, description="RFC 3339 UTC, last exit; only when not running."
    )
    memory_limit_bytes: int | None = Field(
        default=None, description="Its memory limit (`docker inspect`: HostConfig.Memory)."
    )
    cpus: float | None = Field(
        default=None, description="Its CPU limit (`docker inspect`: HostConfig.NanoCpus / 1e9)."
    )
    template: str | None = Field(default=None, description="Its `ai.containai.template`.")
    outdated: bool | None = Field(
        default=None,
        description="Its template's Dockerfile or base image changed since it was created "
        "(`fresh` rebuilds it, same volume); absent: unknown or no template.",
    )
    outdated_reason: str | None = Field(default=None, description="Why, when `outdated`.")
    idle_stop: str | None = Field(
        default=None, description="Idle auto-stop period in use (`2h`, `off`); absent: unknown."
    )
    idle_since: str | None = Field(
        default=None, description="RFC 3339 UTC, unused since; absent when off or in use."
    )
    auto_stop_at: str | None = Field(
        default=None, description="RFC 3339 UTC, idle auto-stop unless used; absent likewise."
    )
    host: str | None = Field(
        default=None,
        description="Host of its context's engine: `local` (a socket on this machine) or "
        "the endpoint, e.g. `ssh://user@host`.",
    )
