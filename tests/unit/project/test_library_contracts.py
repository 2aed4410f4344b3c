"""What product code relies on in its libraries' public APIs, checked without an engine:
an upgrade that changes it fails here, naming the library, its version and our user.

(The engine side — `exec_start(socket=True)` handing out a plain connection as
`socket.SocketIO`, closing an event stream's socket — is covered on real engines by
tests/integration/engine/test_engine_io.py and contexts/test_contexts.py.)
"""

from __future__ import annotations

import inspect
import io
import json
from importlib.metadata import version
from typing import Any

import docker
import pytest
import requests
import urllib3
from lsprotocol import types
from pygls.lsp.server import LanguageServer

from containai_rpc.server.app import create_server


def broken(library: str, what: str, user: str) -> str:
    return f"{library} {version(library)}: {what}; see {user}"


class Wire:
    """The transport pygls writes to: one framed message per `write`, kept as JSON."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def write(self, data: bytes) -> None:
        header, _, body = data.partition(b"\r\n\r\n")
        assert header.startswith(b"Content-Length: "), data
        assert int(header.split(b"\r\n")[0].split(b": ")[1]) == len(body), data
        self.sent.append(json.loads(body))

    def close(self) -> None:
        pass


def deliver(server: LanguageServer, message: dict[str, Any]) -> None:
    """As pygls's reader does with a frame it has read."""
    protocol = server.protocol
    protocol.handle_message(json.loads(json.dumps(message), object_hook=protocol.structure_message))


def request(method: str, msg_id: int, params: Any = None) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params}


def test_pygls_runs_our_session_features_and_serialises_through_our_converter() -> None:
    server = create_server()
    wire = Wire()
    server.protocol.set_writer(wire)
    options = {"containai": {"watch": False}}
    params = {"processId": None, "capabilities": {}, "initializationOptions": options}
    deliver(server, request(types.INITIALIZE, 1, params))
    assert server.protocol.phase == "open", broken(
        "pygls",
        "the initialize request no longer calls the server's initialize feature",
        "containai_rpc/server/app.py _session",
    )
    (answer,) = wire.sent
    assert "containai" in answer["result"]["capabilities"].get("experimental", {}), broken(
        "pygls",
        "the InitializeResult is no longer serialised by the converter_factory's converter",
        "containai_rpc/server/wire.py server_converter",
    )
    deliver(server, request(types.SHUTDOWN, 2))
    assert server.protocol.phase == "shut down", broken(
        "pygls",
        "the shutdown request no longer calls the server's shutdown feature",
        "containai_rpc/server/app.py _session",
    )
    deliver(server, request("containai/list", 3, {}))
    assert wire.sent[-1]["error"]["code"] == -32600, broken(
        "pygls",
        "the protocol no longer writes to the writer given to set_writer",
        "containai_rpc/server/wire.py ContainAIProtocol.refuse",
    )


def test_pygls_hands_a_progress_cancel_to_the_servers_feature() -> None:
    server = LanguageServer("contract", "0")
    cancelled: list[int | str] = []

    @server.feature(types.WINDOW_WORK_DONE_PROGRESS_CANCEL)
    def cancel(ls: LanguageServer, params: types.WorkDoneProgressCancelParams) -> None:
        cancelled.append(params.token)

    notification = {"method": types.WINDOW_WORK_DONE_PROGRESS_CANCEL, "params": {"token": "t"}}
    deliver(server, {"jsonrpc": "2.0", **notification})
    assert cancelled == ["t"], broken(
        "pygls",
        "window/workDoneProgress/cancel no longer reaches the server's feature",
        "containai_rpc/server/bridge.py WorkDoneCancels",
    )


def test_the_docker_api_client_is_a_requests_session_with_a_versioned_base_url() -> None:
    api = docker.APIClient(base_url="unix:///run/no-such-docker.sock", version="1.41")
    where = "containai_rpc/engine/client.py Engine.events"
    assert isinstance(api, requests.Session), broken("docker", "APIClient is no Session", where)
    assert (api.base_url, api.api_version) == ("http+docker://localhost", "1.41"), broken(
        "docker", "APIClient.base_url/api_version changed", where
    )
    api.close()


def test_docker_maps_an_http_error_to_its_api_errors() -> None:
    response = requests.Response()
    response.status_code = 404
    response.raw = io.BytesIO(b'{"message": "no such thing"}')
    with pytest.raises(requests.HTTPError) as http_error:
        response.raise_for_status()
    with pytest.raises(docker.errors.NotFound) as api_error:
        docker.errors.create_api_error_from_http_exception(http_error.value)
    assert api_error.value.explanation == "no such thing", broken(
        "docker",
        "create_api_error_from_http_exception changed",
        "containai_rpc/engine/client.py Engine.events",
    )


def test_a_streamed_urllib3_response_tells_its_connection() -> None:
    attribute = inspect.getattr_static(urllib3.HTTPResponse, "connection", None)
    assert isinstance(attribute, property), broken(
        "urllib3",
        "HTTPResponse.connection is gone",
        "containai_rpc/engine/client.py EventStream.close",
    )
