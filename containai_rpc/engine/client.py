"""One Docker engine (one context): containers, volumes, images and exec via the SDK."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from typing import Any

import docker
import docker.errors
import requests.exceptions

from containai_rpc.engine.errors import translate_errors
from containai_rpc.engine.events import WATCHED_ACTIONS, EventStream, docker_timestamp
from containai_rpc.engine.execio import demux, first_file, read_stream
from containai_rpc.engine.helper import VolumeHelper, create_helper
from containai_rpc.engine.images import EngineImages
from containai_rpc.engine.models import (
    DATA_MOUNT,
    MANAGED_LABEL,
    PORT_LABEL,
    WORKSPACE_LABEL,
    WORKSPACE_MOUNT,
    ContainerInfo,
    CreateSpec,
    EngineInfo,
    ExecResult,
    VolumeInfo,
)
from containai_rpc.engine.sshtunnel import Tunnel
from containai_rpc.engine.volumes import inspect_volume
from containai_rpc.engine.volumes import volume_info as describe_volume
from containai_rpc.errors import DomainError, Reason

log = logging.getLogger(__name__)

API_TIMEOUT_S = 120


class Engine(EngineImages):
    """A Docker engine reached through one context. Thread-safe (the SDK pools connections)."""

    def __init__(self, context: str, endpoint: str, client: docker.DockerClient) -> None:
        self.context = context
        self.endpoint = endpoint
        self._client = client
        self.api = client.api
        self.tunnel: Tunnel | None = None
        self._info: EngineInfo | None = None
        self._info_lock = threading.Lock()

    @property
    def host(self) -> str:
        return engine_host(self.endpoint)

    def guard(
        self, not_found: Reason = "containerNotFound"
    ) -> contextlib.AbstractContextManager[None]:
        return translate_errors(self.context, self.endpoint, not_found=not_found)

    # ------------------------------------------------------------------ engine

    def info(self, *, refresh: bool = False) -> EngineInfo:
        """Engine facts, cached: runtimes and versions do not change under a running server."""
        with self._info_lock:
            if self._info is None or refresh:
                with self.guard():
                    raw = self.api.info()
                    version = self.api.version()
                self._info = EngineInfo(
                    context=self.context,
                    endpoint=self.endpoint,
                    server_version=str(version.get("Version", "")),
                    api_version=str(version.get("ApiVersion", "")),
                    runtimes=tuple(sorted((raw.get("Runtimes") or {}).keys())),
                    kernel_version=str(raw.get("KernelVersion", "")),
                    ncpu=int(raw.get("NCPU") or 1),
                    mem_total=int(raw.get("MemTotal") or 0),
                )
            return self._info

    def ping(self, *, timeout_s: float | None = None) -> None:
        """One `/_ping` round trip, cut after `timeout_s` (default: the API timeout)."""
        with self.guard():
            response = self.api.get(
                f"{self.api.base_url}/_ping", timeout=timeout_s or self.api.timeout
            )
            if not response.ok:
                raise docker.errors.APIError(f"/_ping answered HTTP {response.status_code}")

    # ------------------------------------------------------------------ containers

    def list_managed(self) -> list[ContainerInfo]:
        """Every managed container, fully inspected (one list call + one inspect each)."""
        return [c for c in map(self.inspect, self.managed_ids()) if c is not None]

    def managed_ports(self) -> set[int]:
        """SSH ports labelled on managed containers: one list call, no inspects."""
        with self.guard():
            rows = self.api.containers(all=True, filters={"label": [f"{MANAGED_LABEL}=true"]})
        values = ((row.get("Labels") or {}).get(PORT_LABEL, "") for row in rows)
        return {int(v) for v in values if v.isdigit()}

    def managed_ids(self, **labels: str) -> list[str]:
        """Ids of managed containers, optionally narrowed by more `label=value` filters."""
        wanted = [f"{MANAGED_LABEL}=true", *(f"{k}={v}" for k, v in labels.items())]
        with self.guard():
            rows = self.api.containers(all=True, filters={"label": wanted})
        return [row["Id"] for row in rows]

    def ids_for_workspace(self, workspace: str) -> list[str]:
        """Containers (managed or not) carrying our workspace label for this path."""
        with self.guard():
            rows = self.api.containers(
                all=True, filters={"label": [f"{WORKSPACE_LABEL}={workspace}"]}
            )
        return [row["Id"] for row in rows]

    def inspect(self, name_or_id: str) -> ContainerInfo | None:
        """The container, or None when it does not exist (not an error: callers decide)."""
        try:
            with self.guard():
                data = self.api.inspect_container(name_or_id)
        except DomainError as exc:
            if exc.reason == "containerNotFound":
                return None
            raise
        return ContainerInfo.from_inspect(self.context, data, engine_host=self.host)

    def require(self, name_or_id: str) -> ContainerInfo:
        info = self.inspect(name_or_id)
        if info is None:
            raise DomainError(
                "containerNotFound",
                f"Container not found: {name_or_id}",
                context=self.context,
                container=name_or_id,
            )
        return info

    def create(self, spec: CreateSpec) -> ContainerInfo:
        """Create (not start) a container as the original's `docker run` would: same labels,
        mounts and limits."""
        host_config: dict[str, Any] = {
            "binds": {spec.data_volume: {"bind": DATA_MOUNT, "mode": "rw"}},
            # A structured mount, not a `src:dst:mode` bind string: a workspace path may
            # contain `:` or `,`, which the bind syntax would split or refuse.
            "mounts": [docker.types.Mount(WORKSPACE_MOUNT, spec.workspace, type="bind")],
            "runtime": spec.runtime,
        }
        if spec.ssh_port is not None:
            host_config["port_bindings"] = {22: ("127.0.0.1", spec.ssh_port)}
        if spec.reduced_isolation:
            # What lets systemd run as PID 1 under runc without --privileged (recipes).
            host_config.update(
                cap_add=["SYS_ADMIN"],
                cgroupns="private",
                tmpfs={"/run": "", "/run/lock": ""},
            )
        if spec.memory:
            host_config.update(mem_limit=spec.memory, memswap_limit=spec.memory)
        if spec.cpus:
            host_config["nano_cpus"] = int(spec.cpus * 1e9)
        with self.guard():
            hc = self.api.create_host_config(**host_config)
            created = self.api.create_container(
                spec.image,
                name=spec.name,
                hostname=spec.hostname,
                labels=spec.labels,
                environment=spec.environment,
                working_dir=WORKSPACE_MOUNT,
                ports=[22] if spec.ssh_port is not None else None,
                host_config=hc,
                stop_timeout=100,
                detach=True,
            )
        return self.require(created["Id"])

    def start(self, container_id: str) -> None:
        with self.guard():
            self.api.start(container_id)

    def stop(self, container_id: str) -> None:
        """Graceful stop with the container's own stop timeout (100 s, set at creation)."""
        with self.guard():
            self.api.stop(container_id)

    def remove(self, container_id: str, *, force: bool) -> None:
        """Remove the container only: `v=False`, so no volume ever goes with it."""
        with self.guard():
            self.api.remove_container(container_id, v=False, force=force)

    # ------------------------------------------------------------------ volumes

    def volume_exists(self, name: str) -> bool:
        return inspect_volume(self, name) is not None

    def volume_info(self, name: str) -> VolumeInfo | None:
        """The volume's labels and the non-managed containers mounting it; None: missing."""
        return describe_volume(self, name)

    def ensure_volume(self, name: str) -> bool:
        """Create the named volume if missing; True when it was created now."""
        if self.volume_exists(name):
            return False
        with self.guard(not_found="volumeNotFound"):
            self.api.create_volume(name=name, labels={MANAGED_LABEL: "true"})
        return True

    def remove_volume(self, name: str) -> None:
        """Only for a volume the same request created and left empty (a failed import)."""
        with self.guard(not_found="volumeNotFound"):
            self.api.remove_volume(name)

    def volume_helper(
        self, volume: str, image: str, *, read_only: bool, command: list[str] | None = None
    ) -> VolumeHelper:
        """A short-lived helper container with `volume` at /data (see `engine.helper`)."""
        return create_helper(self, volume, image, read_only=read_only, command=command)

    # ------------------------------------------------------------------ gc support

    def unmanaged_labelled(self) -> list[ContainerInfo]:
        """Containers with one of our labels but without `containai.managed=true`."""
        ids: set[str] = set()
        with self.guard():
            for key in (MANAGED_LABEL, WORKSPACE_LABEL):
                rows = self.api.containers(all=True, filters={"label": [key]})
                ids.update(
                    row["Id"]
                    for row in rows
                    if (row.get("Labels") or {}).get(MANAGED_LABEL) != "true"
                )
        return [c for c in map(self.inspect, sorted(ids)) if c is not None]

    def container_sizes(self, ids: list[str]) -> dict[str, int]:
        """Writable-layer bytes (`SizeRw`) of these containers only (sizing costs a disk walk)."""
        if not ids:
            return {}
        with self.guard():
            rows = self.api.containers(all=True, size=True, filters={"id": ids})
        return {row["Id"]: int(row.get("SizeRw") or 0) for row in rows}

    # ------------------------------------------------------------------ exec

    def exec(
        self, container_id: str, argv: list[str], *, user: str = "", timeout_s: float = 10.0
    ) -> ExecResult:
        """Run argv in the container (never through a host shell), cut at `timeout_s`.

        The command runs under the container's `timeout` where the image has one, so
        nothing keeps running inside after the deadline; the client side is bounded
        by a socket timeout as well.
        """
        with self.guard():
            exec_id = self.api.exec_create(container_id, argv, user=user, stdin=False)["Id"]
            sock = self.api.exec_start(exec_id, socket=True)
        data, complete = read_stream(sock, timeout_s)
        if not complete:
            return ExecResult(exit_code=None, output=demux(data))
        with self.guard():
            code = self.api.exec_inspect(exec_id).get("ExitCode")
        return ExecResult(exit_code=code, output=demux(data))

    def read_file(self, container_id: str, path: str, max_bytes: int = 4096) -> bytes | None:
        """A small regular file of the container (running or stopped), None when absent.

        Read with the archive API, so it works on a stopped container, where exec cannot.
        """
        try:
            with self.guard():
                stream, _stat = self.api.get_archive(container_id, path)
                data = b"".join(stream)
        except DomainError:
            return None
        return first_file(data, max_bytes)

    # ------------------------------------------------------------------ events

    def events(self, *, since_ns: int, until_ns: int) -> EventStream:
        """Managed-container events in [since, until] (engine clock), replaying the past part.

        Always bounded: without `until` a dead TCP peer could block the reader forever,
        and without `since` an `until` replays the daemon's whole event buffer.
        """
        filters = {
            "type": ["container"],
            "label": [f"{MANAGED_LABEL}=true"],
            "event": list(WATCHED_ACTIONS),
        }
        params = {
            "since": docker_timestamp(since_ns),
            "until": docker_timestamp(until_ns),
            "filters": json.dumps(filters),
        }
        with self.guard():
            # The SDK's `events()` keeps its response to itself: the same request, with
            # the response ours to close (a watcher's stop must end a blocked read).
            response = self.request("get", "/events", params=params, stream=True)
        return EventStream(self.context, self.endpoint, response)

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """A raw Engine API call through the SDK's session (public: `APIClient` is a
        `requests.Session`), for what the SDK does not expose: streams we must close,
        archive parameters it does not pass. An HTTP error becomes the SDK's own error."""
        url = f"{self.api.base_url}/v{self.api.api_version}{path}"
        response = getattr(self.api, method)(url, timeout=None, **kwargs)
        try:
            response.raise_for_status()
        except requests.exceptions.HTTPError as exc:
            raise docker.errors.create_api_error_from_http_exception(exc) from exc
        return response

    def managed_states(self) -> dict[str, str]:
        """id → Docker state of every managed container: one list call (the live backstop)."""
        with self.guard():
            rows = self.api.containers(all=True, filters={"label": [f"{MANAGED_LABEL}=true"]})
        return {row["Id"]: str(row.get("State") or "unknown") for row in rows}

    def close(self) -> None:
        self._client.close()


def engine_host(endpoint: str) -> str:
    """`local` for a socket on this machine, else the endpoint itself."""
    return "local" if endpoint.startswith(("unix://", "npipe://")) else endpoint


def connect(
    context: str, endpoint: str, *, connect_timeout_s: float = API_TIMEOUT_S, **client_kwargs: Any
) -> Engine:
    """An Engine for `endpoint`, connected now: the SDK negotiates the API version at once,
    cut after `connect_timeout_s`; later calls get the normal API timeout."""
    with translate_errors(context, endpoint):
        client = docker.DockerClient(timeout=connect_timeout_s, version="auto", **client_kwargs)
    client.api.timeout = API_TIMEOUT_S
    return Engine(context, endpoint, client)
