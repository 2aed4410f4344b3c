"""Workspace paths and their git state, seen exactly as the original `cai` sees them.

The generated container name and the reset volume name depend on the normalised path
and on git; getting either slightly wrong would put a user who
switches tools into a different container.
"""

from __future__ import annotations

import logging
import os
import subprocess
import time
from contextvars import ContextVar

from containai_rpc.core.naming import container_name, quote_for_message, reset_volume_name
from containai_rpc.errors import DomainError

log = logging.getLogger(__name__)

GIT_TIMEOUT_SECONDS = 10.0
"""rev-parse answers in milliseconds; longer means a hung filesystem, treated as "no git"."""

# Belt and braces: rev-parse neither prompts nor takes locks today and must never start to.
# GIT_DIR and friends are deliberately left as the user set them (a broken one: git part `nogit`).
_GIT_ENV_OVERRIDES = {"GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"}


def normalize_path(path: str | os.PathLike[str], *, cwd: str | None = None) -> str:
    """The absolute, symlink-free workspace path, like `cd -- path && pwd -P` (§1.5, Linux).

    A leading `~` is expanded (the original's argument parsers do that). As in bash `cd`,
    `..` is first applied to the path as written (relative to the logical cwd, `$PWD`),
    and only if that is not a directory to the physical path. Stricter than the
    original, which passes a missing path through unchanged: a path that is not an
    existing directory fails with `workspaceNotFound`, and NUL or line breaks (which no
    state file or label can hold) with `invalidPath`.
    """
    text = os.fsdecode(os.fspath(path))
    if not text:
        raise DomainError("invalidPath", "Workspace path is empty")
    if any(c in text for c in "\0\n\r"):
        raise DomainError(
            "invalidPath",
            f"Invalid workspace path (contains NUL or a line break): {quote_for_message(text)}",
        )
    joined = os.path.expanduser(text)
    if not os.path.isabs(joined):
        try:
            base = os.path.abspath(cwd) if cwd is not None else _logical_cwd()
        except OSError as exc:  # the process cwd was deleted
            raise DomainError(
                "workspaceNotFound", f"Workspace path does not exist: {text}"
            ) from exc
        joined = os.path.join(base, joined)
    for candidate in (os.path.normpath(joined), joined):
        if os.path.isdir(candidate):
            return os.path.realpath(candidate)
    raise DomainError("workspaceNotFound", f"Workspace path does not exist: {text}")


CLIENT_CWD: ContextVar[str | None] = ContextVar("client_cwd", default=None)
"""The working directory of the client a request came from (its `initialize` said so):
a shared server serves clients in many directories, none of them its own."""


def current_dir() -> str:
    """The directory a request's relative paths start from: its client's, else ours."""
    return CLIENT_CWD.get() or os.getcwd()


def _logical_cwd() -> str:
    """The client's directory; else `$PWD` when it still names the cwd (what the user's
    shell and `cd` use), else getcwd."""
    client = CLIENT_CWD.get()
    if client is not None:
        return client
    physical = os.getcwd()
    logical = os.environ.get("PWD", "")
    if os.path.isabs(logical):
        try:
            if os.path.samefile(logical, physical):
                return logical
        except OSError:
            pass
    return physical


def _git(path: str, *args: str) -> tuple[int, list[str]] | None:
    """Run `git -C path args…`; None when git is missing, unrunnable or hangs."""
    try:
        proc = subprocess.run(
            ["git", "-C", path, *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=GIT_TIMEOUT_SECONDS,
            env={**os.environ, **_GIT_ENV_OVERRIDES},
            check=False,
        )
    except subprocess.TimeoutExpired:
        log.warning(
            "git timed out after %ss in %s; treating it as not a repository",
            GIT_TIMEOUT_SECONDS,
            path,
        )
        return None
    except OSError:
        return None
    # Split on "\n" only: branch names may contain other characters str.splitlines() splits on.
    return proc.returncode, os.fsdecode(proc.stdout).split("\n")


def _rev_parse_head(path: str) -> tuple[bool, str | None]:
    """(is a git dir, `rev-parse --abbrev-ref HEAD` output or None if it failed), one process.

    The original asks twice; one combined rev-parse answers both: it prints
    `--is-inside-work-tree`'s `true`/`false` (success, even inside `.git`, as the original
    checks only the exit status) before it resolves HEAD, and exits 128 when HEAD does
    not resolve (unborn branch). Not a repo, `GIT_DIR` elsewhere, dubious ownership: no
    output at all.
    """
    result = _git(path, "rev-parse", "--is-inside-work-tree", "--abbrev-ref", "HEAD")
    if result is None:
        return False, None
    returncode, lines = result
    if lines[0] not in ("true", "false"):
        return False, None
    if returncode != 0:
        return True, None
    return True, lines[1]


def branch_token(path: str) -> str:
    """The branch for container naming (§1.1 step 3): branch, `detached` or `nogit`."""
    is_repo, abbrev_ref = _rev_parse_head(path)
    if not is_repo:
        return "nogit"
    if not abbrev_ref or abbrev_ref == "HEAD":
        return "detached"  # detached HEAD and unborn branch alike
    return abbrev_ref


def reset_branch(path: str) -> str:
    """The branch for reset volume names (§3.4): branch, short SHA when detached, or `nogit`.

    Detached HEAD costs a second git call, as `--short` cannot share a rev-parse.
    """
    is_repo, abbrev_ref = _rev_parse_head(path)
    if not is_repo or abbrev_ref is None:
        return "nogit"  # also an unborn branch, as in the original
    if abbrev_ref != "HEAD":
        return abbrev_ref
    short = _git(path, "rev-parse", "--short", "HEAD")
    if short is None or short[0] != 0:
        return "detached"
    return short[1][0]


def workspace_container_name(normalised_path: str) -> str:
    """The generated container name for a workspace (§1.1); the path's own dir name counts."""
    path = normalised_path or os.getcwd()
    repo_dir_name = path.rsplit("/", 1)[-1] or path.removesuffix("/").rsplit("/", 1)[-1]
    return container_name(repo_dir_name, branch_token(path))


def workspace_reset_volume_name(normalised_path: str, timestamp: str | None = None) -> str:
    """A new data volume name for `reset` (§3.4); the timestamp defaults to now in ns."""
    repo_dir_name = normalised_path.rstrip("/").rsplit("/", 1)[-1]  # `basename`; "/" → ""
    return reset_volume_name(
        repo_dir_name,
        reset_branch(normalised_path),
        str(time.time_ns()) if timestamp is None else timestamp,
    )


_SYSTEM_TREES = (
    "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc",
    "/run", "/sbin", "/sys", "/usr", "/var",
)  # fmt: skip
"""Refused with everything under them (`/var/tmp/...` excepted: scratch space)."""
_SYSTEM_DIRS = ("/", "/home", "/mnt", "/media", "/opt", "/srv", "/tmp", "/var/tmp")
"""Refused themselves only: holders of other people's or other projects' files."""


def refused_workspace(normalised_path: str) -> str | None:
    """Why `run` must not bind-mount this (normalised, symlink-free) path read-write into
    a container, or None: `/`, the user's home itself, another user's home root
    (`/root` when it is not ours) and system directories."""
    path = normalised_path.rstrip("/") or "/"
    home = os.path.realpath(os.path.expanduser("~"))
    if path == home:
        return "it is your home directory itself"
    if path == "/":
        return "it is the root of the host's file system"
    if path in _SYSTEM_DIRS:
        return f"{path} is a system directory"
    if path.startswith("/var/tmp/"):
        return None
    for tree in (*_SYSTEM_TREES, "/root"):
        if path == tree or path.startswith(tree + "/"):
            if tree == "/root" and (home == "/root" or home.startswith("/root/")):
                continue
            return f"it is {'in ' if path != tree else ''}the system directory {tree}"
    return None


def check_workspace_allowed(normalised_path: str, *, allow_system: bool) -> None:
    """`workspaceRefused` for a workspace `refused_workspace` names, unless allowed."""
    why = None if allow_system else refused_workspace(normalised_path)
    if why is not None:
        raise DomainError(
            "workspaceRefused",
            f"Refusing workspace {quote_for_message(normalised_path)}: {why}; its whole "
            "tree would be mounted read-write into the container",
            hint="Use a project directory as the workspace, or allowSystemWorkspace to "
            "mount it anyway.",
        )
