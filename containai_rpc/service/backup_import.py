"""`import`: a `.tgz` made by `export` into a new or empty data volume.

The whole archive is checked first (`backup_archive.check_archive`), then a helper
container fills the volume. Before the first file it writes a marker (`INCOMPLETE_MARKER`)
that the helper removes as its very last step, so a volume whose import was cut short is
recognisably not "done": a later import refuses it as not empty and names the
interruption. A volume this call created is removed again only while nothing has been
written to it; no existing volume is ever removed.
"""

from __future__ import annotations

import contextlib
import io
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from containai_rpc.engine import Engine, EngineSet
from containai_rpc.errors import DomainError
from containai_rpc.protocol.backup import ImportParams, ImportResult
from containai_rpc.service.backup import (
    CHUNK,
    PROGRESS_EVERY,
    ChunkReader,
    add_bytes,
    configured_image,
    first_local,
    helper_image,
)
from containai_rpc.service.backup_archive import DATA_ROOT, ArchiveSummary, check_archive
from containai_rpc.service.hooks import Hooks
from containai_rpc.workspace.paths import current_dir
from containai_rpc.workspace.userconfig import UserConfig

INCOMPLETE_MARKER = ".containai-import-incomplete"


def import_volume(
    engines: EngineSet, p: ImportParams, hooks: Hooks, *, cwd: str | None = None
) -> ImportResult:
    source = Path(cwd or current_dir(), p.input).absolute()
    summary = _checked(source, hooks)
    volume = p.data_volume or summary.manifest.get("dataVolume")
    if not isinstance(volume, str) or not volume:
        raise DomainError("invalidParams", "Name the volume to import into (dataVolume)")
    engine = engines.get(p.context)
    recorded = summary.manifest.get("image")
    config = UserConfig.load()
    image = helper_image(engine, p.image or None, None, config) if p.image else None
    if image is None:
        image = first_local(engine, [recorded, configured_image(config)])
    hooks.checkpoint()
    created = engine.ensure_volume(volume)
    _write_volume(engine, volume, image, source, created=created, force=p.force, hooks=hooks)
    source_volume = summary.manifest.get("dataVolume")
    return ImportResult(
        data_volume=volume,
        context=engine.context,
        created=created,
        files=summary.files,
        bytes=summary.bytes,
        source_volume=source_volume if isinstance(source_volume, str) else None,
    )


def _checked(source: Path, hooks: Hooks) -> ArchiveSummary:
    """The whole archive checked before anything is written, with progress."""
    hooks.progress(f"Checking archive {source.name}")
    last = [0]

    def check_step(done: int) -> None:
        hooks.checkpoint()
        if done - last[0] >= PROGRESS_EVERY:
            last[0] = done
            hooks.progress(f"Checking archive: {done >> 20} MiB")

    return check_archive(str(source), check_step)


def _write_volume(
    engine: Engine,
    volume: str,
    image: str,
    source: Path,
    *,
    created: bool,
    force: bool,
    hooks: Hooks,
) -> None:
    """Marker, files, then the marker's removal as the last step: an interrupted import
    is recognisable. A volume this call created is removed if nothing was written."""
    written = False
    try:
        command = ["rm", "-f", f"/{DATA_ROOT}/{INCOMPLETE_MARKER}"]
        with engine.volume_helper(volume, image, read_only=False, command=command) as helper:
            if not created:
                _require_empty(helper, volume, force)
            hooks.checkpoint()
            hooks.progress(f"Importing into {volume}")
            written = True
            helper.write("/" + DATA_ROOT, _marker_tar())
            helper.write("/", _file_chunks(source, hooks))
            hooks.checkpoint()
            hooks.progress("Finishing import")
            code = helper.run()
            if code != 0:
                raise DomainError(
                    "engineError",
                    f"The helper could not finish the import into {volume} (exit {code})",
                )
    except BaseException:
        if created and not written:
            with contextlib.suppress(DomainError):
                engine.remove_volume(volume)
        raise


def _require_empty(helper: Any, volume: str, force: bool) -> None:
    """Refuse a volume that holds files (unless `force`); name an interrupted import."""
    names = _first_entries(helper, limit=64)
    if not names:
        return
    interrupted = f"{DATA_ROOT}/{INCOMPLETE_MARKER}" in names
    if force:
        return
    if interrupted:
        message = f"Volume {volume} holds an interrupted import and is not complete"
    else:
        message = f"Volume {volume} is not empty"
    raise DomainError(
        "volumeNotEmpty",
        message,
        hint="Import into a new volume (dataVolume), or repeat with force to import over it.",
    )


def _first_entries(helper: Any, *, limit: int) -> list[str]:
    """Up to `limit` member names under /data, without reading the whole volume."""
    chunks = helper.read("/" + DATA_ROOT)
    names: list[str] = []
    try:
        with tarfile.open(fileobj=ChunkReader(chunks), mode="r|") as tar:
            for member in tar:
                if member.name.rstrip("/") != DATA_ROOT:
                    names.append(member.name)
                if len(names) >= limit:
                    break
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    return names


def _marker_tar() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        add_bytes(tar, INCOMPLETE_MARKER, b"an import into this volume has not finished\n")
    return buffer.getvalue()


def _file_chunks(path: Path, hooks: Hooks) -> Iterator[bytes]:
    """The archive's bytes for the engine, with progress and cancellation between chunks."""
    done = reported = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            hooks.checkpoint()
            yield chunk
            done += len(chunk)
            if done - reported >= PROGRESS_EVERY // 4:
                reported = done
                hooks.progress(f"Importing data: {done >> 20} MiB")
