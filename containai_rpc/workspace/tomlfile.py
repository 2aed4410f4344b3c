"""Reading and writing the TOML files we share with the user: damage named, writes atomic.

Used for the user config (workspace state), a repository's config, and the files we keep
under `~/.ssh` and the config directory. A file that cannot be read or parsed becomes a
`DomainError` naming the file, with a hint, under the reason the caller chooses.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from collections.abc import Callable
from contextlib import suppress
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from containai_rpc.errors import DomainError, Reason


def toml_type(value: object) -> str:
    """A value's TOML type name, for messages that users compare with their file."""
    if isinstance(value, bool):
        return "boolean"
    names: list[tuple[type | tuple[type, ...], str]] = [
        (str, "string"),
        (int, "integer"),
        (float, "float"),
        (dict, "table"),
        (list, "array"),
        ((datetime, date, time), "date/time"),
    ]
    return next((name for kind, name in names if isinstance(value, kind)), type(value).__name__)


def damaged(path: Path, what: str, hint: str, reason: Reason) -> DomainError:
    """The error for a file the user has to fix; the message starts with its path."""
    return DomainError(reason, f"{path}: {what}", hint=hint, file=str(path))


def read_text(path: Path, reason: Reason) -> str | None:
    """The file's text, None when it does not exist; any other failure is `reason`."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise damaged(
            path,
            "is a directory, not a file",
            f"Move the directory {path} out of the way.",
            reason,
        ) from None
    except PermissionError:
        raise damaged(
            path,
            "cannot be read (permission denied)",
            f"Make it readable by you, e.g. `chmod 600 {path}` (and chown if needed).",
            reason,
        ) from None
    except OSError as exc:
        raise damaged(
            path,
            f"cannot be read ({exc.strerror or exc})",
            f"Check that every directory on the way to {path} is a readable directory.",
            reason,
        ) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise damaged(
            path, f"is not UTF-8 (byte {exc.start})", "Save the file as UTF-8.", reason
        ) from None


def parse(path: Path, text: str, reason: Reason) -> dict[str, Any]:
    """Strict TOML 1.0 parse; a syntax error becomes `reason` with the position."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise damaged(
            path,
            f"invalid TOML: {exc}",
            f"Fix the syntax, or move the file aside (e.g. `mv {path} {path}.bak`).",
            reason,
        ) from None


def load_toml(path: Path, *, reason: Reason) -> dict[str, Any] | None:
    """A TOML file as plain data, None when missing; damage is `DomainError(reason)`."""
    text = read_text(path, reason)
    return None if text is None else parse(path, text, reason)


def write_failed(path: Path, exc: OSError) -> DomainError:
    """`stateWriteFailed` for a file we could not write (disk full, not a directory, …)."""
    return DomainError(
        "stateWriteFailed",
        f"{path}: cannot write ({exc.strerror or exc})",
        hint=f"Check free space and that {path.parent} is a directory writable by you.",
        file=str(path),
    )


def replace_atomically(
    target: Path,
    text: str,
    *,
    mode: int = 0o600,
    prefix: str = ".config_",
    before_rename: Callable[[], None] | None = None,
) -> None:
    """Temp file next to `target`, fsync, rename, fsync the folder: readers see the old
    or the new file, never half of one. An OSError is the caller's to report."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=prefix, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)
            f.write(text.encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
        if before_rename is not None:
            before_rename()
        os.replace(tmp, target)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def atomic_write(path: Path, text: str) -> None:
    """`replace_atomically` for the user config, mode 0600, failures as `stateWriteFailed`."""
    # Write through a symlink (dotfile managers) instead of replacing the link itself.
    target = path.resolve() if path.is_symlink() else path
    try:
        replace_atomically(target, text)
    except OSError as exc:
        raise write_failed(path, exc) from None
