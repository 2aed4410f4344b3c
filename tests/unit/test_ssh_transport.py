"""ssh:// engines need no paramiko: docker-py's shell-out transport is loaded without it."""

from __future__ import annotations

import subprocess
import sys

# A fresh interpreter: docker-py decides at import whether it has an ssh transport.
CLIENT_OVER_SSH = """
import sys
sys.modules["paramiko"] = None  # as if not installed, even where it is
import docker
from containai_rpc.engine.contexts import Contexts
contexts = Contexts(env={"DOCKER_HOST": "ssh://someone@example.invalid"})
endpoint, kwargs = contexts.endpoint("default")
client = docker.APIClient(version="1.41", **kwargs)  # builds the adapter; connects on first use
print(endpoint, kwargs["use_ssh_client"], type(client.adapters["http+docker://ssh"]).__name__)
print(sys.modules["paramiko"])
"""


def test_an_ssh_endpoint_gets_the_shell_out_adapter_without_paramiko() -> None:
    out = subprocess.run(
        [sys.executable, "-c", CLIENT_OVER_SSH], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[:2] == ["ssh://someone@example.invalid True SSHHTTPAdapter", "None"]
