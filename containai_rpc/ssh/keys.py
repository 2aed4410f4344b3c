"""The ContainAI SSH key: ed25519 at `$XDG_CONFIG_HOME/containai/id_containai`.

The original tool uses the same key."""

from __future__ import annotations

import subprocess
from pathlib import Path

from containai_rpc.errors import DomainError
from containai_rpc.ssh.locking import ssh_lock
from containai_rpc.ssh.safefiles import (
    check_not_symlink,
    ensure_private_dir,
    read_nofollow,
    strict_write,
)
from containai_rpc.workspace.state import config_dir

KEY_NAME = "id_containai"
KEY_COMMENT = "containai"
KEYGEN_TIMEOUT_S = 30.0


def key_path() -> Path:
    return config_dir() / KEY_NAME


def _keygen(argv: list[str]) -> str:
    """Run ssh-keygen (argv, never a shell); its failure is an SSH setup failure."""
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=KEYGEN_TIMEOUT_S, check=False
        )
    except FileNotFoundError:
        raise DomainError(
            "sshSetupFailed",
            "ssh-keygen is not installed",
            hint="Install the OpenSSH client (e.g. apt-get install openssh-client).",
        ) from None
    except subprocess.TimeoutExpired:
        raise DomainError("sshSetupFailed", f"{argv[0]} did not finish in time") from None
    if done.returncode != 0:
        raise DomainError(
            "sshSetupFailed",
            f"ssh-keygen failed: {(done.stderr or done.stdout).strip() or done.returncode}",
        )
    return done.stdout


def ensure_key() -> str:
    """The public key line (`ssh-ed25519 AAAA… containai`), creating the pair on first need.

    The directory is kept at 0700 and the private key at 0600 (ssh refuses looser ones);
    a lost `.pub` is derived again from the private key. A folder not ours or writable by
    group/others, and a key or `.pub` that is a symlink, are refused.
    """
    key = key_path()
    with ssh_lock("key", timeout_s=30.0):
        ensure_private_dir(key.parent)
        public = key.with_name(KEY_NAME + ".pub")
        has_public = check_not_symlink(public)
        if not check_not_symlink(key):
            if has_public:
                public.unlink()
            _keygen(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", KEY_COMMENT, "-f", str(key)]
            )
        if key.stat().st_mode & 0o777 != 0o600:
            key.chmod(0o600)
        text = read_nofollow(public)
        if text is None:
            derived = _keygen(["ssh-keygen", "-y", "-f", str(key)]).split()[:2]
            text = " ".join([*derived, KEY_COMMENT]) + "\n"
            strict_write(public, text, mode=0o644)
        fields = text.split()
    if len(fields) < 2:
        raise DomainError(
            "sshSetupFailed",
            f"{public} is not a public key",
            hint=f"Delete {key} and {public}; a new pair is made on the next run.",
        )
    return f"{fields[0]} {fields[1]} {KEY_COMMENT}"
