"""`export`: a data volume to a `.tgz` file, never a partial file under the final name.

(`import`, the way back, is `backup_import`.) Export streams the volume's files out of a
read-only helper container into a temporary file next to the target, fsyncs it and only
then renames it to the final name: an interrupted export (cancel, error, killed server)
never leaves a partial file under that name.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
import tarfile
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from containai_rpc.engine import ContainerInfo, Engine, EngineSet
from containai_rpc.errors import DomainError
from containai_rpc.protocol.backup import ExportParams, ExportResult
from containai_rpc.service.backup_archive import (
    DATA_ROOT,
    FORMAT,
    MANIFEST,
)
from containai_rpc.service.hooks import Hooks
from containai_rpc.service.resolve import find_target
from containai_rpc.workspace.paths import current_dir
from containai_rpc.workspace.userconfig import UserConfig

PROGRESS_EVERY = 16 << 20
CHUNK = 1 << 20


# --------------------------------------------------------------------------- export


def export_volume(
    engines: EngineSet, p: ExportParams, hooks: Hooks, *, cwd: str | None = None
) -> ExportResult:
    final = Path(cwd or current_dir(), p.output).absolute()
    _check_output(final, p.force)
    config = UserConfig.load()
    engine, info, volume, workspace = _source(engines, config, p, cwd)
    return _export(engine, info, volume, workspace, final, p, config, hooks)


def export_container(
    engine: Engine, info: ContainerInfo, output: str, hooks: Hooks, *, cwd: str | None = None
) -> ExportResult:
    """Export the data volume of `info` (what `stop` with `exportTo` does first). An
    existing folder as `output` gets a file named after the container and the time."""
    final = Path(cwd or current_dir(), output).absolute()
    if final.is_dir():
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        final = final / f"{info.name}-{stamp}.tgz"
    _check_output(final, False)
    volume = info.mounted_volume() or info.data_volume
    if not volume:
        raise DomainError("volumeNotFound", f"Container {info.name} has no data volume")
    config = UserConfig.load()
    p = ExportParams(output=str(final), container=info.name)
    return _export(engine, info, volume, info.workspace, final, p, config, hooks)


def _export(
    engine: Engine,
    info: ContainerInfo | None,
    volume: str,
    workspace: str | None,
    final: Path,
    p: ExportParams,
    config: UserConfig,
    hooks: Hooks,
) -> ExportResult:
    image = helper_image(engine, p.image, info, config)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "dataVolume": volume,
        "containerName": info.name if info else None,
        "image": info.image if info else None,
        "context": engine.context,
        "workspace": workspace,
        "workspaceState": _state_entry(config, workspace),
        "exportedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    hooks.checkpoint()
    hooks.progress(f"Exporting data volume {volume}")
    temp = final.with_name(f".{final.name}.{secrets.token_hex(4)}.partial")
    try:
        with open(temp, "xb") as out:
            with tarfile.open(fileobj=out, mode="w|gz") as dst:
                add_bytes(dst, MANIFEST, json.dumps(manifest, indent=2).encode())
                files, size = _copy_volume(engine, volume, image, dst, hooks)
            hooks.progress("Writing archive")
            out.flush()
            os.fsync(out.fileno())
        hooks.checkpoint()
        _publish(temp, final, replace=p.force)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    return ExportResult(
        path=str(final),
        data_volume=volume,
        container_name=info.name if info else None,
        context=engine.context,
        files=files,
        bytes=size,
        archive_bytes=final.stat().st_size,
    )


def _copy_volume(
    engine: Engine, volume: str, image: str, dst: tarfile.TarFile, hooks: Hooks
) -> tuple[int, int]:
    """Stream the volume's files from a read-only helper into `dst`: (files, bytes)."""
    files = size = reported = 0
    with engine.volume_helper(volume, image, read_only=True) as helper:
        chunks = helper.read("/" + DATA_ROOT)
        try:
            with tarfile.open(fileobj=ChunkReader(chunks), mode="r|") as src:
                for member in src:
                    hooks.checkpoint()
                    handle = src.extractfile(member) if member.isfile() else None
                    dst.addfile(member, handle)
                    if member.isfile():
                        files += 1
                        size += member.size
                    if size - reported >= PROGRESS_EVERY:
                        reported = size
                        hooks.progress(f"Exporting data: {size >> 20} MiB")
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
    return files, size


def _publish(temp: Path, final: Path, *, replace: bool) -> None:
    """The finished archive under its final name, never a partial one."""
    if replace:
        os.replace(temp, final)
    else:
        os.link(temp, final)  # fails rather than replace a file that appeared meanwhile
        os.unlink(temp)
    _fsync_dir(final.parent)


def _check_output(final: Path, force: bool) -> None:
    if not final.parent.is_dir():
        raise DomainError("invalidPath", f"No such folder: {final.parent}")
    if final.exists() and (not force or final.is_dir()):
        raise DomainError(
            "invalidPath",
            f"{final} already exists",
            hint="Choose another file name, or repeat with force to replace it.",
        )


def _source(
    engines: EngineSet, config: UserConfig, p: ExportParams, cwd: str | None
) -> tuple[Engine, ContainerInfo | None, str, str | None]:
    """The engine, container (if any), volume and workspace the export is about."""
    if p.data_volume and not p.container and not p.workspace:
        engine = engines.get(p.context)
        if not engine.volume_exists(p.data_volume):
            raise DomainError("volumeNotFound", f"Volume not found: {p.data_volume}")
        return engine, None, p.data_volume, None
    target = find_target(
        engines, config, container=p.container, workspace=p.workspace, context=p.context, cwd=cwd
    )
    info = target.container
    if info is None:
        raise DomainError(
            "containerNotFound",
            f"No container for workspace {target.workspace}",
            hint="Name the container or the data volume to export.",
        )
    volume = p.data_volume or info.mounted_volume() or info.data_volume
    if not volume:
        raise DomainError("volumeNotFound", f"Container {info.name} has no data volume")
    return target.engine, info, volume, info.workspace or target.workspace


def _state_entry(config: UserConfig, workspace: str | None) -> dict[str, Any] | None:
    if not workspace:
        return None
    entry = {k: v for k, v in asdict(config.workspace_state(workspace)).items() if v is not None}
    return entry or None


def add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    info.mtime = int(time.time())
    tar.addfile(info, io.BytesIO(data))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class ChunkReader(io.RawIOBase):
    """A read-only file over an iterator of byte chunks (what tarfile's stream mode reads)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = iter(chunks)
        self._rest = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._rest:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._rest = chunk
        n = min(len(buffer), len(self._rest))
        buffer[:n] = self._rest[:n]
        self._rest = self._rest[n:]
        return n


# --------------------------------------------------------------------------- images


def helper_image(
    engine: Engine, wanted: str | None, info: ContainerInfo | None, config: UserConfig
) -> str:
    """A local image for the helper: the one asked for, else the container's, else the
    configured one. Never pulled: no registry is needed to back up or restore."""
    if wanted:
        return first_local(engine, [wanted])
    return first_local(engine, [info.image if info else None, configured_image(config)])


def first_local(engine: Engine, candidates: list[Any]) -> str:
    """The first of `candidates` that is an image on this engine."""
    names = [c for c in candidates if isinstance(c, str) and c]
    for image in names:
        if engine.image_labels(image) is not None:
            return image
    raise DomainError(
        "imageNotFound",
        f"No local image for the helper container (tried {', '.join(names) or 'none'})",
        hint="Build or load the ContainAI image, or name a local image (image).",
    )


def configured_image(config: UserConfig) -> str | None:
    try:
        return config.settings().image
    except DomainError:
        return None
