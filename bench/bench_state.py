"""The state file at any size: one workspace update in a config.toml of 10 to 1000 entries.

Each sample is one whole `update_workspace_state` call as `run` makes it: take the lock,
read and check the file, edit one table, write it atomically. *First read* is the call in
a process that has not seen the file yet (a one-shot `cai`); *in a running server* the
file is as the server last wrote it, so its parse is reused. The alternative is the
obvious whole-document edit with tomlkit (parse, set, dump).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable

import tomlkit

from bench.report import Row, Section, Summary, Target
from containai_rpc.workspace.state import update_workspace_state, user_config_path

SIZES = (10, 100, 1000)
TARGET = Target("p50", 50, "p50 ≤ 50 ms at 1000")


def config_text(workspaces: int) -> str:
    """A config as the original tool leaves it after `workspaces` projects, plus comments."""
    parts = ['# my settings\n[agent]\ndata_volume = "containai-data"\n']
    for i in range(workspaces):
        parts.append(
            f'\n[workspace."/home/me/src/project-{i}"]\n'
            f'container_name = "project-{i}-main"\n'
            'data_volume = "containai-data"\n'
            'created_at = "2026-01-01T00:00:00Z"\n'
        )
    return "".join(parts)


def whole_document_update(workspace: str, **values: str) -> None:
    """The alternative: every update parses and dumps the whole file with tomlkit."""
    path = user_config_path()
    doc = tomlkit.parse(path.read_text())
    table = doc.setdefault("workspace", tomlkit.table(is_super_table=True))
    entry = table.setdefault(workspace, tomlkit.table())
    for key, value in values.items():
        entry[key] = value
    path.write_text(tomlkit.dumps(doc))


def _samples(size: int, edit: Callable[..., None], new: bool, n: int, warm: bool) -> list[float]:
    seconds = []
    user_config_path().write_text(config_text(size))
    for i in range(n):
        if not warm:  # a text no process has parsed yet
            user_config_path().write_text(f"# sample {i}\n" + config_text(size))
        workspace = f"/home/me/src/{'brand-new' if new else 'project'}-{i % size}"
        began = time.perf_counter()
        edit(workspace, container_name=f"renamed-{i}")
        seconds.append(time.perf_counter() - began)
    return seconds


def measure(quick: bool) -> Section:
    section = Section("State file: one workspace update (`config.toml`)")
    n = 5 if quick else 20
    saved = os.environ.get("XDG_CONFIG_HOME")
    with tempfile.TemporaryDirectory(prefix="cai-bench-state-") as home:
        os.environ["XDG_CONFIG_HOME"] = home  # never the user's own config
        user_config_path().parent.mkdir(parents=True)
        for size in SIZES:
            for new in (True, False):
                action = "add a new" if new else "update an existing"
                theirs = Summary.ms(
                    _samples(size, whole_document_update, new, max(3, n // 4), warm=False)
                )
                for warm in (False, True):
                    where = "in a running server" if warm else "first read"
                    ours = Summary.ms(_samples(size, update_workspace_state, new, n, warm))
                    section.rows.append(
                        Row(
                            f"{action} workspace, {size} in file, {where}",
                            ours,
                            "ms",
                            "whole-document tomlkit edit",
                            theirs,
                            TARGET if size == max(SIZES) else None,
                        )
                    )
    if saved is None:
        os.environ.pop("XDG_CONFIG_HOME")
    else:
        os.environ["XDG_CONFIG_HOME"] = saved
    section.notes.append(
        "Ours parses the file with tomllib (reused while the file is as we last saw it), "
        "splits it at its table headers with a small lexer and edits only the changed "
        "table's span with tomlkit: linear in the file's size."
    )
    return section


def main() -> None:
    """`python -m bench.bench_state`: this section alone, printed."""
    from bench.report import table

    section = measure(quick=False)
    print(table(section.rows))
    for note in section.notes:
        print(f"- {note}")


if __name__ == "__main__":
    main()
