"""Remote Docker hosts: ssh:// contexts reached through one SSH connection of the server's.

Every remote here is a private dockerd in its own network namespace behind its own sshd
(`remote_hosts` in conftest.py); the contexts name only `ssh://<host>`, user, address and
port come from the sandbox's ~/.ssh/config, as a user's would.
"""

from __future__ import annotations

import time

import pytest

from containai_rpc.engine import EngineSet

pytestmark = pytest.mark.engine

TINY = "containai-test-tiny:latest"


def test_one_connection_serves_every_request(sandbox, remote_hosts):
    remote_hosts("far")
    engines = EngineSet("far")
    try:
        began = time.monotonic()
        engine = engines.get()
        print(f"first connect {time.monotonic() - began:.3f} s")
        tunnel = engines.tunnel("far")
        assert tunnel is not None and tunnel.alive()
        pid = tunnel.pid
        for _ in range(5):
            engine.ping()
            assert engine.list_managed() == []
        assert engines.get() is engine and tunnel.pid == pid
        assert oct(tunnel.socket.parent.stat().st_mode & 0o777) == "0o700"
    finally:
        engines.close()
    assert not tunnel.socket.parent.exists()
