"""The shared server's hub over the fake engine: sessions on worker threads (pygls's public
`start_io` per connection), each answered on its own connection, and `exit` ending one
session only. A pygls upgrade that breaks this fails here, naming the version."""

from __future__ import annotations

import json
import socket
from importlib.metadata import version
from typing import Any

from containai_rpc.server.shared import Hub
from containai_rpc.service import Service
from tests.support.waiting import poll


class Client:
    def __init__(self, hub: Hub) -> None:
        self.sock, theirs = socket.socketpair()
        hub.serve(theirs)
        self.reader = self.sock.makefile("rb")

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.sock.sendall(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    def receive(self) -> dict[str, Any] | None:
        length = 0
        while (line := self.reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        if not length:
            return None
        answer: dict[str, Any] = json.loads(self.reader.read(length))
        return answer

    def initialize(self, cwd: str) -> dict[str, Any] | None:
        options = {"containai": {"watch": False, "cwd": cwd}}
        params = {"capabilities": {}, "initializationOptions": options}
        self.send({"id": 1, "method": "initialize", "params": params})
        return self.receive()


def broken(what: str) -> str:
    return f"pygls {version('pygls')}: {what}; see containai_rpc/server/shared.py"


def test_each_session_answers_on_its_own_connection_and_exit_ends_only_it(
    fake_service: Service, tmp_path: Any
) -> None:
    hub = Hub(fake_service)
    try:
        a, b = Client(hub), Client(hub)
        for client in (a, b):
            answer = client.initialize(str(tmp_path))
            assert answer is not None and "containai" in str(answer["result"]), broken(
                "start_io no longer serves a session on a worker thread"
            )
            client.send({"method": "initialized", "params": {}})
        a.send({"id": 7, "method": "containai/list", "params": {}})
        b.send({"id": 7, "method": "containai/configGet", "params": {"key": "data_volume"}})
        got_a, got_b = a.receive(), b.receive()
        assert got_a is not None and "containers" in got_a["result"]
        assert got_b is not None and got_b["result"]["key"] == "data_volume"
        a.send({"id": 8, "method": "shutdown"})
        assert (a.receive() or {}).get("id") == 8
        a.send({"method": "exit"})
        assert a.receive() is None, broken("exit no longer closes the session's writer")
        # the session's thread ends on its own
        poll(lambda: hub.clients == 1, broken("start_io no longer returns after exit"), 10)
        b.send({"id": 9, "method": "containai/list", "params": {}})
        assert (b.receive() or {}).get("id") == 9  # the other session goes on
        b.sock.close()
    finally:
        hub.hang_up_all()
