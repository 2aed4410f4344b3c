"""`keep`: protect an existing container from gc, or stop protecting it.

Labels are immutable, so a change after creation is recorded in the user config
(`[keep]`), and `KeepPolicy` combines both sources for gc, `list` and `status` alike.
"""

from __future__ import annotations

from containai_rpc.engine import ContainerInfo, EngineSet
from containai_rpc.protocol.gc import KeepParams, KeepResult
from containai_rpc.service.inventory import target
from containai_rpc.service.summary import KeepPolicy
from containai_rpc.workspace.state import set_keep
from containai_rpc.workspace.userconfig import UserConfig


def config_entry(info: ContainerInfo, keep: bool) -> bool | None:
    """The smallest config record giving the wanted protection: a labelled container
    needs a release to lose it, an unlabelled one an entry to gain it."""
    if info.keep_label:
        return None if keep else False
    return True if keep else None


def keep(engines: EngineSet, p: KeepParams, config: UserConfig) -> KeepResult:
    info = target(engines, p, config)  # reads only the TargetParams fields
    entry = config_entry(info, p.keep)
    set_keep(info.name, entry)
    policy = KeepPolicy.of(config).with_entry(info.name, entry)
    return KeepResult(
        container_name=info.name,
        context=info.context,
        keep=policy.protects(info),
        source=policy.source(info),
    )
