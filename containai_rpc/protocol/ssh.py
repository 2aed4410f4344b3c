"""Wire models of `containai/sshCleanup` (part of the protocol's single source).

Removes the host configs in `~/.ssh/containai.d` (and their known_hosts entries) of
containers that no longer exist in any reachable managed context. Files without the
ContainAI marker line are never touched.
"""

from __future__ import annotations

from pydantic import Field

from containai_rpc.protocol.base import Params, WireModel


class SshCleanupParams(Params):
    """`containai/sshCleanup`: with `dryRun`, only report what would be removed."""

    dry_run: bool = False


class SshHostConfig(WireModel):
    """One ContainAI host config file and the container it is for."""

    container: str
    config_file: str = Field(description="Absolute path of `~/.ssh/containai.d/<name>.conf`.")
    port: int | None = Field(default=None, description="Its `Port`, whose known_hosts go too.")


class SshCleanupResult(WireModel):
    removed: list[SshHostConfig] = Field(
        description="Stale configs: removed, or with `dryRun` the ones that would be."
    )
    kept: list[SshHostConfig] = Field(description="Configs of containers that still exist.")
    dry_run: bool
