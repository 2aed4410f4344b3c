"""`Engine`: what the layers above the engine package need from one Docker engine.

The docker-SDK adapter (`engine.client.Engine`) satisfies it structurally, and so does
the in-memory engine the unit tests use; `service/`, `ssh/` and the server are typed
against this protocol only, so none of them can reach for SDK objects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Protocol, runtime_checkable

from containai_rpc.engine.models import (
    ContainerInfo,
    CreateSpec,
    EngineEvent,
    EngineInfo,
    ExecResult,
    ImageInfo,
    VolumeInfo,
)
from containai_rpc.engine.sshtunnel import Tunnel


@runtime_checkable
class EventSource(Protocol):
    """One window of container events: iterate in one thread, `close()` from any."""

    def __iter__(self) -> Iterator[EngineEvent]: ...

    def close(self) -> None: ...


@runtime_checkable
class VolumeHelper(Protocol):
    """A short-lived container with one volume at /data, removed when the `with` ends."""

    def __enter__(self) -> VolumeHelper: ...

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def read(self, path: str = "/data") -> Iterator[bytes]:
        """The uncompressed tar of `path` (members `data/...` for /data), in chunks."""
        ...

    def write(self, path: str, data: bytes | Iterable[bytes]) -> None:
        """Extract a plain or gzipped tar stream at `path`, keeping the members' owners."""
        ...

    def run(self, timeout_s: float = 60.0) -> int:
        """Start the helper's command, wait for it; its exit code."""
        ...


@runtime_checkable
class Engine(Protocol):
    """One Docker engine reached through one context. Every failure is a DomainError."""

    context: str
    endpoint: str
    tunnel: Tunnel | None
    """The SSH connection an ssh:// context is reached through; None for a local socket."""

    @property
    def host(self) -> str:
        """`local` for a socket on this machine, else the endpoint (e.g. `ssh://user@host`)."""
        ...

    # ------------------------------------------------------------------ engine
    def info(self, *, refresh: bool = False) -> EngineInfo:
        """Engine facts (cached until `refresh`)."""
        ...

    def ping(self, *, timeout_s: float | None = None) -> None:
        """One round trip, cut after `timeout_s`."""
        ...

    # ------------------------------------------------------------------ containers
    def list_managed(self) -> list[ContainerInfo]:
        """Every managed container, fully inspected."""
        ...

    def managed_ports(self) -> set[int]:
        """SSH ports labelled on managed containers."""
        ...

    def managed_states(self) -> dict[str, str]:
        """id → Docker state of every managed container (one cheap listing)."""
        ...

    def ids_for_workspace(self, workspace: str) -> list[str]:
        """Containers (managed or not) labelled for this workspace path."""
        ...

    def inspect(self, name_or_id: str) -> ContainerInfo | None:
        """The container, or None when it does not exist."""
        ...

    def require(self, name_or_id: str) -> ContainerInfo:
        """The container, or `containerNotFound`."""
        ...

    def create(self, spec: CreateSpec) -> ContainerInfo:
        """Create (not start) a container."""
        ...

    def start(self, container_id: str) -> None: ...

    def stop(self, container_id: str) -> None: ...

    def remove(self, container_id: str, *, force: bool) -> None:
        """Remove the container only, never a volume."""
        ...

    # ------------------------------------------------------------------ volumes, images
    def ensure_volume(self, name: str) -> bool:
        """Create the named volume if missing; True when it was created now."""
        ...

    def volume_exists(self, name: str) -> bool: ...

    def volume_info(self, name: str) -> VolumeInfo | None:
        """The volume's labels and the non-managed containers mounting it; None: missing."""
        ...

    def remove_volume(self, name: str) -> None:
        """Only for a volume the same request created and left empty (a failed import)."""
        ...

    def volume_helper(
        self, volume: str, image: str, *, read_only: bool, command: list[str] | None = None
    ) -> VolumeHelper:
        """A created, not started, helper container from a local image with `volume` at
        /data (read-only when asked); `command` is what `run()` runs."""
        ...

    def image_labels(self, image: str) -> dict[str, str] | None:
        """The image's labels, or None when the image is not present."""
        ...

    def image_layers(self, image: str) -> tuple[str, ...] | None:
        """The image's layer digests, or None when the image is not present."""
        ...

    def build_image(
        self, folder: str, tag: str, labels: dict[str, str], on_line: Callable[[str], None]
    ) -> str:
        """Build the folder's Dockerfile as `tag` from local images only; the image id.
        A failing build is `templateBuildFailed`."""
        ...

    def image_ids_in_use(self) -> set[str]:
        """Image ids of every container of the engine."""
        ...

    def unmanaged_labelled(self) -> list[ContainerInfo]:
        """Containers with one of our labels but not `containai.managed=true`."""
        ...

    def container_sizes(self, ids: list[str]) -> dict[str, int]:
        """Writable-layer bytes of these containers."""
        ...

    def list_images(self) -> list[ImageInfo]: ...

    def remove_image(self, reference: str) -> None:
        """Untag `reference` without force."""
        ...

    # ------------------------------------------------------------------ exec, events
    def exec(
        self, container_id: str, argv: list[str], *, user: str = "", timeout_s: float = 10.0
    ) -> ExecResult:
        """Run argv in the container, cut at `timeout_s` (exit code None then)."""
        ...

    def read_file(self, container_id: str, path: str, max_bytes: int = 4096) -> bytes | None:
        """A small file of a running or stopped container; None when absent."""
        ...

    def events(self, *, since_ns: int, until_ns: int) -> EventSource:
        """Managed-container events in [since, until] (engine clock)."""
        ...

    def close(self) -> None: ...
