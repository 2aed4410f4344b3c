"""Running the session `run` answers with: exactly `session.argv` (ssh), its exit status
passed through, SSH's own failures as the original's exit codes, with its retries.

Exit codes (the original's): 10 container not found, 11 start failed, 12 SSH setup
failed (or no SSH at all), 13 SSH connection failed (after the retries), 14 host key
changed, 15 not a ContainAI container; any other status is the command's own.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import threading
import time
from typing import Any

from containai_rpc.cli.commands.base import UsageError
from containai_rpc.cli.escape import printable

CONTAINER_GONE, START_FAILED, SETUP_FAILED, CONNECT_FAILED, HOST_KEY, NOT_OURS = range(10, 16)
REASON_CODES = {
    "containerNotFound": CONTAINER_GONE,
    "startFailed": START_FAILED,
    "startTimeout": START_FAILED,
    "unexpectedState": START_FAILED,
    "sshSetupFailed": SETUP_FAILED,
    "sshdTimeout": SETUP_FAILED,
    "hostKeyChanged": HOST_KEY,
    "notManaged": NOT_OURS,
}
"""A failed `run` request of a session, by `data.reason`: the original's exit code."""

ATTEMPTS = 3
RETRY_DELAY_ENV = "CONTAINAI_SSH_RETRY_DELAY_S"
"""First retry delay in seconds (default 0.5, doubling up to 4): tests shorten it."""
_FATAL = re.compile(
    r"permission denied|no such identity|could not resolve hostname|bad configuration|"
    r"no route to host",
    re.IGNORECASE,
)
_HOST_KEY = re.compile(r"host identification has changed|host key verification failed", re.I)
_SSH_ERROR = re.compile(
    r"^(ssh: |kex_exchange_identification|banner exchange|connection (closed|reset|timed "
    r"out|refused)|.*port \d+: )",
    re.IGNORECASE | re.MULTILINE,
)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def session_arguments(p: argparse.ArgumentParser) -> None:
    """`-e VAR=val`, `-d`, and (`cai run`) `--agent`: what a session runs and how."""
    p.add_argument(
        "-e",
        "--env",
        action="append",
        metavar="VAR=VALUE",
        help="environment of the session's command (VAR alone: its value here)",
    )
    p.add_argument(
        "-d", "--detached", action="store_true", help="start it in the background, print its pid"
    )


def env_values(items: list[str] | None) -> dict[str, str] | None:
    """`-e` values as a mapping; a bad name or an unset `VAR` is a usage error."""
    if not items:
        return None
    found: dict[str, str] = {}
    for item in items:
        name, has_value, value = item.partition("=")
        if not _ENV_NAME.match(name):
            raise UsageError(
                f"Invalid environment variable name in -e {item}: names are letters, digits "
                "and _, not starting with a digit"
            )
        if not has_value:
            if name not in os.environ:
                raise UsageError(f"-e {name}: {name} is not set here; give -e {name}=VALUE")
            value = os.environ[name]
        found[name] = value
    return found


def session_params(args: argparse.Namespace, command: list[str] | None) -> dict[str, Any]:
    """The session part of a `containai/run` request (a terminal only when we have one)."""
    out: dict[str, Any] = {}
    if command is not None:
        if not command:
            raise UsageError("nothing after --: give the command to run")
        out["command"] = command
    env = env_values(getattr(args, "env", None))
    if env:
        out["env"] = env
    if getattr(args, "agent", None):
        out["agent"] = args.agent
    if getattr(args, "detached", False):
        out["detached"] = True
    elif sys.stdin.isatty() and sys.stdout.isatty():
        out["tty"] = True
    return out


def failure_code(reason: str) -> int:
    """The exit code of a session whose `run` request failed."""
    return REASON_CODES.get(reason, 1)


def open_session(result: dict[str, Any], explicit: bool) -> int:
    """Run `result.session.argv`; its exit status. Without a session (an image without
    sshd) a plain `cai` prints the summary (`explicit`: a command was asked for → 12)."""
    for warning in result.get("warnings") or []:
        print(f"[WARN] {printable(warning)}", file=sys.stderr)
    session = result.get("session")
    if not session:
        name = printable(result["containerName"], one_line=True)
        if explicit:
            print(
                f"[ERROR] Container {name} has no SSH access (its image has no sshd), so no "
                "session can run in it",
                file=sys.stderr,
            )
            return SETUP_FAILED
        from containai_rpc.cli.commands.lifecycle import render_run

        print(printable(render_run(result)))
        return 0
    return run_ssh(list(session["argv"]))


def run_ssh(argv: list[str]) -> int:
    """`argv` until it connects: exit 255 with a transient SSH error is retried (3 tries,
    0.5 s, 1 s … at most 4 s apart), a fatal one is 13 at once, a changed host key 14."""
    delay = float(os.environ.get(RETRY_DELAY_ENV) or 0.5)
    for attempt in range(1, ATTEMPTS + 1):
        code, errors = _spawn(argv)
        if code != 255 or not any(r.search(errors) for r in (_SSH_ERROR, _FATAL, _HOST_KEY)):
            return code  # the command's own status (255 without an SSH error included)
        if _HOST_KEY.search(errors):
            print("[ERROR] SSH host key mismatch; run 'cai run --fresh'", file=sys.stderr)
            return HOST_KEY
        if _FATAL.search(errors):
            break
        if attempt < ATTEMPTS:
            time.sleep(delay)  # a backoff between attempts, not a synchronisation
            delay = min(delay * 2, 4.0)
    print(f"[ERROR] SSH connection failed after {attempt} attempt(s)", file=sys.stderr)
    return CONNECT_FAILED


def _spawn(argv: list[str]) -> tuple[int, str]:
    """Run ssh on our stdin/stdout; its stderr passes through and its tail is kept."""
    try:
        proc = subprocess.Popen(argv, stderr=subprocess.PIPE)
    except OSError as exc:
        print(f"[ERROR] Cannot run {printable(argv[0])}: {exc.strerror or exc}", file=sys.stderr)
        return CONNECT_FAILED, ""
    tail = bytearray()

    def pump() -> None:
        assert proc.stderr is not None
        out = sys.stderr.buffer
        while chunk := proc.stderr.read1(4096):
            out.write(chunk)
            out.flush()
            tail.extend(chunk)
            del tail[:-8192]

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # ^C belongs to the session
    try:
        code = proc.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
    reader.join()
    return code, tail.decode(errors="replace")
