"""The user config file, which also holds workspace state (spec §3.3).

The original `cai` reads and writes the same `config.toml`, so the layout is its layout:
`[workspace."<path>"]` tables of basic strings. Edits go through tomlkit so the user's
comments and formatting survive; every read-modify-write runs under one file lock and
lands with an atomic rename, so concurrent processes never lose each other's updates.

A damaged file (bad TOML, wrong types, a directory, unreadable) is reported as
`stateFileInvalid` naming the file, and is never written: a write refuses instead of
rewriting it, so the user's content stays exactly as it was until they fix it.
"""

from __future__ import annotations

import json
import os
import tempfile
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import tomlkit
from filelock import FileLock, Timeout
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, InlineTable, Table
from tomlkit.toml_document import TOMLDocument

from containai_rpc.errors import DomainError

LOCK_TIMEOUT_S = 10.0
"""How long a writer waits for another process's edit before failing with `busy`."""

_STATE_KEYS: dict[str, type] = {
    "container_name": str,
    "data_volume": str,
    "created_at": str,
    "keep": bool,
}
_KEEP_LISTS = ("containers", "released")


def config_dir() -> Path:
    """`$XDG_CONFIG_HOME/containai`, else `~/.config/containai`, read from the env now."""
    xdg = os.environ.get("XDG_CONFIG_HOME")
    base = Path(xdg) if xdg else Path(os.path.expanduser("~")) / ".config"
    return base / "containai"


def user_config_path() -> Path:
    """The user config that also holds workspace state (the original's path)."""
    return config_dir() / "config.toml"


@dataclass(frozen=True)
class WorkspaceState:
    """One `[workspace."<path>"]` table; None means the key is absent."""

    container_name: str | None = None
    data_volume: str | None = None
    created_at: str | None = None
    keep: bool | None = None


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


def _damaged(path: Path, what: str, hint: str, reason: str) -> DomainError:
    return DomainError(reason, f"{path}: {what}", hint=hint, file=str(path))


def _read_text(path: Path, reason: str) -> str | None:
    """The file's text, None when it does not exist; any other failure is `reason`."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise _damaged(
            path,
            "is a directory, not a file",
            f"Move the directory {path} out of the way.",
            reason,
        ) from None
    except PermissionError:
        raise _damaged(
            path,
            "cannot be read (permission denied)",
            f"Make it readable by you, e.g. `chmod 600 {path}` (and chown if needed).",
            reason,
        ) from None
    except OSError as exc:
        raise _damaged(
            path,
            f"cannot be read ({exc.strerror or exc})",
            f"Check that every directory on the way to {path} is a readable directory.",
            reason,
        ) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _damaged(
            path, f"is not UTF-8 (byte {exc.start})", "Save the file as UTF-8.", reason
        ) from None


def _parse(path: Path, text: str, reason: str) -> dict[str, Any]:
    """Strict TOML 1.0 parse; a syntax error becomes `reason` with the position."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _damaged(
            path,
            f"invalid TOML: {exc}",
            f"Fix the syntax, or move the file aside (e.g. `mv {path} {path}.bak`).",
            reason,
        ) from None


def load_toml(path: Path, *, reason: str) -> dict[str, Any] | None:
    """A TOML file as plain data, None when missing; damage is `DomainError(reason)`."""
    text = _read_text(path, reason)
    return None if text is None else _parse(path, text, reason)


def _check_structure(path: Path, data: dict[str, Any]) -> None:
    """The parts this module owns must have the types the original writes."""
    hint = f"Fix or remove the offending entry in {path}."

    def bad(what: str) -> DomainError:
        return _damaged(path, what, hint, "stateFileInvalid")

    workspaces = data.get("workspace", {})
    if not isinstance(workspaces, dict):
        raise bad(f"`workspace` must be a table, not a {toml_type(workspaces)}")
    for ws, table in workspaces.items():
        if not isinstance(table, dict):
            raise bad(f'`workspace."{ws}"` must be a table, not a {toml_type(table)}')
        for key, kind in _STATE_KEYS.items():
            if key in table and not isinstance(table[key], kind):
                expected = "boolean" if kind is bool else "string"
                raise bad(
                    f'`workspace."{ws}".{key}` must be a {expected}, not a {toml_type(table[key])}'
                )
    keep = data.get("keep", {})
    if not isinstance(keep, dict):
        raise bad(f"`keep` must be a table, not a {toml_type(keep)}")
    for key in _KEEP_LISTS:
        names = keep.get(key, [])
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise bad(f"`keep.{key}` must be an array of strings")


def load_user_config() -> dict[str, Any]:
    """The whole user config as plain data ({} when missing), state tables validated."""
    path = user_config_path()
    data = load_toml(path, reason="stateFileInvalid")
    if data is None:
        return {}
    _check_structure(path, data)
    return data


def _state_from(data: dict[str, Any], workspace: str) -> WorkspaceState:
    table = data.get("workspace", {}).get(workspace, {})
    return WorkspaceState(**{k: table.get(k) for k in _STATE_KEYS})


def read_workspace_state(workspace: str) -> WorkspaceState:
    """The state of exactly this (normalised) path; no lock: writes are atomic renames."""
    return _state_from(load_user_config(), workspace)


def kept_containers() -> set[str]:
    """Containers protected from gc after creation (`[keep].containers`)."""
    return set(load_user_config().get("keep", {}).get("containers", []))


def released_containers() -> set[str]:
    """Containers whose creation-time `containai.keep` label was switched off later."""
    return set(load_user_config().get("keep", {}).get("released", []))


def _canonical(data: object) -> str:
    # JSON with str() for dates, so NaN == NaN and datetimes compare by value
    return json.dumps(data, sort_keys=True, default=str)


def _put(table: Table | InlineTable, key: str, value: Any) -> None:
    """Set `key`, replacing in place; a new key goes right after the last existing one.

    tomlkit would append it after trailing comments, which usually introduce the
    *next* table, so it is inserted after the table's last plain key instead.
    """
    if key in table or isinstance(table, InlineTable):
        table[key] = value
        return
    body = table.value.body
    plain = [k.key for k, item in body if k is not None and not isinstance(item, Table | AoT)]
    if plain:
        table.value._insert_after(plain[-1], key, tomlkit.item(value))
    else:
        table[key] = value


class StateTransaction:
    """The user config loaded under the lock; `transaction()` writes it back on success."""

    def __init__(self, path: Path) -> None:
        self._path = path
        text = _read_text(path, "stateFileInvalid") or ""
        _check_structure(path, _parse(path, text, "stateFileInvalid"))
        try:
            self._doc: TOMLDocument = tomlkit.parse(text)
        except TOMLKitError as exc:
            raise _damaged(
                path,
                f"cannot be edited safely: {exc}",
                f"Simplify the TOML around that position in {path}.",
                "stateFileInvalid",
            ) from None
        self._dirty = False

    def workspace(self, workspace: str) -> WorkspaceState:
        """The current state of `workspace`, including changes made in this transaction."""
        return _state_from(self._doc.unwrap(), workspace)

    def kept_containers(self) -> set[str]:
        """`[keep].containers`, including changes made in this transaction."""
        return set(self._doc.unwrap().get("keep", {}).get("containers", []))

    def released_containers(self) -> set[str]:
        """`[keep].released`, including changes made in this transaction."""
        return set(self._doc.unwrap().get("keep", {}).get("released", []))

    def update_workspace(self, workspace: str, **values: str | bool | None) -> None:
        """Set keys of `[workspace."<path>"]`; None removes a key, "" is written as is."""
        if not workspace.startswith("/") or any(c in workspace for c in "\0\r\n"):
            raise DomainError(
                "invalidWorkspace",
                f"Workspace path must be absolute and on one line: {workspace!r}",
            )
        for key, value in values.items():
            kind = _STATE_KEYS.get(key)
            if kind is None:
                raise TypeError(f"unknown workspace state key: {key}")
            if value is not None and not isinstance(value, kind):
                raise TypeError(f"workspace state {key} must be {kind.__name__}: {value!r}")
        workspaces = self._doc.get("workspace")
        if workspaces is None or workspace not in workspaces:
            if all(v is None for v in values.values()):
                return
            self._add_table(("workspace", workspace))
        table = self._doc["workspace"][workspace]
        current = self.workspace(workspace)
        for key, value in values.items():
            if value is None and key in table:
                del table[key]
                self._dirty = True
            elif value is not None and getattr(current, key) != value:
                _put(table, key, value)
                self._dirty = True

    def set_keep(self, container_name: str, keep: bool | None) -> None:
        """Record keep protection: True → `containers`, False → `released`, None → neither.

        Labels are immutable, so a change after creation lives here; gc keeps a
        container that is listed in `containers`, or labelled and not in `released`.
        """
        if not container_name:
            raise TypeError("container_name must not be empty")
        lists = {"containers": self.kept_containers(), "released": self.released_containers()}
        wanted = {
            "containers": lists["containers"] - {container_name},
            "released": lists["released"] - {container_name},
        }
        if keep is not None:
            wanted["containers" if keep else "released"].add(container_name)
        if wanted == lists:
            return
        if "keep" not in self._doc:
            self._add_table(("keep",))
        table = self._doc["keep"]
        for key in _KEEP_LISTS:
            if wanted[key] != lists[key]:
                _put(table, key, sorted(wanted[key]))
        self._dirty = True

    def _add_table(self, keys: tuple[str, ...]) -> None:
        """Append `[a."b"]` at the end of the file, as the original does.

        An inline parent (`workspace = {...}`) cannot be extended by a header, so the
        new table goes inside it instead.
        """
        parent = self._doc.get(keys[0]) if len(keys) > 1 else None
        if isinstance(parent, InlineTable):
            parent[keys[-1]] = tomlkit.inline_table()
            return
        text = tomlkit.dumps(self._doc)
        if text and not text.endswith("\n"):
            text += "\n"
        if text.strip():
            text += "\n"
        self._doc = tomlkit.parse(f"{text}[{tomlkit.key(list(keys)).as_string()}]\n")

    def _commit(self) -> None:
        if not self._dirty:
            return
        text = tomlkit.dumps(self._doc)
        if _canonical(tomllib.loads(text)) != _canonical(self._doc.unwrap()):
            raise _damaged(
                self._path,
                "refusing to write: the edited file would not read back as edited",
                f"Simplify the layout of {self._path} (plain [table] headers) and retry.",
                "stateFileInvalid",
            )
        atomic_write(self._path, text)


def _write_failed(path: Path, exc: OSError) -> DomainError:
    return DomainError(
        "stateWriteFailed",
        f"{path}: cannot write ({exc.strerror or exc})",
        hint=f"Check free space and that {path.parent} is a directory writable by you.",
        file=str(path),
    )


def atomic_write(path: Path, text: str) -> None:
    """Temp file in the same directory, fsync, rename: readers see old or new, never half."""
    # Write through a symlink (dotfile managers) instead of replacing the link itself.
    target = path.resolve() if path.is_symlink() else path
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".config_", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                os.fchmod(f.fileno(), 0o600)
                f.write(text.encode("utf-8"))
                f.flush()
                os.fsync(f.fileno())
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
    except OSError as exc:
        raise _write_failed(path, exc) from None


@contextmanager
def transaction() -> Iterator[StateTransaction]:
    """Read, decide and write the user config as one step, serialised across processes.

    Keep the block short (no Docker calls inside) and do not nest: the lock is not
    re-entrant across calls, so a nested write waits for itself and fails with `busy`.
    """
    path = user_config_path()
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise _write_failed(path, exc) from None
    lock = FileLock(path.parent / ".config.lock", mode=0o600)
    try:
        lock.acquire(timeout=LOCK_TIMEOUT_S)
    except Timeout:
        raise DomainError(
            "busy",
            f"{path} is being updated by another ContainAI process",
            hint="Try again in a moment.",
            file=str(path),
        ) from None
    except OSError as exc:
        raise _write_failed(path, exc) from None
    try:
        txn = StateTransaction(path)
        yield txn
        txn._commit()
    finally:
        lock.release()


def update_workspace_state(workspace: str, **values: str | bool | None) -> None:
    """Set (or with None remove) keys of one workspace's state table."""
    with transaction() as txn:
        txn.update_workspace(workspace, **values)


def set_keep(container_name: str, keep: bool | None) -> None:
    """Record that a container is (True), is no longer (False) or was never (None) kept."""
    with transaction() as txn:
        txn.set_keep(container_name, keep)
