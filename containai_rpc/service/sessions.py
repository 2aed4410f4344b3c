"""Best-effort session detection without needing `ss` in the image."""

from __future__ import annotations

from dataclasses import dataclass

from containai_rpc.engine import Engine

# Established (st 01) TCP sockets whose local port is 22 (0x0016), from /proc/net/tcp*,
# and numeric entries of /dev/pts. Plain POSIX sh: works in busybox and Debian alike.
_PROBE = r"""
n=0
for f in /proc/net/tcp /proc/net/tcp6; do
  [ -r "$f" ] || continue
  while read -r _ local _ st _; do
    case "$local:$st" in *:0016:01) n=$((n+1));; esac
  done < "$f"
done
p=0
for e in /dev/pts/*; do
  case "${e##*/}" in [0-9]*) p=$((p+1));; esac
done
echo "$n $p"
[ -z "$1" ] || cat "$1" 2>/dev/null || :
"""


@dataclass(frozen=True)
class SessionCounts:
    ssh_connections: int
    active_terminals: int

    @property
    def active(self) -> bool:
        """The original's rule: any ssh connection or more than one pty."""
        return self.ssh_connections > 0 or self.active_terminals > 1


def detect_sessions(
    engine: Engine, container_id: str, timeout_s: float = 5.0
) -> SessionCounts | None:
    """Counts, or None when they cannot be determined (no shell, exec failed, deadline)."""
    return probe_sessions(engine, container_id, timeout_s=timeout_s)[0]


def probe_sessions(
    engine: Engine, container_id: str, *, timeout_s: float = 5.0, read: str = ""
) -> tuple[SessionCounts | None, str]:
    """(counts or None, the text of the small file `read` or "" when it is absent) from
    ONE exec: `status` reads the idle state alongside, where a second exec would cost
    the engine another process start in the container (~100 ms of a status)."""
    try:
        result = engine.exec(container_id, ["sh", "-c", _PROBE, "sh", read], timeout_s=timeout_s)
    except Exception:  # any engine failure means "unknown", never a failed stop
        return None, ""
    if result.exit_code != 0:
        return None, ""
    first, _, rest = result.output.partition("\n")
    parts = first.split()
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return None, ""
    return SessionCounts(int(parts[0]), int(parts[1])), rest
