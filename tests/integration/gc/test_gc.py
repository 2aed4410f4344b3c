"""gc on real engines: gc across contexts, keep protection, images, ages.

gc must never run for real against the main daemon (other tests' and the user's stopped
containers would qualify), so every test here points the server at dedicated dockerds
only: the conftest's `dedicated_engine` (through DOCKER_HOST, as the context `default`)
and, for the two-context test, a second one registered as a Docker context in a
test-private DOCKER_CONFIG. Ages are made real without waiting: containers really stop
(real `FinishedAt`) and the service's clock (`Service(clock=…)` in-process, the test
server entry point with `--now` for CLI and protocol calls) is set relative to those real
timestamps.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import docker
import pytest

from containai_rpc.cli.session import RpcError, Session
from containai_rpc.core.ages import parse_docker_time
from containai_rpc.engine.models import MANAGED_LABEL, VOLUME_LABEL, WORKSPACE_LABEL
from containai_rpc.protocol.gc import GcParams, KeepParams
from containai_rpc.protocol.models import RunParams
from containai_rpc.service import Hooks, Service, gc
from containai_rpc.ssh.hostconfig import MARKER, host_config_dir
from containai_rpc.ssh.known_hosts import known_hosts_path
from containai_rpc.workspace.state import released_containers
from tests.support import server as test_server
from tests.support.clock import SettableClock

pytestmark = pytest.mark.engine

TINY = "containai-test-tiny:latest"


# --------------------------------------------------------------------------- helpers


def rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def idle_since(client: docker.DockerClient, name: str) -> datetime:
    """The real timestamp gc ages a container from: FinishedAt if exited, else Created."""
    attrs = client.api.inspect_container(name)
    raw = attrs["State"]["FinishedAt"] if attrs["State"]["Status"] == "exited" else attrs["Created"]
    moment = parse_docker_time(raw)
    assert moment is not None, raw
    return moment


def names(client: docker.DockerClient) -> set[str]:
    return {row["Names"][0].lstrip("/") for row in client.api.containers(all=True)}


def volumes(client: docker.DockerClient) -> set[str]:
    return {v.name for v in client.volumes.list()}


def tags(client: docker.DockerClient) -> set[str]:
    return {t for image in client.images.list() for t in image.tags}


class World:
    """One test's containers, made through the real service (or the SDK where `run`
    cannot produce the state, e.g. `created` or unmanaged)."""

    def __init__(self, sandbox: Any, svc: Service, clients: dict[str, Any]) -> None:
        self.sandbox = sandbox
        self.svc = svc
        self.clients = clients

    def up(self, tag: str, *, context: str | None = None, keep: bool = False) -> str:
        """A running managed container (`run`), on its own data volume."""
        ws = self.sandbox.workspace(tag)
        volume = f"{self.sandbox.volume}-{tag}"
        result = self.svc.run(
            RunParams(workspace=str(ws), context=context, keep=keep, data_volume=volume)
        )
        return result.container_name

    def stopped(self, tag: str, *, context: str | None = None, keep: bool = False) -> str:
        """An exited managed container with a real FinishedAt."""
        name = self.up(tag, context=context, keep=keep)
        halt(self.clients[context or "default"], name)
        return name

    def created(self, client: docker.DockerClient, tag: str) -> str:
        """A managed container that was never started, with a named and an anonymous volume."""
        ws = self.sandbox.workspace(tag)
        volume = f"{self.sandbox.volume}-{tag}"
        name = f"{tag}-main"
        client.api.create_container(
            TINY,
            name=name,
            labels={MANAGED_LABEL: "true", WORKSPACE_LABEL: str(ws), VOLUME_LABEL: volume},
            volumes=["/scratch"],
            host_config=client.api.create_host_config(
                binds={volume: {"bind": "/mnt/agent-data", "mode": "rw"}}
            ),
        )
        return name

    def stranger(self, client: docker.DockerClient, tag: str) -> str:
        """An exited container with our workspace label but not `containai.managed=true`."""
        ws = self.sandbox.workspace(tag)
        container = client.containers.run(
            TINY,
            ["true"],
            name=f"{tag}-main",
            labels={MANAGED_LABEL: "false", WORKSPACE_LABEL: str(ws)},
            detach=True,
        )
        container.wait(timeout=30)
        return container.name


def halt(client: docker.DockerClient, name: str) -> None:
    """Make a container exit now (SIGKILL, then wait for the exit event).

    Not `stop`: the tiny image's shell may not have set its TERM trap yet right after a
    start, and then a stop waits out the full 100 s stop timeout.
    """
    container = client.containers.get(name)
    container.kill()
    container.wait(timeout=30)


def use_engine(sandbox: Any, monkeypatch: pytest.MonkeyPatch, host: str) -> None:
    """Make the dedicated daemon the only engine, for in-process and CLI calls alike."""
    sandbox.env["DOCKER_HOST"] = host
    monkeypatch.setenv("DOCKER_HOST", host)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    sandbox.env.pop("DOCKER_CONTEXT", None)


def rpc(method: str, params: dict[str, Any], **session: Any) -> Any:
    """One request over the real protocol (our pygls client, a real server process)."""

    async def go() -> Any:
        async with Session(**session) as s:
            return await s.request(method, params)

    return asyncio.run(go())


def rpc_each(method: str, params: list[dict[str, Any]]) -> list[Any]:
    """Several requests over one server: each answer, or the RpcError it raised."""

    async def go() -> list[Any]:
        answers: list[Any] = []
        async with Session() as s:
            for p in params:
                try:
                    answers.append(await s.request(method, p))
                except RpcError as exc:
                    answers.append(exc)
        return answers

    return asyncio.run(go())


def cai_json(sandbox: Any, *args: str, cwd: Path | None = None) -> Any:
    proc = sandbox.cai(*args, "--json", cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture
def engine(sandbox, dedicated_engine, monkeypatch) -> Iterator[docker.DockerClient]:
    """The dedicated daemon as the server's only engine (context `default`)."""
    use_engine(sandbox, monkeypatch, dedicated_engine.host)
    client = dedicated_engine.client()
    yield client
    client.close()


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock()


@pytest.fixture
def set_now(sandbox: Any, monkeypatch: pytest.MonkeyPatch, clock: SettableClock) -> Any:
    """`set_now(moment)`: the in-process services' clock, and the server that CLI and
    protocol calls start (the test entry point with that fixed time)."""

    def set_to(moment: datetime) -> None:
        clock.set(moment)
        server = test_server.env_command(now=rfc3339(moment))
        sandbox.env["CONTAINAI_SERVER"] = server
        monkeypatch.setenv("CONTAINAI_SERVER", server)

    return set_to


@pytest.fixture
def service(engine, clock) -> Iterator[Service]:
    svc = Service(clock=clock)
    yield svc
    svc.close()


@pytest.fixture
def second_engine(dedicated_engine, dedicated_engine_factory) -> Any:
    """gc spans contexts, so one test needs a second private dockerd."""
    return dedicated_engine_factory()


def plant_ssh_access(ports: dict[str, int]) -> None:
    """Host configs and known_hosts entries as `run` leaves them for SSH images."""
    host_config_dir().mkdir(parents=True, exist_ok=True)
    known_hosts_path().parent.mkdir(parents=True, exist_ok=True)
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
    for name, port in ports.items():
        (host_config_dir() / f"{name}.conf").write_text(
            f"{MARKER} {name}\nHost {name}\n    HostName 127.0.0.1\n    Port {port}\n"
        )
        with known_hosts_path().open("a") as f:
            f.write(f"[127.0.0.1]:{port} {key}\n")


def planted_ssh_access(ports: dict[str, int]) -> set[str]:
    """Which of the planted containers still have a host config or a known_hosts entry."""
    known = known_hosts_path().read_text()
    return {
        name
        for name, port in ports.items()
        if (host_config_dir() / f"{name}.conf").exists() or f"[127.0.0.1]:{port} " in known
    }


def register_contexts(
    sandbox: Any, monkeypatch: pytest.MonkeyPatch, contexts: dict[str, str]
) -> None:
    """Docker contexts in a test-private DOCKER_CONFIG, listed in `[engine] contexts`."""
    config = sandbox.root / "dockercfg"
    config.mkdir()
    (config / "config.json").write_text("{}")  # the SDK looks for contexts next to it
    for name, host in contexts.items():
        subprocess.run(
            [
                "docker",
                "--config",
                str(config),
                "context",
                "create",
                name,
                "--docker",
                f"host={host}",
            ],
            check=True,
            capture_output=True,
        )
    sandbox.env["DOCKER_CONFIG"] = str(config)
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    listed = ", ".join(f'"{n}"' for n in contexts)
    with sandbox.config_file.open("a") as f:
        f.write(f"\n[engine]\ncontexts = [{listed}]\n")


# --------------------------------------------------------------------------- acceptance


def test_gc_twelve_containers_in_two_contexts(
    sandbox, engine, second_engine, monkeypatch, tmp_path, clock, set_now
):
    register_contexts(
        sandbox,
        monkeypatch,
        {"gc-second": second_engine.host, "gc-dead": f"unix://{tmp_path}/nobody.sock"},
    )
    second = second_engine.client()
    client_of = {"default": engine, "gc-second": second}
    svc = Service(clock=clock)
    world = World(sandbox, svc, client_of)
    try:
        # Everything "old" first, then the split point, then everything "new".
        old = {
            ("default", world.stopped("exold")),
            ("default", world.created(engine, "crold")),
            ("gc-second", world.stopped("exold2", context="gc-second")),
            ("gc-second", world.created(second, "crold2")),
        }
        kept_label = world.stopped("kplabel", keep=True)
        kept_config = world.stopped("kpconfig")
        assert svc.keep(KeepParams(container=kept_config, keep=True)).source == "config"
        stranger = world.stranger(engine, "stranger")
        split = max(
            idle_since(client_of[c], n)
            for c, n in [*old, ("default", kept_label), ("default", kept_config)]
        )
        young = {
            world.stopped("exnew"): "tooRecent",
            world.created(engine, "crnew"): "tooRecent",
            world.up("running"): "running",
        }
        young2 = {
            world.stopped("exnew2", context="gc-second"): "tooRecent",
            world.up("running2", context="gc-second"): "running",
        }
        assert len(old) + 3 + len(young) + len(young2) == 12
        before = {"default": names(engine), "gc-second": names(second)}
        vols = {"default": volumes(engine), "gc-second": volumes(second)}
        anonymous = {v for found in vols.values() for v in found if len(v) == 64}
        assert len(anonymous) == 3  # crold, crold2, crnew: `docker rm -v` would take them
        ssh_of = {n: 2390 + i for i, n in enumerate(sorted([n for _, n in old] + [kept_label]))}
        plant_ssh_access(ssh_of)
        set_now(split + timedelta(days=7))

        started = time.monotonic()
        dry = svc.gc(GcParams(age="7d", dry_run=True))
        dry_s = time.monotonic() - started
        assert {(c.context, c.name) for c in dry.candidates} == old
        assert all(c.age_seconds >= 7 * 86400 and c.age.startswith("7d") for c in dry.candidates)
        assert {(s.context, s.name): s.reason for s in dry.skipped} == {
            ("default", kept_label): "keep",
            ("default", kept_config): "keep",
            ("default", stranger): "notManaged",
            **{("default", n): r for n, r in young.items()},
            **{("gc-second", n): r for n, r in young2.items()},
        }
        assert [(e.context, "not reachable" in e.message) for e in dry.errors or []] == [
            ("gc-dead", True)
        ]
        assert dry.removed == [] and dry.dry_run
        assert {"default": names(engine), "gc-second": names(second)} == before

        started = time.monotonic()
        real = svc.gc(GcParams(age="7d", force=True))
        real_s = time.monotonic() - started
        assert {(c.context, c.name) for c in real.removed} == old
        assert real.failed == []
        for context, client in client_of.items():
            gone = {n for c, n in old if c == context}
            assert names(client) == before[context] - gone
            assert volumes(client) == vols[context], "gc must never remove a volume"
        assert planted_ssh_access(ssh_of) == {kept_label}, "removed means SSH access forgotten"
        assert real.reclaimed_bytes is not None and real.reclaimed_bytes >= 0
        print(f"gc of 12 containers in 2 contexts: dry run {dry_s:.2f} s, real {real_s:.2f} s")
    finally:
        svc.close()
        second.close()


def test_candidate_started_between_scan_and_removal_is_skipped(
    sandbox, engine, service, monkeypatch
):
    world = World(sandbox, service, {"default": engine})
    restarted = world.stopped("again")
    started = world.stopped("started")
    never = world.created(engine, "never")
    removable = world.stopped("removable")
    now = max(idle_since(engine, n) for n in (restarted, started, never, removable))
    now += timedelta(days=1)
    plan = gc.scan(service.engines, GcParams(age="1d", force=True), Hooks(), now)
    assert {c.name for c in plan.candidates} == {restarted, started, never, removable}

    engine.containers.get(started).start()  # real starts, after the scan
    engine.containers.get(never).start()
    engine.containers.get(restarted).start()
    halt(engine, restarted)  # exited again, but it ran after the scan

    result = gc.apply(service.engines, plan, Hooks())
    assert [c.name for c in result.removed] == [removable]
    late = {s.name: (s.reason, s.docker_state) for s in result.skipped}
    assert late == {
        started: ("startedSinceScan", "running"),
        never: ("startedSinceScan", "running"),
        restarted: ("startedSinceScan", "exited"),
    }
    assert names(engine) >= {started, never, restarted}


def test_images_only_unused_ones_with_our_prefixes(sandbox, engine, service):
    u = uuid.uuid4().hex[:8]
    base = engine.api.create_container(TINY)["Id"]

    def image(*refs: str) -> str:
        """A distinct image (its own id) tagged with `refs`."""
        repo, tag = refs[0].rsplit(":", 1)
        label = f"LABEL gc.test={uuid.uuid4().hex}"
        image_id = engine.api.commit(base, repository=repo, tag=tag, changes=[label])["Id"]
        for ref in refs[1:]:
            engine.api.tag(image_id, *ref.rsplit(":", 1))
        return image_id

    unused = [
        f"containai:gc-unused-{u}",
        f"containai-template-gc{u}:local",
        f"ghcr.io/containai/gc-{u}:test",
    ]
    for ref in unused:
        image(ref)
    used = image("containai:latest", f"containai:gc-used-{u}")  # on this private daemon only
    engine.api.create_container(used, name=f"user-{u}")  # stopped, unmanaged: still a user
    image(f"containai:gc-shared-{u}", f"other/keepme:gc-{u}")  # untag only; image stays
    foreign = [f"ghcr.io/novotnyllc/containai:gc-{u}", f"mycontainai:gc-{u}"]
    image(*foreign)
    engine.api.remove_container(base)
    sizes = {t: i.attrs["Size"] for i in engine.images.list() for t in i.tags}

    dry = service.gc(GcParams(images=True, dry_run=True))
    expected = {*unused, f"containai:gc-shared-{u}"}
    assert dry.images is not None
    assert {i.reference for i in dry.images.candidates} == expected
    assert tags(engine) >= expected

    real = service.gc(GcParams(images=True, force=True))
    assert real.images is not None
    assert {i.reference for i in real.images.removed} == expected
    left = tags(engine)
    assert not left & expected
    assert left >= {"containai:latest", f"containai:gc-used-{u}", f"other/keepme:gc-{u}", TINY}
    assert left >= set(foreign)
    assert real.reclaimed_bytes == sum(sizes[t] for t in unused)


def test_age_parsing_through_the_protocol_and_cli(sandbox, engine, service, set_now):
    world = World(sandbox, service, {"default": engine})
    name = world.stopped("nine")
    set_now(idle_since(engine, name) + timedelta(days=9))
    accepted = {"7d": 7, "24h": 1, "08d": 8, "010d": 10, "1w": 7}  # in days
    refused = ["7", "d", "-1d", "1.5d", "7x"]
    answers = rpc_each(
        "containai/gc", [{"dryRun": True, "age": text} for text in [*accepted, *refused]]
    )
    for (text, days), r in zip(accepted.items(), answers, strict=False):
        assert r["ageSeconds"] == days * 86400, text
        stale = [c["name"] for c in r["candidates"]]
        assert stale == ([name] if days <= 9 else []), text  # 010d is 10 days, not 8
    for text, r in zip(refused, answers[len(accepted) :], strict=True):
        assert isinstance(r, RpcError) and r.reason == "invalidAge", (text, r)

    assert cai_json(sandbox, "gc", "--dry-run", "--age=010d")["candidates"] == []
    proc = sandbox.cai("gc", "--dry-run", "--age=-1d")
    assert proc.returncode == 1
    assert "[ERROR] Invalid age format: '-1d'" in proc.stderr, proc.stderr


def test_cai_keep_on_and_off(sandbox, engine, service, set_now):
    world = World(sandbox, service, {"default": engine})
    plain = world.stopped("plain")
    label = world.stopped("label", keep=True)  # what `cai run --keep` creates
    label_ws = sandbox.root / "ws" / "label"
    last = max(idle_since(engine, n) for n in (plain, label))
    set_now(last + timedelta(days=2))

    on = cai_json(sandbox, "keep", "--container", plain)
    assert (on["keep"], on["source"]) == (True, "config")
    again = cai_json(sandbox, "keep", "--workspace", str(label_ws))
    assert (again["containerName"], again["keep"], again["source"]) == (label, True, "label")
    listed = {c["name"]: c["keep"] for c in cai_json(sandbox, "list")["containers"]}
    assert listed == {plain: True, label: True}
    assert cai_json(sandbox, "status", "--container", plain)["keep"] is True

    kept = cai_json(sandbox, "gc", "--age", "1d", "--force")
    assert kept["removed"] == []
    assert {s["name"]: s["reason"] for s in kept["skipped"]} == {plain: "keep", label: "keep"}
    assert names(engine) >= {plain, label}

    for who in (plain, label):
        off = cai_json(sandbox, "keep", "--container", who, "--off")
        assert (off["keep"], off["source"]) == (False, "none")

    preview = sandbox.cai("gc", "--age", "1d", "--dry-run")
    assert preview.returncode == 0, preview.stderr
    lines = preview.stdout.splitlines()
    assert lines[:3] == ["Stale ContainAI resources (age >= 1d):", "", "Containers:"]
    assert sorted(lines[3:5]) == sorted(f"  {n} (exited, age: 2d 0h)" for n in (plain, label))
    assert lines[5:] == ["", "[DRY-RUN] Would remove 2 container(s) and 0 image(s)"]

    gone = sandbox.cai("gc", "--age", "1d", "--force")
    assert gone.returncode == 0, gone.stderr
    assert gone.stdout.splitlines()[-1] == "Removed: 2 container(s), 0 image(s)"
    assert not names(engine) & {plain, label}
    assert released_containers() == set()  # no stale release left for a future namesake
    assert sandbox.cai("gc", "--force").stdout.strip() == "No stale resources found."


def test_confirmation_over_the_protocol(sandbox, engine, service, set_now):
    world = World(sandbox, service, {"default": engine})
    name = world.stopped("ask")
    set_now(idle_since(engine, name) + timedelta(days=31))
    questions: list[str] = []

    def answer(with_: str | None) -> Any:
        def confirm(message: str, actions: list[str]) -> str | None:
            questions.append(message)
            return with_

        return confirm

    with pytest.raises(RpcError) as err:
        rpc("containai/gc", {})  # this client declared no showMessageRequest support
    assert err.value.reason == "confirmationRequired"

    declined = rpc("containai/gc", {}, confirm=answer(None))
    assert declined["declined"] is True and declined["removed"] == []
    assert name in names(engine)

    progress: list[str] = []
    done = rpc(
        "containai/gc",
        {"workDoneToken": "t"},
        confirm=answer("Remove"),
        on_progress=progress.append,
    )
    assert [c["name"] for c in done["removed"]] == [name]
    assert questions == ["Remove 1 container(s) and 0 image(s)?"] * 2
    assert f"Removing container {name} (1/1)" in progress
    assert name not in names(engine)
