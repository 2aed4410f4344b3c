"""Fixtures of the context tests: a private docker CLI config for the sandbox."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.docker_cli import create_context
from tests.support.remote_hosts import RemoteHost, SshClientHome, load_cached_image


@pytest.fixture
def docker_config(sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private docker CLI config folder, without config.json (the SDK misses contexts
    there; we must not), and no DOCKER_HOST/DOCKER_CONTEXT from the outer environment."""
    path = sandbox.root / "dockercfg"
    path.mkdir()
    for var in ("DOCKER_HOST", "DOCKER_CONTEXT"):
        sandbox.env.pop(var, None)
        monkeypatch.delenv(var, raising=False)
    sandbox.env["DOCKER_CONFIG"] = str(path)
    monkeypatch.setenv("DOCKER_CONFIG", str(path))
    return path


@pytest.fixture
def remote_hosts(
    sandbox: Any, docker_config: Path, dedicated_engine_factory: Any
) -> Iterator[Callable[..., RemoteHost]]:
    """`make(name, image=…, trusted=True)`: a remote host (private dockerd behind its own
    sshd, in its own network namespace) registered as the Docker context `name` with
    endpoint `ssh://<name>`: user, address and port come from the sandbox's ssh config.
    sshd is killed afterwards; the daemon fixture deletes the namespace (and the veth)."""
    client = SshClientHome(sandbox.home)
    made: list[RemoteHost] = []

    def make(name: str, *, image: str | None = None, trusted: bool = True) -> RemoteHost:
        daemon = dedicated_engine_factory()
        if image is not None:
            load_cached_image(daemon, image)
        host = RemoteHost(name=name, daemon=daemon, work=daemon.root / "sshd")
        made.append(host)
        host.setup(client.key.with_suffix(".pub"))
        client.add(host, trusted=trusted)
        create_context(docker_config, name, f"ssh://{name}")
        return host

    yield make
    for host in made:
        host.kill_sshd()
