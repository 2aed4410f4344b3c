"""`sshCleanup`: forget the SSH host configs of containers that no longer exist.

The files and their locking belong to ssh/; deciding what is stale needs the engines of
every managed context, so the operation lives here with the others.
"""

from __future__ import annotations

from containai_rpc.engine import Engine, EngineSet
from containai_rpc.errors import DomainError
from containai_rpc.protocol.ssh import SshCleanupResult, SshHostConfig
from containai_rpc.ssh import hostconfig, known_hosts
from containai_rpc.ssh.hostconfig import HostConfig


def _wire(entry: HostConfig) -> SshHostConfig:
    return SshHostConfig(container=entry.container, config_file=str(entry.path), port=entry.port)


def cleanup_stale(engines: EngineSet, *, dry_run: bool) -> SshCleanupResult:
    """Remove host configs (and known_hosts entries) of containers that no longer exist.

    Only contexts that answer count; if none does, nothing is deleted (an unreachable
    engine proves nothing stale).
    Each file is checked and deleted under the host-config lock, so a `run` writing
    the same name concurrently is never undone.
    """
    result = SshCleanupResult(removed=[], kept=[], dry_run=dry_run)
    configs = hostconfig.our_host_configs()
    if not configs:
        return result
    reachable: list[Engine] = []
    in_use: set[int] = set()
    failures: list[str] = []
    for context, found in engines.each(engines.managed_contexts(), lambda e: e.list_managed()):
        if isinstance(found, DomainError):
            failures.append(found.message)
            continue
        reachable.append(engines.get(context))
        in_use.update(c.ssh_port for c in found if c.ssh_port)
    if not reachable:
        raise DomainError(
            "engineUnavailable",
            "No Docker engine is reachable, so no SSH config can be judged stale; "
            "nothing was removed",
            hint="Start the Docker daemon and repeat the SSH cleanup. " + " ".join(failures),
        )
    for entry in configs:
        with hostconfig.config_lock():
            exists = any(e.inspect(entry.container) is not None for e in reachable)
            if not exists and not dry_run:
                entry.path.unlink(missing_ok=True)
        (result.kept if exists else result.removed).append(_wire(entry))
        # A stale file's port may belong to a newer container by now: keep its keys.
        if not exists and not dry_run and entry.port is not None and entry.port not in in_use:
            known_hosts.forget(entry.port)
    return result
