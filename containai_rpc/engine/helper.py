"""`VolumeHelper`: a short-lived container that only exists to read or fill one volume.

The helper is created from a local image (never pulled), with the volume at `/data`, and is
normally never started: the engine copies files out of and into a created container's
volumes by itself (`GET/PUT /containers/{id}/archive`), so the image needs no `tar`. The
helper for an import is started once at the end, to run its `command` (removing the
"import incomplete" marker). It carries `containai.helper=backup` (and no other of our
labels, so `list` and `gc` never see it) and is removed when the `with` block ends.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

from containai_rpc.errors import DomainError

HELPER_LABEL = "containai.helper"
HELPER_MOUNT = "/data"
_CHUNK = 1 << 20


class VolumeHelper:
    """One helper container; use it as a context manager (it is removed on exit)."""

    def __init__(self, engine: Any, container_id: str) -> None:
        self._engine = engine
        self._api = engine.api
        self.id = container_id

    def __enter__(self) -> VolumeHelper:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.remove()

    def read(self, path: str = HELPER_MOUNT) -> Iterator[bytes]:
        """The uncompressed tar of `path` (members named `data/...` for `/data`), in chunks."""
        with self._engine.guard(not_found="volumeNotFound"):
            response = self._engine.request(
                "get",
                f"/containers/{self.id}/archive",
                params={"path": path},
                stream=True,
                headers={"Accept-Encoding": "identity"},
            )
        try:
            with self._engine.guard():
                yield from response.iter_content(chunk_size=_CHUNK, decode_unicode=False)
        finally:
            response.close()

    def write(self, path: str, data: bytes | Iterable[bytes]) -> None:
        """Extract a (plain or gzipped) tar stream at `path`, keeping the members' owners."""
        with self._engine.guard(not_found="volumeNotFound"):
            self._engine.request(
                "put",
                f"/containers/{self.id}/archive",
                params={"path": path, "copyUIDGID": "1"},
                data=data,
            )

    def run(self, timeout_s: float = 60.0) -> int:
        """Start the helper's command and wait for it; its exit code."""
        with self._engine.guard():
            self._api.start(self.id)
            return int(self._api.wait(self.id, timeout=timeout_s).get("StatusCode", -1))

    def remove(self) -> None:
        with contextlib.suppress(DomainError), self._engine.guard():
            self._api.remove_container(self.id, v=False, force=True)


def create_helper(
    engine: Any, volume: str, image: str, *, read_only: bool, command: list[str] | None
) -> VolumeHelper:
    """A created (not started) helper with `volume` at /data; the volume must exist."""
    api = engine.api
    with engine.guard(not_found="volumeNotFound"):
        host_config = api.create_host_config(
            binds={volume: {"bind": HELPER_MOUNT, "mode": "ro" if read_only else "rw"}},
            network_mode="none",
        )
        created = api.create_container(
            image,
            command=command or ["true"],
            labels={HELPER_LABEL: "backup"},
            host_config=host_config,
            network_disabled=True,
            detach=True,
        )
    return VolumeHelper(engine, created["Id"])


__all__ = ["HELPER_LABEL", "HELPER_MOUNT", "VolumeHelper", "create_helper"]
