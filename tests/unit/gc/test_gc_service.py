"""gc over in-memory engines: the service clock decides ages, every managed context is
scanned, confirmation, and the re-check between scan and removal."""

from __future__ import annotations

from pathlib import Path

import pytest

from containai_rpc.errors import DomainError
from containai_rpc.protocol.gc import GcParams
from containai_rpc.service import Hooks, Service, gc
from containai_rpc.ssh.hostconfig import MARKER, host_config_dir
from containai_rpc.workspace.state import released_containers, set_keep
from tests.support.fake_engine import FAKE_NOW, FakeDocker, FakeEngine

DAY = 86400.0


@pytest.fixture
def engine(fake_docker: FakeDocker) -> FakeEngine:
    return fake_docker["default"]


def test_the_service_clock_decides_what_is_old(isolated_home: Path, fake_docker: FakeDocker):
    engine = fake_docker["default"]
    engine.add_container("old", state="exited", workspace="/a")  # exited at the engine's START
    later = Service(fake_docker.engine_set(), clock=lambda: FAKE_NOW)
    sooner = Service(fake_docker.engine_set(), clock=lambda: engine.now)
    assert [c.name for c in later.gc(GcParams(age="30d", dry_run=True)).candidates] == ["old"]
    early = sooner.gc(GcParams(age="30d", dry_run=True))
    assert early.candidates == [] and [s.reason for s in early.skipped] == ["tooRecent"]


def test_confirmation(fake_service: Service, engine: FakeEngine):
    engine.add_container("old", state="exited", workspace="/a", idle_s=40 * DAY)
    with pytest.raises(DomainError) as err:
        fake_service.gc(GcParams())
    assert err.value.reason == "confirmationRequired"
    declined = fake_service.gc(GcParams(), Hooks(confirm=lambda message, actions: None))
    assert declined.declined and engine.names() == ["old"]
    done = fake_service.gc(GcParams(), Hooks(confirm=lambda message, actions: actions[0]))
    assert [c.name for c in done.removed] == ["old"] and engine.names() == []


def test_every_managed_context_and_an_unreachable_one(isolated_home: Path, tmp_path: Path):
    docker = FakeDocker(tmp_path / "d", contexts=("default", "containai-docker", "far", "dead"))
    docker.unreachable.add("dead")
    for context in ("containai-docker", "far"):
        docker[context].add_container(f"old-{context}", state="exited", workspace="/w")
    service = Service(docker.engine_set(extra=["far", "dead"]), clock=lambda: FAKE_NOW)
    result = service.gc(GcParams(force=True))
    assert sorted((c.context, c.name) for c in result.removed) == [
        ("containai-docker", "old-containai-docker"),
        ("far", "old-far"),
    ]
    assert [e.context for e in result.errors or []] == ["dead"]


def test_what_changed_between_scan_and_removal(fake_service: Service, engine: FakeEngine):
    for name in ("started", "kept", "gone", "removable"):
        engine.add_container(name, state="exited", workspace=f"/{name}", idle_s=40 * DAY)
    plan = gc.scan(fake_service.engines, GcParams(force=True), Hooks(), FAKE_NOW)
    assert sorted(c.name for c in plan.candidates) == ["gone", "kept", "removable", "started"]
    engine.start(engine.by_name("started").id)
    set_keep("kept", True)
    engine.remove(engine.by_name("gone").id, force=True)
    result = gc.apply(fake_service.engines, plan, Hooks())
    assert [c.name for c in result.removed] == ["removable"]
    assert {s.name: (s.reason, s.docker_state) for s in result.skipped} == {
        "started": ("startedSinceScan", "running"),
        "kept": ("keep", "exited"),
        "gone": ("gone", "removed"),
    }


def test_a_removed_container_is_forgotten(fake_service: Service, engine: FakeEngine):
    engine.add_container("old", state="exited", workspace="/a", idle_s=40 * DAY, keep=True)
    set_keep("old", False)  # its label was switched off later
    host_config_dir().mkdir(parents=True)
    (host_config_dir() / "old.conf").write_text(f"{MARKER} old\nHost old\n")
    done = fake_service.gc(GcParams(force=True))
    assert [c.name for c in done.removed] == ["old"]
    assert released_containers() == set()  # no stale release for a future namesake
    assert not (host_config_dir() / "old.conf").exists()
