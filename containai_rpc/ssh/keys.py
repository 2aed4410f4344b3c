"""The ContainAI SSH key: ed25519 at `$XDG_CONFIG_HOME/containai/id_containai`.

The original tool uses the same key."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from containai_rpc.errors import DomainError
from containai_rpc.ssh.locking import ssh_lock
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
    a lost `.pub` is derived again from the private key.
    """
    key = key_path()
    with ssh_lock("key", timeout_s=30.0):
        key.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if key.parent.stat().st_mode & 0o777 != 0o700:
            key.parent.chmod(0o700)
        public = key.with_name(KEY_NAME + ".pub")
        if not key.exists():
            public.unlink(missing_ok=True)
            _keygen(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", KEY_COMMENT, "-f", str(key)]
            )
        if key.stat().st_mode & 0o777 != 0o600:
            key.chmod(0o600)
        if not public.exists():
            derived = _keygen(["ssh-keygen", "-y", "-f", str(key)]).split()[:2]
            public.write_text(" ".join([*derived, KEY_COMMENT]) + "\n", encoding="utf-8")
            os.chmod(public, 0o644)
        fields = public.read_text(encoding="utf-8").split()
    if len(fields) < 2:
        raise DomainError(
            "sshSetupFailed",
            f"{public} is not a public key",
            hint=f"Delete {key} and {public}; a new pair is made on the next run.",
        )
    return f"{fields[0]} {fields[1]} {KEY_COMMENT}"
