"""The user config file, which also holds workspace state.

The original `cai` reads and writes the same `config.toml`, so the layout is its layout:
`[workspace."<path>"]` tables of basic strings. Edits keep the user's comments and
formatting (see `tomledit`); every read-modify-write runs under one file lock and lands
with an atomic rename, so concurrent processes never lose each other's updates.

A damaged file (bad TOML, wrong types, a directory, unreadable) is reported as
`stateFileInvalid` naming the file, and is never written: a write refuses instead of
rewriting it, so the user's content stays exactly as it was until they fix it.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from containai_rpc.errors import DomainError
from containai_rpc.workspace.tomledit import edit_document, set_keys
from containai_rpc.workspace.tomlfile import (
    atomic_write,
    damaged,
    parse,
    read_text,
    toml_type,
    write_failed,
)

LOCK_TIMEOUT_S = 10.0
"""How long a writer waits for another process's edit before failing with `busy`."""
_REBASES = 20
"""How often a write starts again over a file that another program keeps changing."""

_STATE_KEYS: dict[str, type] = {
    "container_name": str,
    "data_volume": str,
    "created_at": str,
    "keep": bool,
    "context": str,
    "idle_stop": str,
}
_KEEP_LISTS = ("containers", "released")


def config_dir() -> Path:
    """`$XDG_CONFIG_HOME/containai`, else `~/.config/containai`, read from the env now."""
    xdg = os.environ.get("XDG_CONFIG_HOME")
    base = Path(xdg) if xdg else Path(os.path.expanduser("~")) / ".config"
    return base / "containai"


def explicit_config_file() -> Path | None:
    """The file `cai --config FILE` chose for this process (`CONTAINAI_CONFIG`), if any."""
    override = os.environ.get("CONTAINAI_CONFIG")
    return Path(override) if override else None


def user_config_path() -> Path:
    """The user config that also holds workspace state (the original's path), unless
    `--config` chose another file."""
    return explicit_config_file() or config_dir() / "config.toml"


@dataclass(frozen=True)
class WorkspaceState:
    """One `[workspace."<path>"]` table; None means the key is absent."""

    container_name: str | None = None
    data_volume: str | None = None
    created_at: str | None = None
    keep: bool | None = None
    context: str | None = None
    """The Docker context the workspace's container was last run in (ours only: the
    original tool neither writes nor reads it)."""
    idle_stop: str | None = None
    """The workspace's idle auto-stop period (`2h`, `off`), set by `run` with `idleStop`
    (ours only)."""


def _check_structure(path: Path, data: dict[str, Any]) -> None:
    """The parts this module owns must have the types the original writes."""
    hint = f"Fix or remove the offending entry in {path}."

    def bad(what: str) -> DomainError:
        return damaged(path, what, hint, "stateFileInvalid")

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


class _ParsedCache:
    """The parsed form of the text last seen at each path, keyed by that exact text.

    The server reads the config on every request, and parsing is the part of a read that
    grows with the file. A file changed by anyone, in any way, is parsed again. Cached
    data is shared, so it is never changed in place (a transaction copies what it edits).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[Path, tuple[str, dict[str, Any]]] = {}

    def load(self, path: Path) -> tuple[str, dict[str, Any]]:
        """The file's text ("" when missing) and its validated data."""
        text = read_text(path, reason="stateFileInvalid") or ""
        with self._lock:
            cached = self._entries.get(path)
        if cached is not None and cached[0] == text:
            return cached
        data = parse(path, text, reason="stateFileInvalid")
        _check_structure(path, data)
        self.store(path, text, data)
        return text, data

    def store(self, path: Path, text: str, data: dict[str, Any]) -> None:
        with self._lock:
            self._entries[path] = (text, data)


_parsed = _ParsedCache()


def load_user_config() -> dict[str, Any]:
    """The whole user config as plain data ({} when missing), state tables validated.

    Read-only: the dict may be shared with other callers.
    """
    return _parsed.load(user_config_path())[1]


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


class StateTransaction:
    """The user config loaded under the lock; `transaction()` writes it back on success.

    Edits change the text of one table at a time (`tomledit`), so an update costs time
    linear in the file's size whatever the number of workspaces in it.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._text, self._data = _parsed.load(path)
        self._base = self._text  # the file as read: what a foreign write is told from
        self._ops: list[Callable[[], None]] = []  # the edits, to make again on a newer file
        self._dirty = False

    def workspace(self, workspace: str) -> WorkspaceState:
        """The current state of `workspace`, including changes made in this transaction."""
        return _state_from(self._data, workspace)

    def kept_containers(self) -> set[str]:
        """`[keep].containers`, including changes made in this transaction."""
        return set(self._data.get("keep", {}).get("containers", []))

    def released_containers(self) -> set[str]:
        """`[keep].released`, including changes made in this transaction."""
        return set(self._data.get("keep", {}).get("released", []))

    def update_workspace(self, workspace: str, **values: str | bool | None) -> None:
        """Set keys of `[workspace."<path>"]`; None removes a key, "" is written as is."""
        self._ops.append(lambda: self.update_workspace(workspace, **values))
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
        current = self._data.get("workspace", {}).get(workspace)
        if current is None and all(v is None for v in values.values()):
            return
        self._set(("workspace", workspace), current or {}, values)

    def set_keep(self, container_name: str, keep: bool | None) -> None:
        """Record keep protection: True → `containers`, False → `released`, None → neither.

        Labels are immutable, so a change after creation lives here; gc keeps a
        container that is listed in `containers`, or labelled and not in `released`.
        """
        if not container_name:
            raise TypeError("container_name must not be empty")
        self._ops.append(lambda: self.set_keep(container_name, keep))
        lists = {"containers": self.kept_containers(), "released": self.released_containers()}
        wanted = {
            "containers": lists["containers"] - {container_name},
            "released": lists["released"] - {container_name},
        }
        if keep is not None:
            wanted["containers" if keep else "released"].add(container_name)
        changes = {k: sorted(wanted[k]) for k in _KEEP_LISTS if wanted[k] != lists[k]}
        self._set(("keep",), self._data.get("keep", {}), changes)

    def _set(self, path: tuple[str, ...], table: dict[str, Any], values: dict[str, Any]) -> None:
        """Apply `values` to the table at `path` (None removes a key), if anything changes."""
        values = {
            k: v for k, v in values.items() if (k in table if v is None else table.get(k) != v)
        }
        if not values:
            return
        text = set_keys(self._text, self._data, path, values)
        expected = dict(self._data)  # copied along `path` only: the old data is shared
        node = expected
        for key in path:
            node[key] = dict(node.get(key, {}))
            node = node[key]
        for key, value in values.items():
            if value is None:
                node.pop(key, None)
            else:
                node[key] = value
        if text is None:
            text = edit_document(self._path, self._text, path, values, expected)
        self._text = text
        self._data = expected
        self._dirty = True

    def commit(self) -> None:
        """Write the edited file, if anything changed.

        A writer that does not take our lock (the original tool, an editor, a script) may
        change the file while we decide: its version is then read again and our edits are
        made on top of it. Text it appends to the old file between that read and our
        rename is read back through the still-open old file and kept the same way.
        """
        if not self._dirty:
            return
        late = ""
        for _ in range(_REBASES):
            try:
                old = open(self._path, "rb")  # noqa: SIM115 (kept open across the rename)
            except FileNotFoundError:
                old = None
            except OSError as exc:
                raise write_failed(self._path, exc) from None
            with old if old is not None else contextlib.nullcontext():
                on_disk = self._decode(old.read() if old else b"")
                if on_disk + late != self._base:
                    self._rebase(on_disk + late)
                if self._text == on_disk:
                    break
                atomic_write(self._path, self._text)
                late = self._decode(old.read()) if old else ""
            if not late:
                break
        else:
            raise DomainError(
                "busy",
                f"{self._path} kept changing while ContainAI wrote it",
                hint="Another program is writing the file; try again in a moment.",
                file=str(self._path),
            )
        _parsed.store(self._path, self._text, self._data)

    def _decode(self, raw: bytes) -> str:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise damaged(
                self._path,
                f"is not UTF-8 (byte {exc.start})",
                "Save the file as UTF-8.",
                "stateFileInvalid",
            ) from None

    def _rebase(self, text: str) -> None:
        """Start again from `text` (the file as another writer left it), then make this
        transaction's edits again on it."""
        data = parse(self._path, text, reason="stateFileInvalid")
        _check_structure(self._path, data)
        ops, self._ops = self._ops, []
        self._text, self._data, self._base = text, data, text
        for op in ops:
            op()


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
        raise write_failed(path, exc) from None
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
        raise write_failed(path, exc) from None
    try:
        txn = StateTransaction(path)
        yield txn
        txn.commit()
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
