"""Strict file handling for what we keep under `~/.ssh` and the config folder.

Unlike `workspace/tomlfile.atomic_write` (which writes *through* a symlinked config.toml
for dotfile managers), nothing here follows a symlink: a host config, known_hosts or key
path that is a symlink is refused, and a file is only ever replaced by renaming a temp
file onto a path that is not a symlink (`rename` replaces a link, never its target).
The folders holding them must be ours and not writable by group or others, or ssh could
be made to read entries someone else put there.
"""

from __future__ import annotations

import errno
import os
import pwd
import stat
from pathlib import Path

from containai_rpc.errors import DomainError
from containai_rpc.workspace.tomlfile import replace_atomically, write_failed


def _user() -> str:
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return str(os.getuid())


def refused(path: Path, what: str, hint: str) -> DomainError:
    """An SSH file or folder we will not use as it is; the message starts with its path."""
    return DomainError("sshSetupFailed", f"{path}: {what}", hint=hint, file=str(path))


def dir_problem(path: Path) -> tuple[str, str] | None:
    """Why `path` (an existing folder) is unsafe for our files, with the fix; None if fine.

    A symlinked folder is followed (dotfile managers), but its target is what is checked.
    """
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        return (
            f"cannot be checked ({exc.strerror or exc})",
            f"Make {path} a directory of yours, mode 700.",
        )
    aside = f"check what is in it, then move it aside (`mv {path} {path}.suspect`)"
    if not stat.S_ISDIR(st.st_mode):
        return "is not a directory", f"Move it aside (`mv {path} {path}.bak`)."
    if st.st_uid != os.getuid():
        return (
            f"is owned by uid {st.st_uid}, not by you, so its entries are not yours",
            f"Either {aside} and let the next run recreate it, or take it over: "
            f"`sudo chown -R {_user()} {path} && chmod 700 {path}`.",
        )
    if st.st_mode & 0o022:
        return (
            f"has mode {stat.S_IMODE(st.st_mode):o}: group or others can write entries into it",
            f"Run `chmod 700 {path}`, and {aside} if it holds files you did not write.",
        )
    return None


def ensure_private_dir(path: Path) -> None:
    """Create `path` (0700) or check it is ours and not group/other-writable; a folder that
    is only readable by others is tightened to 0700. Refuses anything else."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise write_failed(path, exc) from None
    problem = dir_problem(path)
    if problem is not None:
        raise refused(path, *problem)
    if stat.S_IMODE(path.stat().st_mode) != 0o700:
        path.chmod(0o700)


def check_not_symlink(path: Path) -> bool:
    """Whether `path` exists (as a regular file); a symlink or other non-file is refused."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(st.st_mode):
        raise refused(
            path,
            "is a symbolic link; ContainAI does not write through it",
            f"Remove the link (`rm {path}`) if you did not make it; the next run writes a "
            "file there.",
        )
    if not stat.S_ISREG(st.st_mode):
        raise refused(path, "is not a regular file", f"Move it aside (`mv {path} {path}.bak`).")
    return True


def read_nofollow(path: Path) -> str | None:
    """The file's text (None when missing); a symlink is refused, not followed."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            check_not_symlink(path)  # raises the symlink refusal
        what = f"cannot be read ({exc.strerror or exc})"
        raise refused(path, what, "Check its owner and mode.") from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise refused(path, "is not a regular file", f"Move it aside (`mv {path} {path}.bak`).")
        return f.read().decode("utf-8", errors="replace")


def first_line_nofollow(path: Path) -> str | None:
    """The first line of a regular file, None for a symlink, a non-file or no file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            return None
        return f.readline().decode("utf-8", errors="replace")


def strict_write(path: Path, text: str, mode: int = 0o600) -> None:
    """Atomically replace `path` (never a symlink's target): temp file, fsync, rename."""
    check_not_symlink(path)
    try:
        replace_atomically(
            path,
            text,
            mode=mode,
            prefix=f".{path.name}.",
            before_rename=lambda: check_not_symlink(path),  # the rename replaces a link anyway
        )
    except OSError as exc:
        raise write_failed(path, exc) from None
