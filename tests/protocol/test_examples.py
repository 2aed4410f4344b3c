"""protocol.md against the real server: its examples, its version rules, its example script.

Every ```json example=<id>``` block of protocol.md is one message of exchange <id>: the
request (it has `method` and `id`), the response (`id` with `result` or `error`) and the
notifications the server sends about it (`method`, no `id`). The test sends the documented
request to a real server started with `sandbox.env` and checks that the response and the
documented notifications have the same shape: the same keys, recursively, and the same
JSON types (ids, timestamps and paths differ). An example of only a notification must be
matched by one the server sends at some point of the session. The client is
examples/list_containers.py, the standard-library client protocol.md shows, so these
tests exercise it as well.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import ValidationError

from containai_rpc import __version__
from containai_rpc.core.idle import STATE_FILE
from containai_rpc.protocol.models import PROTOCOL_VERSION, ErrorData
from containai_rpc.protocol.registry import METHODS, NOTIFICATIONS

if TYPE_CHECKING:
    from tests.support.engines import Sandbox

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "protocol.md"
SCRIPT = ROOT / "examples" / "list_containers.py"
EXAMPLE = re.compile(r"^```json example=(?P<id>[\w-]+)\n(?P<body>.*?)^```$", re.M | re.S)
# protocol.md's example workspace; the test substitutes its own (and the real name).
DOC_WORKSPACE = "/home/me/src/myapp"
DOC_CONTAINER = "myapp-main"
# One server session runs these exchanges in this order (each needs what the one before
# left: `run` creates the container the later ones inspect, `stop` comes last).
SESSION = (
    "run",
    "run-invalid-params",
    "status",
    "list",
    "configGet",
    "keep",
    "postponeIdleStop",
    "gc",
    "sshCleanup",
    "doctor",
    "export",
    "import",
    "stop",
    "status-not-found",
)
NOTIFICATION_DEADLINE_S = 15.0  # notifications follow Docker events, possibly after a reply


def _load_client() -> ModuleType:
    spec = importlib.util.spec_from_file_location("list_containers", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


client = _load_client()


@dataclass
class Exchange:
    """One documented example: a request, its response, notifications sent meanwhile."""

    id: str
    request: dict[str, Any] | None = None
    response: dict[str, Any] | None = None
    notifications: list[dict[str, Any]] = field(default_factory=list)


def documented() -> dict[str, Exchange]:
    """protocol.md's examples by id, each message placed by what it is."""
    found: dict[str, Exchange] = {}
    for match in EXAMPLE.finditer(DOC.read_text(encoding="utf-8")):
        ex = found.setdefault(match["id"], Exchange(match["id"]))
        message = json.loads(match["body"])
        assert message.get("jsonrpc") == "2.0", f"example {ex.id}: not JSON-RPC 2.0"
        if "method" in message and "id" in message:
            assert ex.request is None, f"example {ex.id}: two requests"
            ex.request = message
        elif "method" in message:
            ex.notifications.append(message)
        else:
            assert ex.response is None, f"example {ex.id}: two responses"
            ex.response = message
    for ex in found.values():
        assert (ex.request is None) == (ex.response is None), f"example {ex.id}: unpaired"
        if ex.request is not None:
            assert ex.response is not None and ex.response["id"] == ex.request["id"]
    return found


def shape_errors(doc: Any, actual: Any, where: str = "$") -> list[str]:
    """Where `actual` differs from `doc` in keys or JSON types (values may differ).

    A documented list element must match some element of the actual list: the engine is
    shared, so `list` also shows containers other tests own.
    """
    if isinstance(doc, dict):
        if not isinstance(actual, dict):
            return [f"{where}: an object was documented, got {actual!r}"]
        errors = [f"{where}: keys differ, documented {sorted(doc)}, got {sorted(actual)}"]
        if doc.keys() == actual.keys():
            errors = []
        for key in doc.keys() & actual.keys():
            errors += shape_errors(doc[key], actual[key], f"{where}.{key}")
        return errors
    if isinstance(doc, list):
        if not isinstance(actual, list):
            return [f"{where}: a list was documented, got {actual!r}"]
        return [
            f"{where}[{i}]: no element shaped like the documented {item!r} in {actual!r}"
            for i, item in enumerate(doc)
            if all(shape_errors(item, other) for other in actual)
        ]
    if _json_type(doc) != _json_type(actual):
        return [f"{where}: {_json_type(doc)} documented, got {actual!r}"]
    return []


def _json_type(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return repr(type(value))
    return "number" if isinstance(value, int | float) else type(value).__name__


@contextmanager
def server(sandbox: Sandbox) -> Iterator[Any]:
    """A real server over stdio in the sandbox's environment; always shut down."""
    srv = client.Server([sys.executable, "-m", "containai_rpc"], env=sandbox.env)
    try:
        yield srv
    finally:
        try:
            srv.close()
        except (OSError, ValueError, subprocess.TimeoutExpired, client.RpcError):
            srv.proc.kill()
            srv.proc.wait()


def unmatched(srv: Any, wanted: list[dict[str, Any]], since: int) -> list[str]:
    """Documented notifications with no like-shaped one from the server since `since`.

    Notifications follow Docker events and may trail the response: until a deadline, cheap
    `containai/list` requests collect whatever the server sent meanwhile.
    """
    deadline = time.monotonic() + NOTIFICATION_DEADLINE_S
    while True:
        sent = srv.notifications[since:]
        missing = [(note, _like(note, sent)) for note in wanted]
        missing = [(note, same) for note, same in missing if not any(same)]
        if not missing or time.monotonic() > deadline:
            return [
                f"no {note['method']} shaped like {note} among {_same_method(sent, note)}"
                for note, _ in missing
            ]
        srv.call("containai/list", {})


def _like(note: dict[str, Any], sent: list[dict[str, Any]]) -> list[bool]:
    """For each notification of the same method: does it have the documented shape?"""
    return [not shape_errors(note, got) for got in _same_method(sent, note)]


def _same_method(sent: list[dict[str, Any]], note: dict[str, Any]) -> list[dict[str, Any]]:
    return [got for got in sent if got["method"] == note["method"]]


def idle_check_state(sandbox: Sandbox, container: str) -> None:
    """The tiny image has no idle check (images/idle-stop/): write the state file one
    would, counting down, so `postponeIdleStop` and the `idleWarning` the server then
    sends have their documented shape. tests/integration/idle/ runs the real check."""
    now = int(time.time())
    state = f"checked={now}\nidle_stop=20\ncheck=2\nactive=0\nidle_since={now}\n"
    state += f"auto_stop_at={now + 2}\n"
    code, out = sandbox.client.containers.get(container).exec_run(
        ["sh", "-c", f"mkdir -p {STATE_FILE.rsplit('/', 1)[0]} && printf '{state}' > {STATE_FILE}"]
    )
    assert code == 0, out


def run_example(srv: Any, ex: Exchange, request: dict[str, Any]) -> dict[str, Any]:
    """Send the (adapted) request of `ex`; fail unless the reply and notifications match."""
    assert ex.response is not None
    since = len(srv.notifications)
    reply: dict[str, Any] = srv.call(request["method"], request.get("params"))
    errors = shape_errors(ex.response, reply) + unmatched(srv, ex.notifications, since)
    assert not errors, f"example {ex.id} differs from the real server:\n" + "\n".join(errors)
    return reply


# --------------------------------------------------------------------------- the examples


def test_examples_are_valid_messages_of_the_models() -> None:
    """Documented params parse, and documented results are exactly what the models send."""
    methods = {m.name: m for m in METHODS}
    notifications = {n.name: n for n in NOTIFICATIONS}
    for ex in documented().values():
        messages = [ex.request, *ex.notifications]
        for message in filter(None, messages):
            if message["method"] in notifications:
                model = notifications[message["method"]].params
                assert model.model_validate(message["params"]).wire() == message["params"]
        if ex.request is None or ex.request["method"] not in methods:
            continue
        spec = methods[ex.request["method"]]
        assert ex.response is not None
        if ex.response.get("error", {}).get("code") == -32602:
            with pytest.raises(ValidationError):
                spec.params.model_validate(ex.request["params"])
        else:
            spec.params.model_validate(ex.request["params"])
        if "result" in ex.response:
            result = spec.result.model_validate(ex.response["result"])
            assert result.wire() == ex.response["result"], f"example {ex.id}"
        else:
            data = ex.response["error"]["data"]
            assert ErrorData.model_validate(data).wire() == data, f"example {ex.id}"


def test_every_example_is_run() -> None:
    """Each example id is run by one of the tests below, or is a pure notification."""
    ids = set(documented())
    initialize = {i for i in ids if i.startswith("initialize")}
    pure = {i for i, ex in documented().items() if ex.request is None}
    assert ids - initialize - pure == set(SESSION)
    assert {n.name for n in NOTIFICATIONS} <= {
        note["method"] for ex in documented().values() for note in ex.notifications
    }, "every notification needs an example"


@pytest.mark.engine
def test_examples_match_the_real_server(sandbox: Sandbox) -> None:
    examples = documented()
    workspace = sandbox.workspace("myapp")
    names = {DOC_WORKSPACE: str(workspace)}
    with server(sandbox) as srv:
        srv.initialize(PROTOCOL_VERSION)
        for example_id in SESSION:
            ex = examples[example_id]
            assert ex.request is not None
            if example_id == "postponeIdleStop":
                idle_check_state(sandbox, names.get(DOC_CONTAINER, DOC_CONTAINER))
            text = json.dumps(ex.request)
            for doc_value, real in names.items():
                text = text.replace(doc_value, real)
            reply = run_example(srv, ex, json.loads(text))
            if example_id == "run":  # a collision suffix is possible on a shared engine
                names[DOC_CONTAINER] = reply["result"]["containerName"]
        pure = [note for ex in examples.values() if ex.request is None for note in ex.notifications]
        errors = unmatched(srv, pure, 0)
        assert not errors, "notification examples the server never matched:\n" + "\n".join(errors)


@pytest.mark.parametrize(
    "example_id", sorted(i for i in documented() if i.startswith("initialize"))
)
def test_initialize_examples_match_the_real_server(sandbox: Sandbox, example_id: str) -> None:
    ex = documented()[example_id]
    assert ex.request is not None
    with server(sandbox) as srv:
        run_example(srv, ex, ex.request)


# --------------------------------------------------------------------------- versions


@pytest.mark.parametrize(
    "options",
    [
        {"containai": {"protocolVersion": "1.0"}},
        {"containai": {"protocolVersion": "1.7"}},
        {"containai": {}},
        None,
    ],
    ids=["1.0", "1.7-minor", "no-version", "no-options"],
)
def test_a_1x_or_absent_version_is_accepted(sandbox: Sandbox, options: Any) -> None:
    params: dict[str, Any] = {"processId": None, "rootUri": None, "capabilities": {}}
    if options is not None:
        params["initializationOptions"] = options
    with server(sandbox) as srv:
        result = srv.request("initialize", params)
        srv.notify("initialized", {})
        answer = result["capabilities"]["experimental"]["containai"]
        assert answer["protocolVersion"] == PROTOCOL_VERSION
        assert answer["features"] == [m.name.removeprefix("containai/") for m in METHODS]
        # the session works: unknown params fields are ignored, not refused
        listing = srv.request("containai/list", {"someFutureField": True})
        assert isinstance(listing["containers"], list)


@pytest.mark.parametrize("version", ["2.0", "0.9", "1", 1])
def test_another_major_or_a_malformed_version_is_refused(sandbox: Sandbox, version: object) -> None:
    with server(sandbox) as srv:
        reply = srv.call(
            "initialize",
            {
                "processId": None,
                "rootUri": None,
                "capabilities": {},
                "initializationOptions": {"containai": {"protocolVersion": version}},
            },
        )
    error = reply["error"]
    assert error["code"] == -32602
    assert error["data"] == {"reason": "unsupportedProtocolVersion", "supported": "1.0"}
    assert f"Unsupported protocolVersion {version!r}" in error["message"]
    assert "this server speaks 1.0" in error["message"]
    assert "traceback" not in json.dumps(error)


# --------------------------------------------------------------------------- the script


@pytest.mark.engine
def test_the_example_script_lists_containers(sandbox: Sandbox) -> None:
    workspace = sandbox.workspace("scripted")
    made = sandbox.cai("run", "--json", str(workspace))
    assert made.returncode == 0, made.stderr
    name = json.loads(made.stdout)["containerName"]
    done = subprocess.run(
        [sys.executable, str(SCRIPT)],
        env=sandbox.env,
        cwd=sandbox.root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"# containai-rpc {__version__}, protocol {PROTOCOL_VERSION}"
    ours = [line.split() for line in lines[1:] if line.split()[0] == name]
    assert ours == [[name, "running", "default", str(workspace)]]
    assert "Traceback" not in done.stderr


def test_the_example_script_reports_an_error_response(sandbox: Sandbox) -> None:
    """A refused request prints `error (<reason>): <message>` and exits 1."""
    sandbox.config_file.write_text("[agent\n")  # not TOML: every request fails
    done = subprocess.run(
        [sys.executable, str(SCRIPT)],
        env=sandbox.env,
        cwd=sandbox.root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "error (" in done.stderr
    assert "Traceback" not in done.stderr
