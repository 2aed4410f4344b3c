"""docker-py's ssh:// transport without paramiko: the one workaround for a library internal.

ssh:// contexts use the user's own `ssh` (`use_ssh_client=True`: `ssh … docker system
dial-stdio`, the user's ssh config, keys and known_hosts, like the docker CLI), which never
calls paramiko. But docker-py binds `SSHHTTPAdapter` in `docker.api.client` only if
`docker.transport.sshconn` imported, and that module imports paramiko at its top. paramiko
and its crypto stack cost every server ~16 MB of memory and ~50 ms of start-up, for ssh://
contexts only, so it is not installed: the module is imported once with an empty stand-in
for paramiko (taken out of `sys.modules` again), and its adapter bound where docker-py
looks for it. With paramiko installed this does nothing.

Checked with docker 7.2.0 (pyproject.toml pins the 7.2 series);
`tests/unit/project/test_library_contracts.py` fails naming the docker version if this
stops working.
"""

from __future__ import annotations

import importlib
import sys
import threading
from types import ModuleType

import docker.api.client

_lock = threading.Lock()


def load_ssh_transport() -> None:
    """Make `docker.APIClient(base_url="ssh://…", use_ssh_client=True)` work."""
    with _lock:
        if hasattr(docker.api.client, "SSHHTTPAdapter"):
            return
        had, previous = "paramiko" in sys.modules, sys.modules.get("paramiko")
        sys.modules["paramiko"] = ModuleType("paramiko")
        try:
            sshconn = importlib.import_module("docker.transport.sshconn")
        finally:
            if had:
                sys.modules["paramiko"] = previous  # type: ignore[assignment]
            else:
                del sys.modules["paramiko"]
        docker.api.client.SSHHTTPAdapter = sshconn.SSHHTTPAdapter  # type: ignore[attr-defined]
