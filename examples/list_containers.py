#!/usr/bin/env python3
"""List ContainAI containers by speaking the protocol directly, with the standard library only.

    python3 examples/list_containers.py [SERVER COMMAND ...]

The server command defaults to `<this python> -m containai_rpc`. The script starts the
server, initializes it, sends `containai/list`, prints one line per container, then shuts
the server down. Exit code 0, or 1 when the server answers with an error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any


class RpcError(Exception):
    """An error response: `code`, `message` and `data` (with `data.reason`)."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("message", "error"))
        self.code = error.get("code")
        self.data = error.get("data") or {}


class Server:
    """A containai-rpc server on the other end of two pipes, framed like LSP."""

    def __init__(self, command: list[str], env: dict[str, str] | None = None) -> None:
        # stderr is inherited: the server's logs go there, stdout carries only protocol.
        self.proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
        )
        self.last_id = 0
        self.notifications: list[dict[str, Any]] = []

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        self.proc.stdin.flush()

    def receive(self) -> dict[str, Any]:
        """The next message: headers up to an empty line, then Content-Length bytes of JSON."""
        assert self.proc.stdout is not None
        length = None
        while (line := self.proc.stdout.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("ascii").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        if length is None:
            raise ConnectionError("the server closed the connection")
        message: dict[str, Any] = json.loads(self.proc.stdout.read(length))
        return message

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send a request; return its response message, keeping notifications that come first."""
        self.last_id += 1
        message: dict[str, Any] = {"id": self.last_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        while True:
            reply = self.receive()
            if "method" not in reply and reply.get("id") == self.last_id:
                return reply
            if "method" in reply and "id" in reply:  # a server→client request we did not enable
                self.send({"id": reply["id"], "error": {"code": -32601, "message": "unsupported"}})
            elif "method" in reply:
                self.notifications.append(reply)

    def request(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """The result of a request; an error response raises RpcError."""
        reply = self.call(method, params)
        if "error" in reply:
            raise RpcError(reply["error"])
        return reply.get("result")

    def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        self.send({"method": method, **({} if params is None else {"params": params})})

    def initialize(self, protocol_version: str | None = "1.0") -> dict[str, Any]:
        """`initialize` + `initialized`; returns `capabilities.experimental.containai`."""
        options = {} if protocol_version is None else {"protocolVersion": protocol_version}
        result = self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": None,
                "capabilities": {},
                "initializationOptions": {"containai": options},
            },
        )
        self.notify("initialized", {})
        info: dict[str, Any] = result["capabilities"]["experimental"]["containai"]
        return info

    def close(self) -> int:
        """`shutdown` + `exit`; returns the server's exit code."""
        try:
            self.request("shutdown")
            self.notify("exit")
        finally:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            code = self.proc.wait(timeout=30)
            assert self.proc.stdout is not None
            self.proc.stdout.close()
        return code


def main(argv: list[str]) -> int:
    server = Server(argv or [sys.executable, "-m", "containai_rpc"])
    try:
        info = server.initialize()
        print(f"# containai-rpc {info['serverVersion']}, protocol {info['protocolVersion']}")
        listing = server.request("containai/list", {})
        for c in listing["containers"]:
            workspace = c.get("workspace", "-")  # optional fields are absent, never null
            print(f"{c['name']:<24} {c['status']:<10} {c['context']:<10} {workspace}")
        for error in listing.get("errors", []):
            print(f"context {error['context']}: {error['message']}", file=sys.stderr)
    except RpcError as exc:
        print(f"error ({exc.data.get('reason', exc.code)}): {exc}", file=sys.stderr)
        return 1
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
