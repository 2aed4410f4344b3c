"""Which container a request is about: the workspace's (state → label → legacy name, for
`run` and for stop/status), the name a new one gets, a name across contexts."""

from __future__ import annotations

from pathlib import Path

import pytest

from containai_rpc.core.naming import legacy_container_name
from containai_rpc.errors import DomainError
from containai_rpc.service.resolve import (
    name_to_create,
    named_container,
    own_container,
    target_container,
    workspace_container,
)
from containai_rpc.workspace.state import WorkspaceState
from tests.support.fake_engine import FakeDocker, FakeEngine


@pytest.fixture
def engine(tmp_path: Path) -> FakeEngine:
    return FakeDocker(tmp_path / "docker")["default"]


@pytest.fixture
def ws(workspaces, isolated_home) -> str:
    return str(workspaces("app"))


def state(name: str | None) -> WorkspaceState:
    return WorkspaceState(container_name=name)


def test_the_state_entry_first_when_it_is_this_workspaces(engine: FakeEngine, ws: str):
    mine = engine.add_container("custom", workspace=ws)
    engine.add_container("app-nogit", workspace=ws)  # labelled too: the state wins
    match = workspace_container(engine, ws, state("custom"))
    assert own_container(match) == mine == target_container(match)
    assert not engine.called("ids_for_workspace")  # a hit ends the lookup


def test_then_the_label_whatever_the_name(engine: FakeEngine, ws: str):
    labelled = engine.add_container("anything", workspace=ws)
    match = workspace_container(engine, ws, state("gone"))
    assert own_container(match) == labelled == target_container(match)
    assert engine.by_name(legacy_container_name(ws)) is None


def test_several_labelled_containers_are_an_error(engine: FakeEngine, ws: str):
    engine.add_container("one", workspace=ws)
    engine.add_container("two", workspace=ws)
    match = workspace_container(engine, ws, state(None))
    for judge in (own_container, target_container):
        with pytest.raises(DomainError) as err:
            judge(match)
        assert err.value.reason == "multipleContainers"
        assert "(one two)" in err.value.message


def test_a_state_entry_naming_another_workspaces_container(engine: FakeEngine, ws: str):
    engine.add_container("theirs", workspace="/other")
    mine = engine.add_container("app-nogit", workspace=ws)
    match = workspace_container(engine, ws, state("theirs"))
    assert own_container(match) == mine  # run: ignored, its own container is used
    with pytest.raises(DomainError) as err:  # stop/status: an error, not a silent switch
        target_container(match)
    assert err.value.reason == "workspaceMismatch"
    assert err.value.hint == "Name it (container: theirs), or fix the workspace state."


def test_a_state_entry_naming_an_unmanaged_or_unlabelled_container(engine: FakeEngine, ws: str):
    engine.add_container("stranger", managed=False)
    with pytest.raises(DomainError) as err:
        target_container(workspace_container(engine, ws, state("stranger")))
    assert err.value.reason == "notManaged"
    engine.add_container("bare", workspace=None)
    match = workspace_container(engine, ws, state("bare"))
    with pytest.raises(DomainError) as err:  # managed, no workspace label: foreign
        target_container(match)
    assert err.value.reason == "notManaged"
    assert "containai.workspace" in err.value.message
    assert own_container(match) is None  # run makes its own


def test_nothing_at_all(engine: FakeEngine, ws: str):
    match = workspace_container(engine, ws, state("gone"))
    assert (match.container, match.stray, match.state_name) == (None, None, "gone")
    assert own_container(match) is None and target_container(match) is None


def test_the_name_to_create_skips_what_belongs_to_others(engine: FakeEngine, ws: str):
    assert name_to_create(engine, workspace_container(engine, ws, state(None))).name == "app-nogit"
    engine.add_container("app-nogit", workspace="/other")
    engine.add_container("app-nogit-2", managed=False)
    new = name_to_create(engine, workspace_container(engine, ws, state(None)))
    assert new.name == "app-nogit-3"
    assert [n.split(":")[0] for n in new.notes] == [
        "Container name 'app-nogit' is taken by a container that belongs to workspace /other",
        "Container name 'app-nogit-2' is taken by a container that is not managed by ContainAI",
    ]


def test_ninety_nine_collisions_are_enough(engine: FakeEngine, ws: str):
    engine.add_container("app-nogit", workspace="/other")
    for n in range(2, 100):
        engine.add_container(f"app-nogit-{n}", workspace="/other")
    with pytest.raises(DomainError) as err:
        name_to_create(engine, workspace_container(engine, ws, state(None)))
    assert err.value.reason == "nameConflict"


def test_a_name_in_one_of_several_contexts(tmp_path: Path):
    docker = FakeDocker(tmp_path / "d", contexts=("default", "containai-docker", "far"))
    engines = docker.engine_set(extra=["far"])
    far = docker["far"].add_container("app", workspace="/w")
    engine, found = named_container(engines, "app", None)
    assert (engine.context, found) == ("far", far)
    with pytest.raises(DomainError) as err:
        named_container(engines, "app", "containai-docker")
    assert err.value.reason == "containerNotFound"
    docker["far"].add_container("loner", managed=False)
    with pytest.raises(DomainError) as err:
        named_container(engines, "loner", None)
    assert err.value.reason == "notManaged"
    with pytest.raises(DomainError) as err:
        named_container(engines, "-bad name", None)
    assert err.value.reason == "invalidName"
