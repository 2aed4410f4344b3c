"""The span editor: one table changes, every other byte stays, odd layouts are declined."""

from __future__ import annotations

import copy
import tomllib
from typing import Any

import pytest
import tomlkit
from hypothesis import given, settings
from hypothesis import strategies as st

from containai_rpc.workspace.tomledit import set_keys

TRICKY = '''\
# header-like lines inside strings and arrays must not split tables
[agent]
data_volume = "v"
notes = """
[workspace."/a"]
container_name = "fake"
"""
literal = \'\'\'
[workspace."/a"]\'\'\'
matrix = [
  [1, 2],
  ["]", "["],
]
inline = { a = "[x]", b = [1] }   # [not a header]

[workspace."/a"]   # the real one
container_name = "a" # kept comment
quoted = "say \\"[hi]\\""

# introduces the next table
[[servers]]
name = "s1"

[ workspace . "/spaced" ]
container_name = "s"
'''


def edited(text: str, path: tuple[str, ...], values: dict[str, Any]) -> str:
    data = tomllib.loads(text)
    result = set_keys(text, data, path, values)
    assert result is not None, "expected the span editor to handle this layout"
    expected = copy.deepcopy(data)
    node = expected
    for key in path:
        node = node.setdefault(key, {})
    for key, value in values.items():
        if value is None:
            node.pop(key, None)
        else:
            node[key] = value
    assert tomllib.loads(result) == expected
    assert data == tomllib.loads(text)  # the caller's data is not changed
    return result


def test_strings_and_arrays_that_look_like_headers_are_not_tables() -> None:
    result = edited(TRICKY, ("workspace", "/a"), {"data_volume": "d"})
    assert result == TRICKY.replace(
        'quoted = "say \\"[hi]\\""\n', 'quoted = "say \\"[hi]\\""\ndata_volume = "d"\n'
    )


def test_a_header_spelled_unusually_is_found_by_its_key_path() -> None:
    result = edited(TRICKY, ("workspace", "/spaced"), {"container_name": "t"})
    assert result == TRICKY.replace('container_name = "s"', 'container_name = "t"')


def test_replacing_and_removing_keep_comments_of_other_keys() -> None:
    result = edited(TRICKY, ("workspace", "/a"), {"container_name": "b", "quoted": None})
    assert '[workspace."/a"]   # the real one\ncontainer_name = "b" # kept comment\n\n' in result
    assert "quoted" not in result.split('[workspace."/a"]')[2].split("[[servers]]")[0]


def test_a_new_table_goes_at_the_end_after_one_blank_line() -> None:
    result = edited(TRICKY, ("workspace", "/new"), {"container_name": "n"})
    assert result == TRICKY + '\n[workspace."/new"]\ncontainer_name = "n"\n'
    assert edited("", ("keep",), {"containers": ["a"]}) == '[keep]\ncontainers = ["a"]\n'


def test_windows_line_endings_and_a_missing_final_newline() -> None:
    text = '[workspace."/a"]\r\ncontainer_name = "a"\r\n\r\n[other]\r\nx = 1'
    result = edited(text, ("workspace", "/a"), {"data_volume": "v"})
    assert result.startswith('[workspace."/a"]\r\ncontainer_name = "a"\r\n')
    assert result.endswith("\r\n\r\n[other]\r\nx = 1")
    assert edited(text, ("other",), {"y": 2}).startswith(text.split("[other]")[0])


@pytest.mark.parametrize(
    "text",
    [
        'workspace = { "/a" = { container_name = "a" } }\n',  # inline parent
        'workspace."/a".container_name = "a"\n',  # dotted keys
        '[workspace]\n"/a" = { container_name = "a" }\n',  # inline table in its parent
    ],
)
def test_layouts_without_a_header_of_their_own_are_declined(text: str) -> None:
    data = tomllib.loads(text)
    assert set_keys(text, data, ("workspace", "/a"), {"data_volume": "v"}) is None
    if text.startswith("[workspace]"):  # a header-made parent takes a new sub-table
        assert edited(text, ("workspace", "/b"), {"data_volume": "v"}).startswith(text)
    else:
        assert set_keys(text, data, ("workspace", "/b"), {"data_volume": "v"}) is None


_paths = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1).map(
    lambda s: "/" + s.replace("\0", "")
)
_values = st.one_of(st.none(), st.text(st.characters(codec="utf-8", exclude_categories=("Cs",))))


@settings(max_examples=150, deadline=None)
@given(
    workspaces=st.lists(_paths, min_size=1, max_size=6, unique=True),
    pick=st.integers(min_value=0),
    values=st.dictionaries(st.sampled_from(["container_name", "data_volume"]), _values),
    comment=st.booleans(),
)
def test_any_edit_reads_back_and_leaves_other_tables_byte_for_byte(
    workspaces: list[str], pick: int, values: dict[str, Any], comment: bool
) -> None:
    parts = ["# mine\n[agent]\ndata_volume = 'x'\n"]
    for i, ws in enumerate(workspaces):
        key = tomlkit.key(["workspace", ws]).as_string()
        parts.append(f'\n[{key}]\ncontainer_name = "c{i}"\n')
        if comment:
            parts.append("# the next one\n")
    text = "".join(parts)
    target = workspaces[pick % len(workspaces)]
    result = edited(text, ("workspace", target), values)
    per_table = 2 if comment else 1
    before = 1 + workspaces.index(target) * per_table
    assert result.startswith("".join(parts[:before]))
    assert result.endswith("".join(parts[before + per_table :]))
