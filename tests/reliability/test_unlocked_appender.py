"""Another program appends to config.toml without our lock while `keep` writes it.

The original tool writes the same file and takes no lock of ours. Its appends land while
our transactions run (12 keep changes by another process, interleaved with 400 appends);
none of its tables and none of our changes may be lost.
"""

from __future__ import annotations

import multiprocessing
import tomllib
from multiprocessing.synchronize import Event
from pathlib import Path

import pytest

from containai_rpc.workspace import state
from containai_rpc.workspace.state import set_keep, user_config_path
from tests.support.reliability import TALLY, scaled

APPENDS = 400


def _append(path: Path, appends: int, progress: Event, done: Event) -> None:
    for i in range(appends):
        with open(path, "a", encoding="utf-8") as f:
            f.write(f'\n[workspace."/theirs/{i}"]\ncontainer_name = "t{i}"\n')
        if i == appends // 2:
            progress.set()  # half way: our writers are surely running by now
    done.set()


def _keep(changes: int, progress: Event) -> None:
    progress.wait(60)
    for n in range(changes):
        set_keep(f"ours-{n}", True)


def test_an_unlocked_appender_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setattr(state, "LOCK_TIMEOUT_S", 120.0)  # inherited by the forked workers
    path = user_config_path()
    path.parent.mkdir(parents=True)
    path.write_text("# mine\n[agent]\ndata_volume = 'x'\n")
    rounds, changes = scaled(3, 20), 12
    for _ in range(rounds):
        ctx = multiprocessing.get_context("fork")
        progress, done = ctx.Event(), ctx.Event()
        procs = [
            ctx.Process(target=_append, args=(path, APPENDS, progress, done)),
            ctx.Process(target=_keep, args=(changes, progress)),
        ]
        for p in procs:
            p.start()
        for p in procs:
            p.join(timeout=240)
        assert [p.exitcode for p in procs] == [0, 0]
        data = tomllib.loads(path.read_text())
        lost = APPENDS - len([k for k in data["workspace"] if k.startswith("/theirs/")])
        TALLY["unlocked appends"] += APPENDS
        TALLY["unlocked appends lost"] += lost
        assert lost == 0, f"{lost} of {APPENDS} tables appended without our lock were lost"
        assert set(data["keep"]["containers"]) == {f"ours-{n}" for n in range(changes)}
        assert path.read_text().startswith("# mine\n[agent]\n")
        path.write_text("# mine\n[agent]\ndata_volume = 'x'\n")
