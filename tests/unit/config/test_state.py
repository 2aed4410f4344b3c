"""The user config as workspace-state store: format, in-place edits, locking, damage."""

from __future__ import annotations

import multiprocessing
import os
import stat
from pathlib import Path

import pytest
import tomlkit
from filelock import FileLock
from tomlkit.exceptions import TOMLKitError

from containai_rpc.errors import DomainError
from containai_rpc.workspace import state
from containai_rpc.workspace.state import (
    WorkspaceState,
    config_dir,
    kept_containers,
    read_workspace_state,
    released_containers,
    set_keep,
    transaction,
    update_workspace_state,
    user_config_path,
)

FIXTURE = """\
# ContainAI user config - hand-edited, keep my comments!
[agent]
data_volume = "team-data"   # shared across projects

[ssh]
port_range_start = 2400
port_range_end   = 2450
forward = { enabled = true, ports = [8080, 9090] }

# My main project
[workspace."/home/me/app"]
container_name = "app-old"  # set by cai
created_at = "2024-01-01T00:00:00Z"

# another one, note the odd spacing
[workspace."/home/me/other"]
container_name="other-main"
data_volume    =    'literal-vol'

[container]
memory = "4g"
"""


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own HOME and XDG_CONFIG_HOME; the real ~/.config is never read."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    return tmp_path


def write_config(text: str | bytes) -> Path:
    path = user_config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        text = text.encode()
    path.write_bytes(text)
    return path


def dir_entries() -> set[str]:
    return {p.name for p in config_dir().iterdir()}


# --- paths -------------------------------------------------------------------------------


def test_paths_follow_the_environment_at_call_time(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert user_config_path() == home / "xdg" / "containai" / "config.toml"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "elsewhere"))
    assert config_dir() == home / "elsewhere" / "containai"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert user_config_path() == home / ".config" / "containai" / "config.toml"
    monkeypatch.setenv("XDG_CONFIG_HOME", "")
    assert config_dir() == home / ".config" / "containai"


# --- reading -----------------------------------------------------------------------------


def test_missing_file_reads_as_empty_and_creates_nothing(home: Path) -> None:
    assert read_workspace_state("/home/me/app") == WorkspaceState()
    assert kept_containers() == set()
    assert not (home / "xdg").exists()


def test_read_is_an_exact_path_match() -> None:
    write_config(FIXTURE)
    assert read_workspace_state("/home/me/app") == WorkspaceState(
        container_name="app-old", created_at="2024-01-01T00:00:00Z"
    )
    assert read_workspace_state("/home/me/other").data_volume == "literal-vol"
    assert read_workspace_state("/home/me/app/sub") == WorkspaceState()
    assert read_workspace_state("/home/me/app/") == WorkspaceState()


# --- writing: format ---------------------------------------------------------------------


def test_new_file_has_the_originals_shape_and_private_modes(home: Path) -> None:
    update_workspace_state(
        "/home/me/projects/app", container_name="app-main", data_volume="containai-data"
    )
    path = user_config_path()
    assert path.read_text() == (
        '[workspace."/home/me/projects/app"]\n'
        'container_name = "app-main"\n'
        'data_volume = "containai-data"\n'
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(config_dir().stat().st_mode) == 0o700
    assert dir_entries() <= {"config.toml", ".config.lock"}  # no temp file left behind


def test_edit_changes_only_the_edited_table() -> None:
    write_config(FIXTURE)
    update_workspace_state(
        "/home/me/app", container_name="app-main", data_volume="vol-2", created_at=None
    )
    expected = FIXTURE.replace(
        'container_name = "app-old"  # set by cai\ncreated_at = "2024-01-01T00:00:00Z"\n',
        'container_name = "app-main"  # set by cai\ndata_volume = "vol-2"\n',
    )
    assert expected != FIXTURE
    assert user_config_path().read_text() == expected
    assert stat.S_IMODE(user_config_path().stat().st_mode) == 0o600


def test_new_table_is_appended_after_a_blank_line_leaving_the_rest_intact() -> None:
    write_config(FIXTURE.rstrip("\n"))  # no final newline either
    update_workspace_state("/home/me/new", container_name="new-main")
    assert user_config_path().read_text() == (
        FIXTURE + '\n[workspace."/home/me/new"]\ncontainer_name = "new-main"\n'
    )


def test_new_key_goes_after_the_last_key_not_after_the_next_tables_comment() -> None:
    text = (
        '[workspace."/a"]\ncontainer_name = "a"\n'
        "\n# settings for ssh\n[ssh]\nforward_agent = true\n"
    )
    write_config(text)
    update_workspace_state("/a", data_volume="v")
    assert user_config_path().read_text() == text.replace(
        'container_name = "a"\n', 'container_name = "a"\ndata_volume = "v"\n'
    )


def test_empty_string_is_written_and_none_removes() -> None:
    write_config(FIXTURE)
    update_workspace_state("/home/me/app", container_name="", created_at=None)
    text = user_config_path().read_text()
    assert 'container_name = ""  # set by cai\n' in text
    assert "created_at" not in text
    assert read_workspace_state("/home/me/app") == WorkspaceState(container_name="")


def test_values_and_paths_are_escaped_as_basic_strings() -> None:
    workspace = '/home/me/we"ird\\dir'
    value = 'say "hi"\\\n\ttab'
    update_workspace_state(workspace, container_name=value, keep=True)
    text = user_config_path().read_text()
    assert text.startswith('[workspace."/home/me/we\\"ird\\\\dir"]\n')
    assert 'container_name = "say \\"hi\\"\\\\\\n\\ttab"\n' in text
    assert "keep = true\n" in text
    assert read_workspace_state(workspace) == WorkspaceState(container_name=value, keep=True)


def test_unchanged_values_and_removing_absent_keys_do_not_rewrite() -> None:
    path = write_config(FIXTURE)
    inode = path.stat().st_ino
    update_workspace_state("/home/me/app", container_name="app-old", data_volume=None)
    update_workspace_state("/nowhere", container_name=None)
    assert path.stat().st_ino == inode
    assert path.read_text() == FIXTURE


def test_inline_workspace_table_is_extended_in_place() -> None:
    write_config('workspace = { "/a" = { container_name = "a" } }\n')
    update_workspace_state("/b", container_name="b")
    update_workspace_state("/a", data_volume="v")
    assert read_workspace_state("/a") == WorkspaceState(container_name="a", data_volume="v")
    assert read_workspace_state("/b") == WorkspaceState(container_name="b")
    assert user_config_path().read_text().count("\n") == 1


def test_write_goes_through_a_symlinked_config(home: Path) -> None:
    real = home / "dotfiles" / "containai.toml"
    real.parent.mkdir()
    real.write_text("# managed by my dotfiles\n")
    config_dir().mkdir(parents=True)
    user_config_path().symlink_to(real)
    update_workspace_state("/a", container_name="a")
    assert user_config_path().is_symlink()
    assert (
        real.read_text() == '# managed by my dotfiles\n\n[workspace."/a"]\ncontainer_name = "a"\n'
    )


@pytest.mark.parametrize("workspace", ["relative/path", "/with\nnewline", "/nul\0"])
def test_workspace_path_must_be_absolute_and_single_line(workspace: str) -> None:
    with pytest.raises(DomainError) as err:
        update_workspace_state(workspace, container_name="x")
    assert err.value.reason == "invalidWorkspace"
    assert not user_config_path().exists()


def test_unknown_keys_and_wrong_types_are_programming_errors() -> None:
    with pytest.raises(TypeError):
        update_workspace_state("/a", agent="claude")
    with pytest.raises(TypeError):
        update_workspace_state("/a", keep="yes")
    with pytest.raises(TypeError):
        update_workspace_state("/a", container_name=True)
    with pytest.raises(TypeError):
        set_keep("", True)


# --- keep ----------------------------------------------------------------------------------


def test_keep_lists_are_sorted_deduplicated_and_tri_state() -> None:
    write_config(FIXTURE)
    set_keep("zeta", True)
    set_keep("alpha", True)
    set_keep("alpha", True)
    set_keep("mid", False)
    text = user_config_path().read_text()
    assert text.startswith(FIXTURE)
    assert text.endswith('\n[keep]\ncontainers = ["alpha", "zeta"]\nreleased = ["mid"]\n')
    assert kept_containers() == {"alpha", "zeta"}
    assert released_containers() == {"mid"}
    set_keep("mid", True)
    set_keep("zeta", None)
    assert kept_containers() == {"alpha", "mid"}
    assert released_containers() == set()
    inode = user_config_path().stat().st_ino
    set_keep("never-seen", None)
    assert user_config_path().stat().st_ino == inode


# --- transactions and locking --------------------------------------------------------------


def test_transaction_reads_its_own_writes_and_writes_once() -> None:
    with transaction() as txn:
        if not txn.workspace("/a").data_volume:
            txn.update_workspace("/a", data_volume="v", container_name="a")
        txn.set_keep("a", True)
        assert txn.workspace("/a") == WorkspaceState(container_name="a", data_volume="v")
        assert txn.kept_containers() == {"a"}
        assert not user_config_path().exists()
    assert read_workspace_state("/a").data_volume == "v"
    assert kept_containers() == {"a"}


def test_a_failing_transaction_writes_nothing() -> None:
    path = write_config(FIXTURE)
    with pytest.raises(RuntimeError), transaction() as txn:
        txn.update_workspace("/home/me/app", container_name="changed")
        raise RuntimeError("caller changed its mind")
    assert path.read_text() == FIXTURE


def test_lock_held_elsewhere_gives_busy(monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_config(FIXTURE)
    monkeypatch.setattr(state, "LOCK_TIMEOUT_S", 0.05)
    with FileLock(config_dir() / ".config.lock"), pytest.raises(DomainError) as err:
        update_workspace_state("/home/me/app", container_name="x")
    assert err.value.reason == "busy"
    assert path.read_text() == FIXTURE


def test_lock_that_cannot_be_created_is_a_write_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class ReadOnlyLock:
        def __init__(self, *_args: object, **_kwargs: object) -> None:
            pass

        def acquire(self, timeout: float) -> None:
            raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(state, "FileLock", ReadOnlyLock)
    with pytest.raises(DomainError) as err:
        update_workspace_state("/a", container_name="x")
    assert err.value.reason == "stateWriteFailed"
    assert "Permission denied" in err.value.message


def _hammer(worker: int) -> None:
    for i in range(25):
        update_workspace_state(f"/ws/p{worker}/w{i}", container_name=f"c{worker}-{i}")
    set_keep(f"c{worker}-0", True)


def test_concurrent_processes_never_lose_an_update(monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_config("# my own comment, please keep\n[agent]\ndata_volume = 'x'\n")
    monkeypatch.setattr(state, "LOCK_TIMEOUT_S", 120.0)  # inherited by the forked workers
    ctx = multiprocessing.get_context("fork")
    workers = [ctx.Process(target=_hammer, args=(n,)) for n in range(8)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(timeout=240)
    assert [p.exitcode for p in workers] == [0] * 8
    data = state.load_user_config()
    assert len(data["workspace"]) == 200
    for n in range(8):
        for i in range(25):
            assert read_workspace_state(f"/ws/p{n}/w{i}").container_name == f"c{n}-{i}"
    assert kept_containers() == {f"c{n}-0" for n in range(8)}
    assert path.read_text().startswith("# my own comment, please keep\n[agent]\n")
    assert dir_entries() <= {"config.toml", ".config.lock"}


# --- damage --------------------------------------------------------------------------------

DAMAGED = {
    "invalid TOML": b'[workspace."/a"\ncontainer_name = "a"\n',
    "workspace is a scalar": b'workspace = "oops"\n',
    "workspace entry is a scalar": b'[workspace]\n"/a" = "oops"\n',
    "state value is a table": b'[workspace."/a".container_name]\nx = 1\n',
    "state value has the wrong type": b'[workspace."/a"]\ndata_volume = 5\n',
    "keep flag is a string": b'[workspace."/a"]\nkeep = "yes"\n',
    "keep section is a scalar": b"keep = true\n",
    "keep list holds numbers": b"[keep]\ncontainers = [1, 2]\n",
    "not UTF-8": b'# caf\xe9\n[workspace."/a"]\n',
}


@pytest.mark.parametrize("content", DAMAGED.values(), ids=DAMAGED.keys())
def test_damaged_file_is_reported_and_never_rewritten(content: bytes) -> None:
    path = write_config(content)
    for attempt in (
        lambda: read_workspace_state("/a"),
        lambda: kept_containers(),
        lambda: update_workspace_state("/a", container_name="new"),
        lambda: set_keep("a", True),
    ):
        with pytest.raises(DomainError) as err:
            attempt()
        assert err.value.reason == "stateFileInvalid"
        assert str(path) in err.value.message
        assert err.value.details["file"] == str(path)
        assert err.value.hint
    assert path.read_bytes() == content
    assert dir_entries() <= {"config.toml", ".config.lock"}


def test_directory_in_place_of_the_file() -> None:
    path = user_config_path()
    path.mkdir(parents=True)
    for attempt in (
        lambda: read_workspace_state("/a"),
        lambda: update_workspace_state("/a", container_name="x"),
    ):
        with pytest.raises(DomainError) as err:
            attempt()
        assert err.value.reason == "stateFileInvalid"
        assert "is a directory" in err.value.message
    assert path.is_dir()
    assert list(path.iterdir()) == []


def test_unreadable_file(monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_config(FIXTURE)
    real_read = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_read(self)

    # Tests may run as root, where chmod 000 does not stop reading.
    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    for attempt in (
        lambda: read_workspace_state("/a"),
        lambda: update_workspace_state("/a", container_name="x"),
    ):
        with pytest.raises(DomainError) as err:
            attempt()
        assert err.value.reason == "stateFileInvalid"
        assert str(path) in err.value.message
        assert err.value.hint is not None and "chmod" in err.value.hint
    assert real_read(path) == FIXTURE.encode()


def test_config_dir_that_is_a_file(home: Path) -> None:
    (home / "xdg").mkdir()
    config_dir().write_text("not a directory")
    with pytest.raises(DomainError) as err:
        read_workspace_state("/a")
    assert err.value.reason == "stateFileInvalid"
    with pytest.raises(DomainError) as err:
        update_workspace_state("/a", container_name="x")
    assert err.value.reason == "stateWriteFailed"
    assert config_dir().read_text() == "not a directory"


def test_an_edit_that_would_not_read_back_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_config(FIXTURE)
    monkeypatch.setattr(tomlkit, "dumps", lambda _doc: FIXTURE)  # a lossy serialiser
    with pytest.raises(DomainError) as err:
        update_workspace_state("/home/me/app", container_name="changed")
    assert err.value.reason == "stateFileInvalid"
    assert "refusing to write" in err.value.message
    assert path.read_text() == FIXTURE


def test_a_file_tomlkit_cannot_edit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_config(FIXTURE)

    def unparsable(_text: str) -> None:
        raise TOMLKitError("unsupported layout")

    monkeypatch.setattr(tomlkit, "parse", unparsable)
    assert read_workspace_state("/home/me/app").container_name == "app-old"  # reads still work
    with pytest.raises(DomainError) as err:
        update_workspace_state("/home/me/app", container_name="changed")
    assert err.value.reason == "stateFileInvalid"
    assert "cannot be edited safely" in err.value.message
    assert path.read_text() == FIXTURE


def test_write_failure_is_a_domain_error(monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_config(FIXTURE)

    def no_space(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(state.os, "replace", no_space)
    with pytest.raises(DomainError) as err:
        update_workspace_state("/home/me/app", container_name="changed")
    assert err.value.reason == "stateWriteFailed"
    assert "No space left" in err.value.message
    assert path.read_text() == FIXTURE
    assert dir_entries() <= {"config.toml", ".config.lock"}


def test_damage_message_names_the_toml_position() -> None:
    write_config(DAMAGED["invalid TOML"])
    with pytest.raises(DomainError) as err:
        read_workspace_state("/a")
    assert "line 1" in err.value.message
    assert os.fspath(user_config_path()) in err.value.message
