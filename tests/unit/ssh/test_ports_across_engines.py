"""SSH ports are unique across every managed engine: known_hosts names each container by
`[127.0.0.1]:<port>`, and a remote engine's ports are invisible to a local bind check."""

from __future__ import annotations

from pathlib import Path

from containai_rpc.ssh.ports import allocate, ports_elsewhere
from tests.support.fake_engine import FakeDocker


def test_a_port_held_on_another_engine_is_not_chosen(tmp_path: Path) -> None:
    docker = FakeDocker(tmp_path, ("here", "far", "down"))
    docker["far"].add_container("on-far", port=42101)
    docker["far"].add_container("stopped-on-far", state="exited", port=42102)
    docker["here"].add_container("on-here", port=42100)
    docker.unreachable.add("down")
    engines = docker.engine_set("here", ["far", "down"])

    elsewhere = ports_elsewhere(engines, "here")
    assert elsewhere == {42101, 42102}  # the unreachable one costs nothing but its probe
    assert allocate(engines.get("here"), (42100, 42110), elsewhere) == 42103
    assert allocate(engines.get("here"), (42100, 42110)) == 42101  # what it used to pick
