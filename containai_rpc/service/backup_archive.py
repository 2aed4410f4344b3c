"""The backup archive format, and the check an archive passes before anything is imported.

Layout: `containai-export.json` (the manifest), then the volume's files under `data/`,
all in one gzip-compressed tar. `check_archive` reads the whole file once: a truncated or
corrupt file (gzip CRC, tar headers), an unsafe member name (absolute, `..`, outside
`data/`), a hard link leaving the archive's own files or a device file or FIFO is refused
with `archiveInvalid`, before the target volume is touched.
"""

from __future__ import annotations

import gzip
import json
import tarfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from containai_rpc.errors import DomainError

MANIFEST = "containai-export.json"
DATA_ROOT = "data"
FORMAT = 1
_MANIFEST_MAX = 1 << 20
_CHUNK = 1 << 20
_ALLOWED_TYPES = (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE)


@dataclass
class ArchiveSummary:
    manifest: dict[str, Any] = field(default_factory=dict)
    files: int = 0
    bytes: int = 0


def invalid(path: str, why: str) -> DomainError:
    return DomainError(
        "archiveInvalid",
        f"Not a usable ContainAI backup: {path}: {why}",
        hint="Use an archive made by export; nothing was imported.",
    )


def safe_member_name(name: str) -> str | None:
    """Why `name` may not be extracted, or None when it is a safe `data/...` path."""
    if not name or "\x00" in name:
        return "an empty member name"
    if name.startswith("/"):
        return f"absolute path {name!r}"
    parts = PurePosixPath(name).parts
    if ".." in parts:
        return f"path {name!r} leaves the archive's folder"
    if parts[0] != DATA_ROOT:
        return f"member {name!r} is outside {DATA_ROOT}/"
    return None


def check_member(member: tarfile.TarInfo) -> str | None:
    """Why this member is refused, or None."""
    if member.name == MANIFEST:
        return None if member.isfile() else f"{MANIFEST} is not a regular file"
    why = safe_member_name(member.name)
    if why:
        return why
    if member.type == tarfile.LNKTYPE:
        return safe_member_name(member.linkname) and f"hard link {member.name!r} leaves data/"
    if member.type not in _ALLOWED_TYPES:
        return f"{member.name!r} is a device file, FIFO or other special file"
    return None


def check_archive(
    path: str, checkpoint: Callable[[int], None] = lambda _done: None
) -> ArchiveSummary:
    """Read the whole archive and check every member; `checkpoint(bytes read so far)` runs
    between members (progress, cancellation)."""
    summary = ArchiveSummary()
    seen_manifest = False
    try:
        with (
            open(path, "rb") as raw,
            gzip.GzipFile(fileobj=raw, mode="rb") as unzipped,
            tarfile.open(fileobj=unzipped, mode="r|") as tar,
        ):
            for member in tar:
                why = check_member(member)
                if why:
                    raise invalid(path, why)
                if member.name == MANIFEST:
                    if member.size > _MANIFEST_MAX:
                        raise invalid(path, f"{MANIFEST} is too large")
                    handle = tar.extractfile(member)
                    summary.manifest = _manifest(path, handle.read() if handle else b"")
                    seen_manifest = True
                elif member.isfile():
                    summary.files += 1
                    summary.bytes += member.size
                checkpoint(raw.tell())
            # tarfile stops at the end-of-archive blocks: read on to the gzip trailer, whose
            # CRC and length `gzip` checks, so damage anywhere in the file is found.
            while unzipped.read(_CHUNK):
                checkpoint(raw.tell())
    except DomainError:
        raise
    except FileNotFoundError:
        raise DomainError("invalidPath", f"No such archive: {path}") from None
    except IsADirectoryError:
        raise DomainError("invalidPath", f"Not a file: {path}") from None
    except PermissionError:
        raise DomainError("invalidPath", f"Cannot read {path}: permission denied") from None
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, OSError) as exc:
        raise invalid(path, f"damaged or truncated ({exc or type(exc).__name__})") from None
    if not seen_manifest:
        raise invalid(path, f"no {MANIFEST}")
    return summary


def _manifest(path: str, raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise invalid(path, f"{MANIFEST} is not JSON") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise invalid(path, f"{MANIFEST} is not a format-{FORMAT} manifest")
    return data
