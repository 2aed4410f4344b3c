"""Container, hostname and volume names, computed exactly as the original `cai` does.

Users switch between the original bash tool and this one, so the same workspace must
lead to the same names in both (tests/unit/naming/test_naming.py pins the original's
outputs). Pure functions, no I/O:
the git and filesystem questions are answered by `containai_rpc.workspace.paths`.
"""

from __future__ import annotations

import hashlib
import os
import re
import string

from containai_rpc.errors import DomainError

GENERATED_NAME_MAX_LENGTH = 24
"""Generated `{repo}-{branch}` names and their collision variants fit in this many chars."""

MAX_COLLISION_SUFFIX = 99
"""The highest `-N` suffix tried before giving up (original: "max 99")."""

CONTAINER_NAME_MAX_LENGTH = 128
VOLUME_NAME_MAX_LENGTH = 255
HOSTNAME_MAX_LENGTH = 63

_NOT_NAME_CHAR = re.compile(r"[^a-z0-9-]")
_DASH_RUN = re.compile(r"-{2,}")
_CONTAINER_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]+")
_VOLUME_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_MAX_TIMESTAMP_DIGITS = 32
_MESSAGE_VALUE_LIMIT = 64


def quote_for_message(value: str) -> str:
    """Quote a user value for an error message: control chars escaped, long values cut."""
    if len(value) > _MESSAGE_VALUE_LIMIT:
        value = value[:_MESSAGE_VALUE_LIMIT] + "…"
    return repr(value)


def _tidy_dashes(s: str) -> str:
    """Collapse `-` runs, then drop one leading and one trailing `-` (all the original does)."""
    return _DASH_RUN.sub("-", s).removeprefix("-").removesuffix("-")


def sanitize_name_part(s: str, fallback: str) -> str:
    """One half of a generated container name (§1.1 step 5).

    `str.lower()` reproduces bash `${s,,}` under a UTF-8 locale (`İ` → `i`, Kelvin sign →
    `k`); every other character outside `[a-z0-9-]` is deleted, not replaced.
    """
    cleaned = _tidy_dashes(_NOT_NAME_CHAR.sub("", s.lower().replace("/", "-")))
    return cleaned or fallback


def _fit(repo: str, branch: str, budget: int) -> tuple[str, str]:
    """Shorten the longer part first (ties shorten `repo`) until both fit in `budget` chars.

    Parts are sanitised, so they never start with `-`: stripping the one trailing `-` a cut
    may leave can never empty a part.
    """
    r, b = len(repo), len(branch)
    while r + b > budget:
        if r >= b and r > 1:
            r -= 1
        elif b > 1:
            b -= 1
        else:
            break
    return repo[:r].removesuffix("-"), branch[:b].removesuffix("-")


def container_name(repo_dir_name: str, branch_token: str) -> str:
    """The generated `{repo}-{branch_leaf}` name, 3..24 chars (§1.1 steps 4-7).

    `repo_dir_name` is the workspace directory's own (unnormalised) name; `branch_token` is
    the branch, `detached` or `nogit` (see `workspace.paths.branch_token`).
    """
    leaf = branch_token.rsplit("/", 1)[-1] or branch_token
    repo, branch = _fit(
        sanitize_name_part(repo_dir_name, "repo"),
        sanitize_name_part(leaf, "branch"),
        GENERATED_NAME_MAX_LENGTH - 1,
    )
    return f"{repo}-{branch}"


def hostname_for(name: str) -> str:
    """The `--hostname` for a container name (§1.3): the identity for generated names."""
    cleaned = _tidy_dashes(_NOT_NAME_CHAR.sub("", name.lower().replace("_", "-")))
    return cleaned[:HOSTNAME_MAX_LENGTH].removesuffix("-") or "container"


def legacy_container_name(normalised_path: str) -> str:
    """The pre-`{repo}-{branch}` name, still looked up so old containers are found (§1.2)."""
    digest = hashlib.sha256(os.fsencode(normalised_path)).hexdigest()
    return f"containai-{digest[:12]}"


def collision_candidate(base: str, n: int) -> str:
    """The `n`-th alternative to a taken generated name (§2.3), still at most 24 chars.

    Callers try `n = 2 .. MAX_COLLISION_SUFFIX`; any other `n` is a bug, hence ValueError.
    """
    if not 2 <= n <= MAX_COLLISION_SUFFIX:
        raise ValueError(f"collision suffix must be 2..{MAX_COLLISION_SUFFIX}, got {n}")
    suffix = f"-{n}"
    return base[: GENERATED_NAME_MAX_LENGTH - len(suffix)].removesuffix("-") + suffix


def _reset_part(s: str, fallback: str) -> str:
    """Volume-name sanitising (§3.4): ASCII-only lowercase, bad chars *replaced* by `-`."""
    return _tidy_dashes(_NOT_NAME_CHAR.sub("-", s.translate(_ASCII_LOWER))) or fallback


def reset_volume_name(repo_dir_name: str, branch: str, timestamp: str) -> str:
    """The new data volume `{repo}-{branch}-{timestamp}` that a reset switches to (§3.4).

    Byte-identical to the original whenever the name fits in 255 chars. Deliberate
    difference: where the original cuts the whole name to 255 chars (and so loses the
    timestamp, making every reset reuse the same "new" volume), we shorten the repo and
    branch parts instead (longer part first, as for container names), so the name always
    ends with the timestamp and each reset really gets a new volume.
    `timestamp` is a decimal digit string (nanoseconds since the epoch in practice).
    """
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > _MAX_TIMESTAMP_DIGITS:
        raise ValueError(f"timestamp must be 1..{_MAX_TIMESTAMP_DIGITS} digits, got {timestamp!r}")
    repo = _reset_part(repo_dir_name, "workspace")
    branch_part = _reset_part(branch, "unknown")
    if len(repo) + len(branch_part) + len(timestamp) + 2 > VOLUME_NAME_MAX_LENGTH:
        repo, branch_part = _fit(repo, branch_part, VOLUME_NAME_MAX_LENGTH - len(timestamp) - 2)
    return f"{repo}-{branch_part}-{timestamp}"


def is_valid_container_name(name: str) -> bool:
    """Docker's container-name rule, plus a length cap so names stay usable everywhere."""
    return len(name) <= CONTAINER_NAME_MAX_LENGTH and _CONTAINER_NAME.fullmatch(name) is not None


def is_valid_volume_name(name: str) -> bool:
    """The original's volume-name rule (§3.1): 1..255 chars, `[a-zA-Z0-9][a-zA-Z0-9_.-]*`."""
    return len(name) <= VOLUME_NAME_MAX_LENGTH and _VOLUME_NAME.fullmatch(name) is not None


def validate_container_name(name: str) -> str:
    """Return `name`, or fail with `invalidName` before Docker gives a vaguer error."""
    if not is_valid_container_name(name):
        raise DomainError(
            "invalidName",
            f"Invalid container name: {quote_for_message(name)} (must match "
            f"[a-zA-Z0-9][a-zA-Z0-9_.-]+ and be at most {CONTAINER_NAME_MAX_LENGTH} characters)",
        )
    return name


def validate_volume_name(name: str) -> str:
    """Return `name`, or fail with `invalidName` (the original's `Invalid volume name`)."""
    if not is_valid_volume_name(name):
        raise DomainError(
            "invalidName",
            f"Invalid volume name: {quote_for_message(name)} (must match "
            f"[a-zA-Z0-9][a-zA-Z0-9_.-]* and be 1-{VOLUME_NAME_MAX_LENGTH} characters)",
        )
    return name
