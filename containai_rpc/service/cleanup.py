"""What goes with a removed container: the ONE post-removal cleanup (stop, gc and run)."""

from __future__ import annotations

from containai_rpc.engine import ContainerInfo
from containai_rpc.service.summary import KeepPolicy
from containai_rpc.ssh.access import remove_access
from containai_rpc.workspace.state import set_keep


def forget_removed(
    info: ContainerInfo, *, replaced: bool = False, keep: KeepPolicy | None = None
) -> None:
    """Forget a container that has just been removed.

    Always: its SSH host config and known_hosts entries. Unless a replacement of the same
    name takes over (`run`'s fresh/reset, `replaced=True`): its `[keep]` record too, so a
    later container of that name starts unprotected and a stale release cannot unprotect
    it. `keep`, when known, saves the config write for a name it does not list.
    """
    remove_access(info.name, info.ssh_port)
    if replaced:
        return
    if keep is None or info.name in keep.kept | keep.released:
        set_keep(info.name, None)
