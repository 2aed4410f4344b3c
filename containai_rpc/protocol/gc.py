"""Wire models of `containai/gc` and `containai/keep` (part of the protocol's single source).

gc removes stale managed containers (and, on request, unused ContainAI images) in every
managed context; `keep` protects one container from it. Neither ever removes a volume.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from containai_rpc.protocol.base import Params, WireModel
from containai_rpc.protocol.models import ContextError, TargetParams

DEFAULT_GC_AGE = "30d"

KeepSource = Literal["label", "config", "both", "none"]
GcSkipReason = Literal[
    "keep",
    "running",
    "tooRecent",
    "startedSinceScan",
    "notManaged",
    "unsupportedState",
    "noTimestamp",
    "gone",
]


class GcParams(Params):
    """`containai/gc`: without `dryRun` and `force`, the server asks before removing."""

    dry_run: bool = False
    age: str = Field(
        default=DEFAULT_GC_AGE,
        max_length=32,
        description="Minimum age: N followed by d, h, m or w (decimal, e.g. 30d, 08d, 24h). "
        "Exited containers age from `.State.FinishedAt`, created ones from `.Created`.",
    )
    images: bool = Field(
        default=False,
        description="Also remove unused images named `containai:*`, `containai-template-*` "
        "or `ghcr.io/containai/*`.",
    )
    force: bool = Field(default=False, description="Remove without asking.")
    context: str | None = Field(
        default=None,
        description="Only this Docker context (default: every managed context).",
        max_length=64,
    )
    work_done_token: int | str | None = None


class GcContainer(WireModel):
    """A stale container: a candidate, and once gone an entry of `removed`."""

    id: str
    name: str
    context: str
    state: Literal["exited", "created"]
    age: str = Field(description="Human age, e.g. `10d 4h`.")
    age_seconds: int
    reason: str = Field(description="Why it is stale, in words.")
    workspace: str | None = None
    data_volume: str | None = Field(default=None, description="Kept: gc never removes volumes.")
    size_bytes: int | None = Field(default=None, description="Writable layer (`SizeRw`).")


class GcSkipped(WireModel):
    """A managed (or ContainAI-labelled) container gc left alone, and why."""

    id: str
    name: str
    context: str
    docker_state: str
    reason: GcSkipReason
    age: str | None = None
    age_seconds: int | None = None


class GcFailure(WireModel):
    kind: Literal["container", "image"]
    name: str = Field(description="Container name or image reference.")
    context: str
    message: str


class GcImage(WireModel):
    """One image reference (`repo:tag`); removing it untags, the image goes with its last tag."""

    reference: str
    id: str
    context: str
    size_bytes: int | None = None


class GcImages(WireModel):
    candidates: list[GcImage]
    removed: list[GcImage]
    skipped: list[GcImage] = Field(
        default_factory=list, description="Candidates a container started using meanwhile."
    )


class GcResult(WireModel):
    age: str = Field(description="The age threshold as requested.")
    age_seconds: int
    dry_run: bool
    declined: bool = Field(default=False, description="The user answered no; nothing changed.")
    candidates: list[GcContainer]
    removed: list[GcContainer]
    skipped: list[GcSkipped]
    failed: list[GcFailure]
    images: GcImages | None = None
    reclaimed_bytes: int | None = Field(
        default=None,
        description="Real runs: writable layers of the removed containers plus the sizes "
        "`docker images` shows for images removed entirely (layers shared with other "
        "images are counted, so this is an upper bound).",
    )
    errors: list[ContextError] | None = Field(
        default=None, description="Contexts that could not be scanned."
    )


class KeepParams(TargetParams):
    """`containai/keep`: protect (or stop protecting) one existing container from gc."""

    keep: bool


class KeepResult(WireModel):
    container_name: str
    context: str
    keep: bool = Field(description="Whether gc now skips the container.")
    source: KeepSource = Field(
        description="What protects it: the creation-time `containai.keep` label, the user "
        "config's `[keep]` table, both, or nothing."
    )
