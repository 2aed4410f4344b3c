"""Secrets and permissions: what is private stays private, and nothing listens.

One real `run` of the SSH image (key generation, key injection, host config, known_hosts,
login check) through a server logging at DEBUG, then:
- file modes: private key 0600, config dir 0700, state file 0600, lock dir 0700, SSH host
  config dir 0700 and host configs and known_hosts 0600;
- no private key material in the server's stderr nor in anything it sent the client;
- the server process owns no listening TCP/UDP socket (nor a listening unix socket),
  from /proc/<pid>/net/* matched against its own socket inodes, cross-checked with `ss`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tests.support.reliability import TALLY

pytestmark = pytest.mark.engine

SYSTEMD_IMAGE = "containai:latest"
TCP_LISTEN = "0A"
UNIX_ACCEPTCON = 0x10000


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _listening(pid: int) -> list[str]:
    """The server's own sockets that accept connections or datagrams from the network."""
    mine = _socket_inodes(pid)
    found = []
    for table in ("tcp", "tcp6", "udp", "udp6"):
        lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        for fields in (line.split() for line in lines):
            inode, state = fields[9], fields[3]
            if inode in mine and (table.startswith("udp") or state == TCP_LISTEN):
                found.append(f"{table} {fields[1]}")
    for line in Path(f"/proc/{pid}/net/unix").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[6] in mine and int(fields[3], 16) & UNIX_ACCEPTCON:
            found.append(f"unix {fields[7] if len(fields) > 7 else '@'}")
    return found


def _key_material(private_key: Path) -> list[str]:
    """Lines of the key's base64 body, and the PEM armour: none may ever be printed."""
    text = private_key.read_text()
    body = [line for line in text.splitlines() if line and not line.startswith("-----")]
    assert body, "no key body"
    return ["PRIVATE KEY", *body]


def test_private_files_are_private_nothing_is_logged_nothing_listens(sandbox, servers, monkeypatch):
    sandbox.env["CONTAINAI_IMAGE"] = SYSTEMD_IMAGE
    sandbox.env["CONTAINAI_LOG_LEVEL"] = "DEBUG"
    monkeypatch.setenv("CONTAINAI_IMAGE", SYSTEMD_IMAGE)
    ws = sandbox.workspace("secrets")
    server = servers(sandbox.env, ws, capabilities={"window": {"workDoneProgress": True}})
    assert not _listening(server.pid)
    ran = server.result("containai/run", {"workspace": str(ws), "workDoneToken": "s"}, timeout=120)
    assert ran["ssh"]["port"], ran
    status = server.result("containai/status", {"workspace": str(ws)})
    assert status["name"] == ran["containerName"]

    config_dir = sandbox.config_file.parent
    key = config_dir / "id_containai"
    ssh_dir = sandbox.home / ".ssh"
    expected = {
        config_dir: 0o700,
        key: 0o600,
        sandbox.config_file: 0o600,
        ssh_dir / "containai.d": 0o700,
        ssh_dir / "containai.d" / f"{ran['containerName']}.conf": 0o600,
    }
    expected.update({p: 0o700 for p in config_dir.rglob("locks") if p.is_dir()})
    expected.update({p: 0o600 for p in sandbox.home.rglob("known_hosts*") if p.is_file()})
    bad = {str(p): oct(_mode(p)) for p, mode in expected.items() if _mode(p) != mode}
    TALLY["file modes checked"] += len(expected)
    TALLY["bad file modes"] += len(bad)
    assert not bad, bad

    # Nothing secret in the logs (at DEBUG) nor on the wire.
    material = _key_material(key)
    logged = server.stderr_text()
    assert "DEBUG" in logged, "the server did not log at DEBUG: the check would prove nothing"
    wire = json.dumps([m.body for m in server.notifications]) + json.dumps(ran)
    leaks = [s[:12] for s in material for text in (logged, wire) if s in text]
    TALLY["secret checks"] += len(material) * 2
    TALLY["secrets leaked"] += len(leaks)
    assert not leaks, f"private key material in the server log or on the wire: {leaks}"

    # No listening socket, after a run with live watchers and SSH set-up done.
    listening = _listening(server.pid)
    TALLY["listening sockets"] += len(listening)
    assert not listening, listening
    if shutil.which("ss"):
        ss = subprocess.run(["ss", "-Hltunp"], capture_output=True, text=True, check=True)
        assert not re.search(rf"pid={server.pid},", ss.stdout), ss.stdout
