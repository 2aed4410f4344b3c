"""Remote Docker hosts: one SSH connection per context against per-request dial-stdio.

    .venv/bin/python -m bench.bench_remote [--quick]

Three private dockerds on this machine (tests/support/engines.py's `Daemon`): `local`,
reached by its unix socket, and `far`, in its own network namespace behind its own sshd
(tests/support/remote_hosts.py), reached only as `ssh://far` (address, port, user and key
from the sandbox's ~/.ssh/config). One managed tiny container on each. Measured, in the
same run and interleaved round by round:

1. in-process, the service's own calls (`Service.status`, `list_containers`, which ask the
   engine every time) over three transports: the local socket, our SSH connection
   (`EngineSet` as the server uses it) and the previous transport (bench/dialstdio.py: a
   new `ssh … docker system dial-stdio` per connection); warm calls, and the first call
   of a fresh `EngineSet` (connect included);
2. over the protocol, a real server per context: the first `containai/status` after
   `initialize` (target ≤ 1 s), then warm `containai/status` and `containai/list`
   (targets: remote within 1.5x of local);
3. `docker stop` on the remote (its own socket, as a user there would) →
   `containai/containerChanged` at our client (target p95 ≤ 300 ms), and the same through
   the previous transport (the live state in-process on a dial-stdio `EngineSet`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench.bench_events import TINY_IMAGE, remove_daemon
from bench.bench_status import sandbox_env
from bench.dialstdio import DialStdioEngines
from bench.report import Row, Section, Summary, Target
from containai_rpc.engine import EngineSet
from containai_rpc.protocol.models import ListParams, StatusParams
from containai_rpc.service import Service
from containai_rpc.service.inventory import list_containers
from tests.support.docker_cli import create_context
from tests.support.engines import Daemon
from tests.support.lsp_client import start_server, stop_server
from tests.support.remote_hosts import SSH_PORT, RemoteHost, SshClientHome

CHANGED = "containai/containerChanged"
WITHIN_LOCAL = Target("ratio", 1.5, "≤ 1.5x local")


@contextlib.contextmanager
def rig() -> Iterator[dict[str, Any]]:
    """A sandbox HOME (in os.environ), a local and a remote private dockerd, their
    contexts, and one managed container on each; all removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="cai-bench-remote-"))
    saved = dict(os.environ)
    daemons: list[Daemon] = []
    remote: RemoteHost | None = None
    try:
        for key in [k for k in os.environ if k.startswith(("CONTAINAI_", "XDG_", "DOCKER_"))]:
            del os.environ[key]
        os.environ.update(sandbox_env(root, f"cai-bench-{uuid.uuid4().hex[:6]}"))
        os.environ["CONTAINAI_IMAGE"] = TINY_IMAGE
        home = Path(os.environ["HOME"])
        config = root / "dockercfg"
        config.mkdir()
        os.environ["DOCKER_CONFIG"] = str(config)
        # docker-py's dial-stdio runs plain `ssh`, which reads the login home's config:
        # point it at the sandbox's (our own connection passes -F itself).
        shim = root / "bin"
        shim.mkdir()
        (shim / "ssh").write_text('#!/bin/sh\nexec /usr/bin/ssh -F "$HOME/.ssh/config" "$@"\n')
        (shim / "ssh").chmod(0o755)
        os.environ["PATH"] = f"{shim}:{os.environ['PATH']}"
        for _ in range(2):
            token = uuid.uuid4().hex[:8]
            base = Path(f"/tmp/cai-d-{token}")
            daemon = Daemon(root=base, host=f"unix://{base}/d.sock", netns=f"cai-{token}")
            daemons.append(daemon)
            daemon.start()
            daemon.load_image(TINY_IMAGE)
        local, far = daemons
        client = SshClientHome(home)
        remote = RemoteHost(name="far", daemon=far, work=far.root / "sshd")
        remote.setup(client.key.with_suffix(".pub"))
        client.add(remote)
        create_context(config, "far", "ssh://far")
        # docker-py adds port 22 to an ssh:// URL without one: the baseline's needs it
        create_context(config, "far-dial", f"ssh://root@{remote.address}:{SSH_PORT}")
        create_context(config, "local", local.host)
        names = {}
        for context in ("local", "far"):
            ws = root / "ws" / context
            ws.mkdir(parents=True)
            names[context] = cai_json("run", "--context", context, cwd=ws)["containerName"]
        yield {"names": names, "remote": remote, "local": local, "far": far, "root": root}
    finally:
        if remote is not None:
            remote.kill_sshd()
        for daemon in daemons:
            daemon.stop()
            remove_daemon(daemon)
        os.environ.clear()
        os.environ.update(saved)
        shutil.rmtree(root, ignore_errors=True)


def cai_json(*args: str, cwd: Path) -> Any:
    done = subprocess.run(
        [sys.executable, "-m", "containai_rpc.cli", *args, "--json"],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(done.stdout)


def _timed(fn: Callable[[], Any]) -> float:
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began


def in_process(names: dict[str, str], rounds: int) -> list[Row]:
    """Warm and first calls of the service over the three transports, interleaved."""
    makers: dict[str, Callable[[], EngineSet]] = {
        "local": lambda: EngineSet("local"),
        "tunnel": lambda: EngineSet("far"),
        "dial-stdio": lambda: DialStdioEngines("far-dial"),
    }
    target = {"local": names["local"], "tunnel": names["far"], "dial-stdio": names["far"]}
    first: dict[str, list[float]] = {k: [] for k in makers}
    status: dict[str, list[float]] = {k: [] for k in makers}
    listed: dict[str, list[float]] = {k: [] for k in makers}
    for _ in range(max(3, rounds // 4)):
        for kind, make in makers.items():
            engines = make()
            service = Service(engines)
            params = StatusParams(container=target[kind])
            first[kind].append(_timed(lambda: service.status(params)))  # noqa: B023
            engines.close()
    services = {kind: Service(make()) for kind, make in makers.items()}
    for kind, service in services.items():
        service.status(StatusParams(container=target[kind]))  # warm: connected, CPU sampled
    for _ in range(rounds):
        for kind, service in services.items():
            params = StatusParams(container=target[kind])
            status[kind].append(_timed(lambda: service.status(params)))  # noqa: B023
            engines = service.engines
            listed[kind].append(
                _timed(lambda: list_containers(engines, ListParams()))  # noqa: B023
            )
    for service in services.values():
        service.close()
    rows = []
    for label, series in (
        ("first `status` of a new EngineSet (connect included)", first),
        ("warm `status` (service call)", status),
        ("warm `list` from the engine (service call)", listed),
    ):
        local = Summary.ms(series["local"])
        rows.append(
            Row(
                f"{label}: remote, one SSH connection",
                Summary.ms(series["tunnel"]),
                alternative="same, local socket",
                theirs=local,
            )
        )
        rows.append(
            Row(
                f"{label}: remote, one SSH connection",
                Summary.ms(series["tunnel"]),
                alternative="same, remote per-request dial-stdio",
                theirs=Summary.ms(series["dial-stdio"]),
            )
        )
    return rows


async def over_protocol(names: dict[str, str], rounds: int) -> list[Row]:
    """A real server per context: first status after initialize, then warm calls."""
    series: dict[str, dict[str, list[float]]] = {}
    for context in ("local", "far"):
        env = {**os.environ, "CONTAINAI_CONTEXT": context}
        firsts, statuses, lists = [], [], []
        for i in range(max(3, rounds // 4)):
            client = await start_server(env)
            try:
                params = {"container": names[context]}
                began = time.perf_counter()
                await client.request("containai/status", params)
                firsts.append(time.perf_counter() - began)
                if i == 0:
                    for _ in range(rounds):
                        began = time.perf_counter()
                        await client.request("containai/status", params)
                        statuses.append(time.perf_counter() - began)
                        began = time.perf_counter()
                        await client.request("containai/list", {})
                        lists.append(time.perf_counter() - began)
            finally:
                await stop_server(client)
        series[context] = {"first": firsts, "status": statuses, "list": lists}
    local, far = series["local"], series["far"]
    return [
        Row(
            "protocol: first `containai/status` after initialize, remote",
            Summary.ms(far["first"]),
            alternative="same, local",
            theirs=Summary.ms(local["first"]),
            target=Target("p50", 1000, "≤ 1 s"),
        ),
        Row(
            "protocol: warm `containai/status`, remote",
            Summary.ms(far["status"]),
            alternative="same, local",
            theirs=Summary.ms(local["status"]),
            target=WITHIN_LOCAL,
        ),
        Row(
            "protocol: warm `containai/list`, remote",
            Summary.ms(far["list"]),
            alternative="same, local",
            theirs=Summary.ms(local["list"]),
            target=WITHIN_LOCAL,
        ),
    ]


async def _stop_start_trials(
    far: Daemon, name: str, trials: int, changed: Callable[[str, float], Any]
) -> list[float]:
    """`docker stop` on the remote's own socket; the delay until `changed` sees it."""
    delays = []
    for _ in range(trials):
        for action, status in (("stop", "stopped"), ("start", "running")):
            subprocess.run(
                [
                    "docker",
                    "-H",
                    far.host,
                    action,
                    *(["-t", "0"] if action == "stop" else []),
                    name,
                ],
                check=True,
                capture_output=True,
            )
            returned = time.monotonic()
            arrived = await changed(status, returned)
            if action == "stop":
                delays.append(arrived - returned)
    return delays


async def events(rig_: dict[str, Any], trials: int) -> list[Row]:
    far, name = rig_["far"], rig_["names"]["far"]
    env = {**os.environ, "CONTAINAI_CONTEXT": "far"}
    client = await start_server(env)
    try:
        await client.expect("containai/engineStatus", lambda p: p["health"] == "ok", 20)

        async def seen(status: str, returned: float) -> float:
            push = await client.expect_push(
                CHANGED,
                lambda p: p["container"]["name"] == name and p["container"]["status"] == status,
                timeout=20,
            )
            return push.received_at

        ours = await _stop_start_trials(far, name, trials, seen)
    finally:
        await stop_server(client)

    # The previous transport: the same live state in-process, on a dial-stdio EngineSet.
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, Any]] = asyncio.Queue()
    service = Service(DialStdioEngines("far-dial"))
    service.watch(loop, lambda event: queue.put_nowait((time.monotonic(), event)))

    async def seen_dial(status: str, returned: float) -> float:
        deadline = time.monotonic() + 30
        while True:
            at, event = await asyncio.wait_for(queue.get(), deadline - time.monotonic())
            container = getattr(event, "container", None)
            if container is not None and container.name == name and container.status == status:
                return at

    try:
        await asyncio.wait_for(_ready(queue), 30)
        theirs = await _stop_start_trials(far, name, trials, seen_dial)
    finally:
        service.close()
    return [
        Row(
            "`docker stop` on the remote → containerChanged (one SSH connection)",
            Summary.ms(ours),
            alternative="same, per-request dial-stdio (in-process)",
            theirs=Summary.ms(theirs),
            target=Target("p95", 300, "p95 ≤ 300 ms"),
        ),
    ]


async def _ready(queue: asyncio.Queue[tuple[float, Any]]) -> None:
    """Until the dial-stdio live state reports the engine healthy."""
    while True:
        _, event = await queue.get()
        if getattr(event, "health", None) == "ok":
            return


def measure(quick: bool) -> Section:
    rounds, trials = (12, 8) if quick else (40, 20)
    with rig() as r:
        rows = in_process(r["names"], rounds)
        rows += asyncio.run(over_protocol(r["names"], rounds))
        rows += asyncio.run(events(r, trials))
    return Section(
        "Remote hosts: one SSH connection per context vs per-request dial-stdio",
        rows,
        notes=[
            "Remote = a private dockerd in its own network namespace behind its own sshd on "
            "this machine (no network latency: what remains is the transport's own cost).",
            "dial-stdio = docker-py's shell-out transport as the server used it before "
            "(bench/dialstdio.py); it cannot run in a server process any more, so its rows "
            "are the same service code in-process.",
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    from bench.report import table

    section = measure(args.quick)
    print(table(section.rows))
    for note in section.notes:
        print(f"- {note}")


if __name__ == "__main__":
    main()
