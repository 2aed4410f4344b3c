"""An in-memory Docker engine implementing `containai_rpc.engine.Engine`, for fast tests.

It behaves like the SDK adapter where the service can tell: names are unique (`create`
of a taken name is `nameConflict`, as Docker's 409 is), removing a running container
without force or an image in use is refused the same way, `inspect` of a missing
container is None, and an engine that is down raises `engineUnavailable` on every call.
Containers start and stop at once; exec answers the session probe from `sessions` and
anything else from `on_exec` (default: exit 0, no output); `read_file` answers from `on_read`,
else from `files`.

`FakeDocker` is a set of such engines, one per Docker context, reachable through a real
`EngineSet` (the context store is written to a private DOCKER_CONFIG), so the context
selection the service relies on is the production code's.
"""

from __future__ import annotations

import functools
import hashlib
import io
import itertools
import json
import queue
import tarfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from containai_rpc.engine import EngineSet
from containai_rpc.engine.client import engine_host
from containai_rpc.engine.models import (
    DATA_MOUNT,
    KEEP_LABEL,
    MANAGED_LABEL,
    PORT_LABEL,
    VOLUME_LABEL,
    WORKSPACE_LABEL,
    WORKSPACE_MOUNT,
    ContainerInfo,
    CreateSpec,
    EngineEvent,
    EngineInfo,
    ExecResult,
    ImageInfo,
    Mount,
    VolumeInfo,
)
from containai_rpc.errors import DomainError, Reason

F = TypeVar("F", bound=Callable[..., Any])
START = datetime(2025, 1, 1, tzinfo=UTC)
"""Where a fake engine's own clock starts (creation and start times)."""
FAKE_NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
"""The service clock of the fake-engine service tests: months after START."""
ZERO_TIME = "0001-01-01T00:00:00Z"
ACTIVE = ("running", "paused", "restarting")


def docker_time(moment: datetime) -> str:
    """Docker's form: nanoseconds and `Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


class Call(NamedTuple):
    method: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


def _engine_call(fn: F) -> F:
    """Every engine call is recorded and fails while the engine is down or a fault is set."""

    @functools.wraps(fn)
    def call(self: FakeEngine, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(Call(fn.__name__, args, kwargs))
        if self.down is not None:
            raise self.down
        fault = self.faults.pop(fn.__name__, None)
        if fault is not None:
            raise fault
        return fn(self, *args, **kwargs)

    return call  # type: ignore[return-value]


@dataclass
class FakeImage:
    id: str
    tags: list[str]
    labels: dict[str, str] = field(default_factory=dict)
    size_bytes: int = 1000
    layers: tuple[str, ...] = ()


class FakeEvents:
    """An event window with nothing in it."""

    def __iter__(self) -> Iterator[EngineEvent]:
        return iter(())

    def close(self) -> None:
        return None


class FakeEventStream:
    """An event window the test feeds (`FakeEngine.live_events`): iteration blocks until
    an event is `put`, and ends at `end()` (a dropped connection) or `close()`."""

    def __init__(self) -> None:
        self._queue: queue.Queue[EngineEvent | None] = queue.Queue()
        self.closed = False

    def put(self, event: EngineEvent) -> None:
        self._queue.put(event)

    def end(self) -> None:
        self._queue.put(None)

    def __iter__(self) -> Iterator[EngineEvent]:
        while (event := self._queue.get()) is not None:
            yield event

    def close(self) -> None:
        self.closed = True
        self._queue.put(None)


class FakeEngine:
    """One in-memory engine (one context). Not thread-safe beyond what the tests need."""

    @property
    def host(self) -> str:
        return engine_host(self.endpoint)

    def __init__(
        self,
        context: str = "default",
        endpoint: str | None = None,
        *,
        runtimes: tuple[str, ...] = ("runc",),
        ncpu: int = 4,
        mem_total: int = 8 * 2**30,
    ) -> None:
        self.context = context
        self.endpoint = endpoint or f"unix:///fake/{context}.sock"
        self.tunnel = None
        self.runtimes = runtimes
        self.ncpu = ncpu
        self.mem_total = mem_total
        self.now = START
        self.containers: dict[str, ContainerInfo] = {}
        self.images: dict[str, FakeImage] = {}
        self.volumes: set[str] = set()
        self.foreign_volumes: set[str] = set()  # in `volumes` but without our label
        self.volume_files: dict[str, dict[str, bytes]] = {}  # volume → path under /data → bytes
        self.files: dict[tuple[str, str], bytes] = {}  # (container id, path) → bytes
        self.helpers: list[FakeVolumeHelper] = []
        self.sizes: dict[str, int] = {}
        self.sessions: dict[str, tuple[int, int] | None] = {}
        self.on_exec: Callable[[ContainerInfo, list[str]], ExecResult | None] | None = None
        self.on_read: Callable[[ContainerInfo, str], bytes | None] | None = None
        self.exits_on_start: set[str] = set()
        self.calls: list[Call] = []
        self.down: DomainError | None = None
        self.faults: dict[str, DomainError] = {}
        self.created_specs: list[CreateSpec] = []
        self.closed = False
        self.live_events = False  # True: `events` returns a FakeEventStream the test feeds
        self.streams: list[FakeEventStream] = []
        self._ids = itertools.count(1)

    # ------------------------------------------------------------------ test set-up

    def tick(self, seconds: float = 1.0) -> str:
        self.now += timedelta(seconds=seconds)
        return docker_time(self.now)

    def add_image(
        self, reference: str, labels: dict[str, str] | None = None, *, image_id: str | None = None
    ) -> FakeImage:
        found = next((i for i in self.images.values() if i.id == image_id), None)
        if found is not None:
            found.tags.append(reference)
        else:
            found = FakeImage(image_id or f"sha256:{reference}", [reference], dict(labels or {}))
        self.images[reference] = found
        return found

    def add_container(
        self,
        name: str,
        *,
        state: str = "running",
        workspace: str | None = None,
        managed: bool = True,
        volume: str | None = "containai-data",
        mounted: str | None = None,
        port: int | None = None,
        keep: bool = False,
        image: str = "containai:latest",
        labels: dict[str, str] | None = None,
        runtime: str = "runc",
        idle_s: float = 0.0,
    ) -> ContainerInfo:
        """A container as something else made it (any state, any labels)."""
        all_labels: dict[str, str] = {}
        if managed:
            all_labels[MANAGED_LABEL] = "true"
        if workspace is not None:
            all_labels[WORKSPACE_LABEL] = workspace
        if volume is not None and managed:
            all_labels[VOLUME_LABEL] = volume
        if port is not None:
            all_labels[PORT_LABEL] = str(port)
        if keep:
            all_labels[KEEP_LABEL] = "true"
        all_labels.update(labels or {})
        mounts = [Mount("volume", DATA_MOUNT, "", mounted or volume)] if (mounted or volume) else []
        stamp = docker_time(self.now - timedelta(seconds=idle_s))
        info = ContainerInfo(
            id=self._new_id(name),
            name=name,
            context=self.context,
            state=state,
            image=image,
            labels=all_labels,
            created_at=stamp,
            started_at=ZERO_TIME if state == "created" else stamp,
            finished_at=stamp if state in ("exited", "dead") else ZERO_TIME,
            mounts=tuple(mounts),
            runtime=runtime,
            published_ssh_port=port if state in ACTIVE else None,
        )
        self.containers[info.id] = info
        if image not in self.images:
            self.add_image(image)
        return info

    def set_state(self, name: str, state: str) -> ContainerInfo:
        """Put a container in any state, as something else did (`docker pause` …)."""
        info = self.by_name(name)
        assert info is not None, name
        return self._set(info, state=state)

    def by_name(self, name: str) -> ContainerInfo | None:
        return next((c for c in self.containers.values() if c.name == name), None)

    def names(self) -> list[str]:
        return sorted(c.name for c in self.containers.values())

    def called(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def _new_id(self, name: str) -> str:
        return hashlib.sha256(f"{name}-{next(self._ids)}".encode()).hexdigest()

    def _find(self, name_or_id: str) -> ContainerInfo | None:
        if name_or_id in self.containers:
            return self.containers[name_or_id]
        return self.by_name(name_or_id)

    def _missing(self, what: str, reason: Reason = "containerNotFound") -> DomainError:
        """A 404 as the real engine translates it: the reason names what was addressed."""
        kind = {"imageNotFound": "image", "volumeNotFound": "volume"}.get(reason, "container")
        return DomainError(reason, f"No such {kind}: {what}", context=self.context)

    def _set(self, info: ContainerInfo, **changes: Any) -> ContainerInfo:
        new = replace(info, **changes)
        self.containers[info.id] = new
        return new

    # ------------------------------------------------------------------ engine

    @_engine_call
    def info(self, *, refresh: bool = False) -> EngineInfo:
        return EngineInfo(
            context=self.context,
            endpoint=self.endpoint,
            server_version="99.0.0-fake",
            api_version="1.99",
            runtimes=self.runtimes,
            kernel_version="6.1.0-fake",
            ncpu=self.ncpu,
            mem_total=self.mem_total,
        )

    @_engine_call
    def ping(self, *, timeout_s: float | None = None) -> None:
        return None

    # ------------------------------------------------------------------ containers

    @_engine_call
    def list_managed(self) -> list[ContainerInfo]:
        return [c for c in self.containers.values() if c.managed]

    @_engine_call
    def managed_ports(self) -> set[int]:
        return {c.ssh_port for c in self.containers.values() if c.managed and c.ssh_port}

    @_engine_call
    def managed_states(self) -> dict[str, str]:
        return {c.id: c.state for c in self.containers.values() if c.managed}

    @_engine_call
    def ids_for_workspace(self, workspace: str) -> list[str]:
        return [c.id for c in self.containers.values() if c.workspace == workspace]

    @_engine_call
    def inspect(self, name_or_id: str) -> ContainerInfo | None:
        return self._find(name_or_id)

    @_engine_call
    def require(self, name_or_id: str) -> ContainerInfo:
        info = self._find(name_or_id)
        if info is None:
            raise DomainError(
                "containerNotFound",
                f"Container not found: {name_or_id}",
                context=self.context,
                container=name_or_id,
            )
        return info

    @_engine_call
    def create(self, spec: CreateSpec) -> ContainerInfo:
        if self.by_name(spec.name) is not None:
            raise DomainError(
                "nameConflict",
                f'Conflict. The container name "/{spec.name}" is already in use',
                context=self.context,
            )
        if spec.image not in self.images:
            raise self._missing(spec.image, "imageNotFound")
        self.volumes.add(spec.data_volume)
        stamp = self.tick()
        info = ContainerInfo(
            id=self._new_id(spec.name),
            name=spec.name,
            context=self.context,
            state="created",
            image=spec.image,
            labels=dict(spec.labels),
            created_at=stamp,
            started_at=ZERO_TIME,
            finished_at=ZERO_TIME,
            mounts=(
                Mount("bind", WORKSPACE_MOUNT, spec.workspace),
                Mount("volume", DATA_MOUNT, "", spec.data_volume),
            ),
            runtime=spec.runtime,
            image_id=self.images[spec.image].id,
        )
        self.containers[info.id] = info
        self.created_specs.append(spec)
        return info

    @_engine_call
    def start(self, container_id: str) -> None:
        info = self._find(container_id)
        if info is None:
            raise self._missing(container_id)
        if info.name in self.exits_on_start:
            stamp = self.tick()
            self._set(info, state="exited", started_at=stamp, finished_at=stamp)
            return
        self._set(info, state="running", started_at=self.tick(), published_ssh_port=info.ssh_port)

    @_engine_call
    def stop(self, container_id: str) -> None:
        info = self._find(container_id)
        if info is None:
            raise self._missing(container_id)
        if info.state in ACTIVE:
            self._set(info, state="exited", finished_at=self.tick(), published_ssh_port=None)

    @_engine_call
    def remove(self, container_id: str, *, force: bool) -> None:
        info = self._find(container_id)
        if info is None:
            raise self._missing(container_id)
        if info.state in ACTIVE and not force:
            raise DomainError(
                "nameConflict",
                f"You cannot remove a running container {info.id}. Stop the container "
                "before attempting removal or force remove",
                context=self.context,
            )
        del self.containers[info.id]

    # ------------------------------------------------------------------ volumes, images

    @_engine_call
    def ensure_volume(self, name: str) -> bool:
        if name in self.volumes:
            return False
        self.volumes.add(name)
        return True

    @_engine_call
    def volume_exists(self, name: str) -> bool:
        return name in self.volumes

    @_engine_call
    def volume_info(self, name: str) -> VolumeInfo | None:
        if name not in self.volumes:
            return None
        labels = {} if name in self.foreign_volumes else {MANAGED_LABEL: "true"}
        users = tuple(
            c.name
            for c in self.containers.values()
            if not c.managed and any(m.name == name for m in c.mounts)
        )
        return VolumeInfo(labels=labels, foreign_users=users)

    @_engine_call
    def remove_volume(self, name: str) -> None:
        if name not in self.volumes:
            raise self._missing(name, "volumeNotFound")
        self.volumes.discard(name)
        self.volume_files.pop(name, None)

    @_engine_call
    def volume_helper(
        self, volume: str, image: str, *, read_only: bool, command: list[str] | None = None
    ) -> FakeVolumeHelper:
        if image not in self.images:
            raise self._missing(image, "imageNotFound")
        if volume not in self.volumes:
            raise self._missing(volume, "volumeNotFound")
        helper = FakeVolumeHelper(self, volume, read_only, command or ["true"])
        self.helpers.append(helper)
        return helper

    @_engine_call
    def image_labels(self, image: str) -> dict[str, str] | None:
        found = self.images.get(image)
        return None if found is None else dict(found.labels)

    @_engine_call
    def image_layers(self, image: str) -> tuple[str, ...] | None:
        found = self.images.get(image) or next(
            (i for i in self.images.values() if i.id == image), None
        )
        return None if found is None else found.layers or (found.id,)

    @_engine_call
    def build_image(
        self, folder: str, tag: str, labels: dict[str, str], on_line: Callable[[str], None]
    ) -> str:
        """`FROM <base>` plus one layer per other line; a line `FAIL` fails the build."""
        lines = (Path(folder) / "Dockerfile").read_text(encoding="utf-8").splitlines()
        steps = [line for line in lines if line.strip() and not line.startswith("#")]
        base = self.images.get(steps[0].split()[1]) if steps else None
        if base is None or "FAIL" in steps:
            raise DomainError("templateBuildFailed", f"Failed to build {tag}")
        for step in steps:
            on_line(step)
        layers = (*(base.layers or (base.id,)), *(f"layer:{step}" for step in steps[1:]))
        self.images.pop(tag, None)
        digest = hashlib.sha256("\n".join(layers).encode()).hexdigest()[:16]
        image = self.add_image(tag, {**base.labels, **labels}, image_id=f"sha256:{digest}")
        image.layers = layers
        return image.id

    @_engine_call
    def image_ids_in_use(self) -> set[str]:
        return self._ids_in_use()

    def _ids_in_use(self) -> set[str]:
        return {self.images[c.image].id for c in self.containers.values() if c.image in self.images}

    @_engine_call
    def unmanaged_labelled(self) -> list[ContainerInfo]:
        return [
            c
            for c in self.containers.values()
            if not c.managed and (MANAGED_LABEL in c.labels or WORKSPACE_LABEL in c.labels)
        ]

    @_engine_call
    def container_sizes(self, ids: list[str]) -> dict[str, int]:
        return {i: self.sizes.get(i, 0) for i in ids if i in self.containers}

    @_engine_call
    def list_images(self) -> list[ImageInfo]:
        unique = {i.id: i for i in self.images.values()}
        return [ImageInfo(i.id, tuple(i.tags), i.size_bytes) for i in unique.values()]

    @_engine_call
    def remove_image(self, reference: str) -> None:
        image = self.images.get(reference)
        if image is None:
            raise self._missing(reference, "imageNotFound")
        if image.id in self._ids_in_use():
            raise DomainError(
                "nameConflict", f"conflict: unable to remove {reference}: image is being used"
            )
        image.tags.remove(reference)
        del self.images[reference]

    # ------------------------------------------------------------------ exec, events

    @_engine_call
    def exec(
        self, container_id: str, argv: list[str], *, user: str = "", timeout_s: float = 10.0
    ) -> ExecResult:
        info = self._find(container_id)
        if info is None:
            raise self._missing(container_id)
        if info.state != "running":
            raise DomainError("engineError", f"Container {info.id} is not running")
        if self.on_exec is not None:
            answer = self.on_exec(info, argv)
            if answer is not None:
                return answer
        if "/proc/net/tcp" in " ".join(argv):  # the session probe
            counts = self.sessions.get(info.id, (0, 0))
            if counts is None:
                return ExecResult(exit_code=127, output="sh: not found\n")
            return ExecResult(exit_code=0, output=f"{counts[0]} {counts[1]}\n")
        return ExecResult(exit_code=0, output="")

    @_engine_call
    def read_file(self, container_id: str, path: str, max_bytes: int = 4096) -> bytes | None:
        info = self._find(container_id)
        if info is None:
            raise self._missing(container_id)
        answer = self.on_read(info, path) if self.on_read is not None else None
        return answer if answer is not None else self.files.get((info.id, path))

    @_engine_call
    def events(self, *, since_ns: int, until_ns: int) -> FakeEvents | FakeEventStream:
        if not self.live_events:
            return FakeEvents()
        stream = FakeEventStream()
        self.streams.append(stream)
        return stream

    def emit(self, action: str, name_or_id: str) -> None:
        """A container event on the open stream (`live_events`), as Docker sends it."""
        info = self._find(name_or_id)
        cid = info.id if info is not None else name_or_id
        event = EngineEvent(self.context, "container", action, cid, {}, time.time_ns())
        self.streams[-1].put(event)

    def close(self) -> None:
        self.closed = True


class FakeVolumeHelper:
    """The in-memory helper: the volume's files as `data/...` tar members, and back.

    `command` understands only `rm -f /data/<path>…` (what an import runs at its end)."""

    def __init__(self, engine: FakeEngine, volume: str, read_only: bool, command: list[str]):
        self.engine = engine
        self.volume = volume
        self.read_only = read_only
        self.command = command
        self.removed = False

    def __enter__(self) -> FakeVolumeHelper:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.removed = True

    def _files(self) -> dict[str, bytes]:
        return self.engine.volume_files.setdefault(self.volume, {})

    def read(self, path: str = "/data") -> Iterator[bytes]:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            tar.addfile(_tar_dir("data"))
            for name, data in sorted(self._files().items()):
                info = tarfile.TarInfo(f"data/{name}")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        raw = buffer.getvalue()
        for start in range(0, len(raw), 4096):
            yield raw[start : start + 4096]

    def write(self, path: str, data: bytes | Iterable[bytes]) -> None:
        if self.read_only:
            raise DomainError("engineError", "read-only file system")
        raw = data if isinstance(data, bytes) else b"".join(data)
        at_root = path.rstrip("/") == ""  # members `data/...`, else relative to /data
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:*") as tar:
            for member in tar:
                name = member.name if at_root else f"data/{member.name}"
                handle = tar.extractfile(member) if member.isfile() else None
                if handle is not None and name.startswith("data/"):
                    self._files()[name.removeprefix("data/")] = handle.read()

    def run(self, timeout_s: float = 60.0) -> int:
        if self.command[:2] == ["rm", "-f"]:
            for path in self.command[2:]:
                self._files().pop(path.removeprefix("/data/"), None)
        return 0


def _tar_dir(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    return info


class FakeDocker:
    """Fake engines by context name, behind a real `EngineSet` and a private context store."""

    def __init__(self, root: Path, contexts: tuple[str, ...] = ("default",)) -> None:
        self.root = root
        self.engines: dict[str, FakeEngine] = {}
        self.unreachable: set[str] = set()
        self.connects: list[str] = []
        for name in contexts:
            self.add_context(name)

    def add_context(self, name: str, **engine_args: Any) -> FakeEngine:
        engine = FakeEngine(name, **engine_args)
        self.engines[name] = engine
        if name != "default":
            digest = hashlib.sha256(name.encode()).hexdigest()
            meta = self.root / "contexts" / "meta" / digest / "meta.json"
            meta.parent.mkdir(parents=True, exist_ok=True)
            endpoints = {"docker": {"Host": engine.endpoint}}
            meta.write_text(json.dumps({"Name": name, "Endpoints": endpoints}))
        return engine

    def __getitem__(self, context: str) -> FakeEngine:
        return self.engines[context]

    @property
    def env(self) -> dict[str, str]:
        """What the EngineSet sees as the environment: only our context store."""
        return {"DOCKER_CONFIG": str(self.root), "HOME": str(self.root)}

    def connect(
        self, context: str, endpoint: str, *, connect_timeout_s: float, **client_kwargs: Any
    ) -> FakeEngine:
        self.connects.append(context)
        engine = self.engines.get(context)
        if engine is None or context in self.unreachable:
            raise DomainError(
                "engineUnavailable",
                f"Docker engine of context '{context}' is not reachable at {endpoint}: "
                "connection refused",
                context=context,
            )
        return engine

    def engine_set(
        self,
        configured: str | None = None,
        extra: list[str] | None = None,
        env: dict[str, str] | None = None,
    ) -> EngineSet:
        return EngineSet(configured, extra, {**self.env, **(env or {})}, connector=self.connect)
