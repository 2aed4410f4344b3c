"""Which repository `.containai/config.toml` applies to a workspace, if any may be trusted."""

from __future__ import annotations

import logging
import os
from pathlib import Path

logger = logging.getLogger(__name__)

REPO_CONFIG = Path(".containai") / "config.toml"


def find_repo_config(workspace: str) -> Path | None:
    """The repository's `.containai/config.toml`, if one may be trusted.

    In a git repository: the nearest one from the workspace up to the repository root
    (the first directory holding `.git`, file or dir), never above it. Outside git: only
    the workspace's own, so a file some other local user left in a shared parent (say
    `/tmp/.containai/`) never applies. A file not owned by the user, or writable by group
    or others, is ignored with a warning.
    """
    start = Path(workspace)
    chain: list[Path] = []
    directory = start
    while True:
        chain.append(directory)
        try:
            if (directory / ".git").exists():
                break
        except OSError:  # an unreadable directory on the way: no repository found
            chain = [start]
            break
        if directory == directory.parent:
            chain = [start]  # not in a repository: the workspace's own file only
            break
        directory = directory.parent
    for directory in chain:
        candidate = directory / REPO_CONFIG
        try:
            if not candidate.is_file():
                continue
            st = candidate.stat()
        except OSError:  # an unreadable directory on the way ends the search
            return None
        if st.st_uid != os.getuid() or st.st_mode & 0o022:
            logger.warning(
                "%s is ignored: a repository config must be owned by you and writable by "
                "you only (owner uid %d, mode %o)",
                candidate,
                st.st_uid,
                st.st_mode & 0o777,
            )
            return None
        return candidate
    return None
