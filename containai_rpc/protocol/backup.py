"""Wire models of `containai/export` and `containai/import` (part of the protocol's single
source): backups of a data volume as a `.tgz` file.

The archive holds `containai-export.json` (what was exported: volume, container,
workspace and its state entry) and the volume's files under `data/`.
"""

from __future__ import annotations

from pydantic import Field

from containai_rpc.protocol.base import Params, WireModel
from containai_rpc.protocol.models import (
    ContainerName,
    ContextName,
    WorkDoneToken,
    WorkspacePath,
)

FilePath = Field(
    description="Archive file (absolute, or relative to the server's cwd).",
    min_length=1,
    max_length=4096,
)
VolumeName = Field(default=None, description="A Docker volume name.", min_length=1, max_length=255)
HelperImage = Field(
    default=None,
    description="Local image for the short-lived helper container (never pulled); default: "
    "the container's image, else the configured image.",
    min_length=1,
    max_length=255,
)


class ExportParams(Params):
    """Export one data volume: `dataVolume`, else the volume of `container`, else of the
    `workspace`'s container."""

    output: str = FilePath
    workspace: str | None = WorkspacePath
    container: str | None = ContainerName
    context: str | None = ContextName
    data_volume: str | None = VolumeName
    image: str | None = HelperImage
    force: bool = Field(default=False, description="Replace an existing `output` file.")
    work_done_token: int | str | None = WorkDoneToken


class ExportResult(WireModel):
    path: str = Field(description="Absolute path of the archive, complete and fsynced.")
    data_volume: str
    container_name: str | None = None
    context: str
    files: int = Field(description="Regular files in the archive.")
    bytes: int = Field(description="Their total size, uncompressed.")
    archive_bytes: int = Field(description="Size of the .tgz file.")


class ImportParams(Params):
    """Import an archive made by `containai/export` into a new or empty volume.

    The whole archive is checked (readable, safe member paths, no device files) before
    anything is written."""

    input: str = FilePath
    data_volume: str | None = Field(
        default=None,
        description="Target volume; default: the volume the archive was exported from.",
        min_length=1,
        max_length=255,
    )
    context: str | None = ContextName
    image: str | None = HelperImage
    force: bool = Field(
        default=False,
        description="Import into a volume that is not empty (files of the archive replace "
        "files of the same name; others stay).",
    )
    work_done_token: int | str | None = WorkDoneToken


class ImportResult(WireModel):
    data_volume: str
    context: str
    created: bool = Field(description="The volume was created by this import.")
    files: int = Field(description="Regular files imported.")
    bytes: int = Field(description="Their total size.")
    source_volume: str | None = Field(
        default=None, description="The volume the archive was exported from."
    )
