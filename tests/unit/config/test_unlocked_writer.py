"""A program that writes config.toml without our lock (the original tool does) keeps its
change: ours is made again on top of whatever it wrote.

The two moments where such a write used to be lost are hit exactly: between our read of the
file and our rename (a whole new version of the file), and after we read it but before
the rename, appended to the old file by a program that opened it in time.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from containai_rpc.workspace import state
from containai_rpc.workspace.state import transaction, user_config_path

THEIRS = '\n[workspace."/theirs"]\ncontainer_name = "t"\n'


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    path = user_config_path()
    path.parent.mkdir(parents=True)
    path.write_text("# mine\n[agent]\ndata_volume = 'x'\n")
    return tmp_path


def written() -> dict[str, object]:
    return tomllib.loads(user_config_path().read_text())


def test_a_version_written_while_we_decide_is_kept_and_ours_made_on_top() -> None:
    with transaction() as txn:
        txn.update_workspace("/ours", container_name="o")
        txn.set_keep("o", True)
        with open(user_config_path(), "a", encoding="utf-8") as f:  # the other program
            f.write(THEIRS + '\n[keep]\ncontainers = ["t"]\n')
    data = written()
    assert data["workspace"] == {
        "/theirs": {"container_name": "t"},
        "/ours": {"container_name": "o"},
    }
    assert data["keep"] == {"containers": ["o", "t"]}
    assert user_config_path().read_text().startswith("# mine\n[agent]\n")


def test_an_append_to_the_old_file_during_our_rename_is_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = user_config_path()
    real_write = state.atomic_write
    appended: list[bool] = []

    def rename_while_someone_appends(target: Path, text: str) -> None:
        if not appended:  # it opened the file before our rename, writes after it
            fd = os.open(path, os.O_WRONLY | os.O_APPEND)
            real_write(target, text)
            os.write(fd, THEIRS.encode())
            os.close(fd)
            appended.append(True)
        else:
            real_write(target, text)

    monkeypatch.setattr(state, "atomic_write", rename_while_someone_appends)
    with transaction() as txn:
        txn.update_workspace("/ours", container_name="o")
    assert appended == [True]
    assert written()["workspace"] == {
        "/ours": {"container_name": "o"},
        "/theirs": {"container_name": "t"},
    }


def test_a_file_that_never_settles_is_busy_and_left_as_the_other_program_wrote_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = user_config_path()
    real_write = state.atomic_write
    count = [0]

    def always_appended(target: Path, text: str) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        real_write(target, text)
        count[0] += 1
        os.write(fd, f'\n[workspace."/t{count[0]}"]\ncontainer_name = "t"\n'.encode())
        os.close(fd)

    monkeypatch.setattr(state, "atomic_write", always_appended)
    with pytest.raises(state.DomainError) as err, transaction() as txn:
        txn.update_workspace("/ours", container_name="o")
    assert err.value.reason == "busy"
    assert tomllib.loads(path.read_text())  # still valid TOML
