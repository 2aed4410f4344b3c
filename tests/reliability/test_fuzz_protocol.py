"""Protocol fuzzing: thousands of generated messages to one real server over stdio.

Whatever arrives — wrong types, missing and extra fields, huge and unicode strings, path
traversal, NUL bytes and shell syntax in paths and names, huge numbers, unknown methods,
notifications with ids, requests before `initialize` and after `shutdown`, broken framing
— the server answers with a JSON-RPC error (or, for a broken frame, logs and drops it),
never crashes or hangs, and still answers `containai/list` afterwards.

The server runs against a dedicated engine (DOCKER_HOST) with a sandbox HOME, so fuzzed
`run`/`stop {all}`/`gc` requests only ever meet containers of that engine; canaries on
the main engine and foreign containers on the dedicated one prove nothing else was touched.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, get_args

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from containai_rpc.protocol.models import PROTOCOL_VERSION
from containai_rpc.protocol.registry import METHODS
from tests.support.raw_client import RawServer, ServerGone, frame
from tests.support.reliability import (
    PROFILE,
    TALLY,
    check_untouched,
    check_volumes_kept,
    container_fingerprint,
    scaled,
)

pytestmark = pytest.mark.engine

TINY = "containai-test-tiny:latest"
# Codes a client may get; -32603 (internal error) means an unhandled exception: a bug.
ALLOWED_CODES = {-32700, -32600, -32601, -32602, -32002, -32800, -32803}
REQUEST_TIMEOUT_S = 30.0
FUZZ_SETTINGS: dict[str, Any] = {
    "deadline": None,
    "database": None,  # nothing written into the repository
    "phases": [Phase.generate],  # no shrinking: replays against a live server take minutes
    "suppress_health_check": list(HealthCheck),
    "derandomize": PROFILE != "long",  # CI: the same inputs every run; long: new ones
}
BIG_INTS = [0, -1, 1, 2**31, -(2**31) - 1, 2**63, 2**64 + 1, -(10**30), 10**100]


def _json_values() -> st.SearchStrategy[Any]:
    """Any JSON value, biased to the awkward ones (huge ints, surrogates, NUL, long text)."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.sampled_from(BIG_INTS),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=40),
        st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), max_size=3),
        st.sampled_from(["", "\x00", "\n", "x" * 70_000, "é" * 5000, "🚀" * 300]),
    )
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=6,
    )


def _pools(root: Path, workspaces: list[Path], canary: Path) -> dict[str, list[Any]]:
    """Field-specific interesting values (by wire name): valid, hostile and in between."""
    payloads = [
        f"$(touch {canary})",
        f"`touch {canary}`",
        f"x; touch {canary}",
        f"x' && touch '{canary}",
        f'x" | touch "{canary}',
    ]
    names = [
        "plain-main",
        "plain-main-2",
        "stranger-false",
        "stranger-ws",
        "a",
        "ab",
        "-bad",
        "../etc",
        "a/b",
        "..",
        "x" * 129,
        "ok.name_1",
        "a\x00b",
        "a\nb",
        " ",
        *payloads,
    ]
    paths = [str(w) for w in workspaces] + [
        "plain",
        "./plain/../plain",
        "../" * 12,
        ".",
        "~",
        "~/missing",
        "",
        "a\x00b",
        "a\nb",
        "/nonexistent/x",
        str(root / "ws" / "plain") + "/",
        str(root / "ws" / "plain" / ".." / ".." / "ws" / "plain"),
        "x" * 5000,
        "é" * 4096,
        "\udc80",
        *payloads,
    ]
    return {
        "workspace": paths,
        "container": names,
        "dataVolume": ["v1", "bad/vol", "../x", "/etc", "", "x" * 300, "ok-vol", *payloads],
        "context": ["default", "containai-docker", "nope", "", "../../x", "x" * 100],
        "image": [TINY, "containai:latest", "nope:latest", "../../x", "", *payloads],
        "age": ["0d", "30d", "08d", "010d", "-1d", "1.5h", "99999999999999999999d", "", "d"],
        "key": ["data_volume", "container_name", "context", "image", "created_at", "", "../x"],
        "workDoneToken": [1, "tok", -1, 2**70, "", "x" * 1000],
    }


def _fields(spec_params: Any) -> dict[str, tuple[bool, bool]]:
    """Wire name → (is a boolean, is required) of a params model's fields."""
    return {
        f.alias or name: (bool in (f.annotation, *get_args(f.annotation)), f.is_required())
        for name, f in spec_params.model_fields.items()
    }


@st.composite
def params_for(
    draw: st.DrawFn, fields: dict[str, tuple[bool, bool]], pools: dict[str, list[Any]]
) -> Any:
    """Params that are well-typed (pool values: they reach the service) or hostile (wrong
    types, junk, extra fields, not an object: they must be refused cleanly)."""
    shape = draw(st.integers(0, 9))
    if shape == 0:
        return draw(_json_values().filter(lambda v: not isinstance(v, dict)))
    hostile = shape < 4
    params: dict[str, Any] = {}
    for name, (boolean, required) in fields.items():
        if draw(st.booleans()) and not (required and not hostile):
            continue
        if hostile and draw(st.integers(0, 2)) == 0:
            params[name] = draw(_json_values())
        elif name in pools:
            params[name] = draw(st.sampled_from(pools[name]))
        elif boolean:
            params[name] = draw(st.booleans())
    if hostile:
        params.update(draw(st.dictionaries(st.text(max_size=12), _json_values(), max_size=3)))
    if "dryRun" in fields and "dryRun" not in params and draw(st.booleans()):
        params["dryRun"] = True  # many runs stay dry: speed, while every branch is reached
    return params


UNKNOWN_METHODS = [
    "containai/nope",
    "containai/",
    "containai/RUN",
    "$/custom",
    "workspace/executeCommand",
    "textDocument/hover",
    "containai/containerChanged",
    "",
    "\x00",
]
SESSION_METHODS = ["initialize", "$/cancelRequest", "window/workDoneProgress/cancel", "$/setTrace"]


@st.composite
def messages(draw: st.DrawFn, pools: dict[str, list[Any]]) -> tuple[str, dict[str, Any]]:
    """(kind, message): kind is `request` (must be answered) or `other` (may be dropped)."""
    known = [(spec.name, _fields(spec.params)) for spec in METHODS]
    pick = draw(st.integers(0, 19))
    if pick < 15:
        method, fields = draw(st.sampled_from(known))
        params = draw(params_for(fields, pools))
    elif pick < 17:
        method = draw(st.sampled_from(UNKNOWN_METHODS) | st.text(max_size=30))
        params = draw(_json_values())
    else:
        method = draw(st.sampled_from(SESSION_METHODS))
        params = draw(
            st.fixed_dictionaries({}, optional={"id": _json_values(), "value": _json_values()})
            | _json_values()
        )
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
    envelope = draw(st.integers(0, 19))
    if envelope < 15:
        return "request", {
            **message,
            "id": draw(st.integers() | st.text(max_size=20).map("f-{}".format)),
        }
    if envelope < 17:
        message.pop("params") if draw(st.booleans()) else None
        return "other", message  # a notification
    odd = draw(
        st.sampled_from(
            [
                {"id": None},
                {"id": 1.5},
                {"id": [1]},
                {"id": {"a": 1}},
                {"id": "odd", "jsonrpc": "1.0"},
                {"id": "odd", "jsonrpc": None},
                {"id": "odd", "method": 42},
                {"id": "odd", "extra": {"x": 1}},
                {"id": "odd", "result": 1},
                {"id": "odd", "error": {"code": 1, "message": "x"}},
            ]
        )
    )
    return "other", {**message, **odd}


def _check_response(response: dict[str, Any], message: dict[str, Any], codes: Counter[str]) -> None:
    """A result, or an error with an allowed code, a message, a reason where one is due."""
    method = message.get("method")
    if "result" in response:
        codes[f"{method}: result"] += 1
        return
    error = response.get("error") or {}
    code = error.get("code")
    assert code in ALLOWED_CODES, f"{code} {error.get('message')!r} for {message!r}"
    assert error.get("message"), response
    data = error.get("data")
    if code == -32803:
        assert isinstance(data, dict) and data.get("reason"), response
    assert "traceback" not in json.dumps(data).lower(), response
    codes[f"{method}: {data['reason'] if code == -32803 else code}"] += 1


def _send(server: RawServer, kind: str, message: dict[str, Any], codes: Counter[str]) -> None:
    """One fuzzed message; a request must be answered, anything else must not stop service."""
    TALLY["fuzzed messages"] += 1
    server.send(message)
    if kind == "request":
        _check_response(server.wait(message["id"], REQUEST_TIMEOUT_S), message, codes)
    else:
        server.assert_serving()
        codes["not a request: still serving"] += 1


def _foreign(client: Any, ws: dict[str, Path]) -> list[str]:
    """Containers that are not ours on the dedicated engine: a name we would generate, a
    `managed=false` one, and one with our workspace label but no managed label."""
    made = [
        client.containers.run(TINY, name="plain-main", detach=True),
        client.containers.run(
            TINY,
            name="stranger-false",
            detach=True,
            labels={"containai.managed": "false", "containai.workspace": str(ws["plain"])},
        ),
        client.containers.run(
            TINY,
            name="stranger-ws",
            detach=True,
            labels={"containai.workspace": str(ws["weird"])},
        ),
    ]
    return [c.id for c in made]


def _canary_on_main_engine(sandbox: Any) -> list[str]:
    """A managed container of this sandbox on the main engine: the fuzzed server must not
    see it (it talks to the dedicated engine), let alone stop or remove it."""
    canary = sandbox.client.containers.run(
        TINY,
        name=f"canary-{sandbox.volume}",
        detach=True,
        labels={
            "containai.managed": "true",
            "containai.workspace": str(sandbox.root / "canary"),
            "containai.data-volume": sandbox.volume,
        },
    )
    return [canary.id]


def test_fuzzed_requests_never_crash_or_hang(sandbox, dedicated_engine, servers):
    ws = {
        "plain": sandbox.workspace("plain"),
        "weird": sandbox.workspace("a b;$(touch x)'\"`|&"),
        "unicode": sandbox.workspace("Café-🚀", branch="feature/ünï"),
        "nogit": sandbox.workspace("nogit", branch=None),
    }
    canary = sandbox.root / "pwned"
    pools = _pools(sandbox.root, list(ws.values()), canary)
    engine = dedicated_engine.client()
    foreign = container_fingerprint(engine, _foreign(engine, ws))
    main_canary = container_fingerprint(sandbox.client, _canary_on_main_engine(sandbox))
    env = {**sandbox.env, "DOCKER_HOST": dedicated_engine.host}
    codes: Counter[str] = Counter()

    # Before initialize: every request is refused, none crashes the server.
    early = servers(env, ws["plain"], initialize=False)

    @settings(max_examples=scaled(60, 400), **FUZZ_SETTINGS)
    @given(st.data())
    def before_initialize(data: st.DataObject) -> None:
        kind, message = data.draw(messages(pools))
        if message.get("method") == "initialize":
            return
        TALLY["fuzzed messages"] += 1
        early.send(message)
        if kind == "request":
            response = early.wait(message["id"], REQUEST_TIMEOUT_S)
            assert "error" in response, (message, response)
            _check_response(response, message, codes)
        assert early.alive()

    before_initialize()
    early.initialize()
    early.assert_serving()

    # The main run: one server, thousands of messages.
    server = servers(env, ws["plain"])
    volumes = set()

    @settings(max_examples=scaled(1500, 10000), **FUZZ_SETTINGS)
    @given(st.data())
    def fuzz(data: st.DataObject) -> None:
        kind, message = data.draw(messages(pools))
        _send(server, kind, message, codes)
        volumes.update(v.name for v in engine.volumes.list())

    fuzz()
    server.assert_serving()

    # After shutdown: requests are refused (not left unanswered), then exit ends it cleanly.
    response = server.request("shutdown", None)
    assert "result" in response
    for method, params in [("containai/list", {}), ("containai/run", {"dryRun": True})]:
        TALLY["fuzzed messages"] += 1
        refused = server.request(method, params, timeout=10)
        assert refused.get("error", {}).get("code") == -32600, refused
    server.notify("exit")
    assert server.proc.wait(timeout=15) == 0

    assert not canary.exists(), "a fuzzed payload ran a shell command"
    check_untouched(engine, foreign)
    check_untouched(sandbox.client, main_canary)
    check_volumes_kept(engine, volumes)
    state = sandbox.config_file.read_text()
    assert state.startswith(f'[agent]\ndata_volume = "{sandbox.volume}"\n'), state
    made = engine.containers.list(all=True, filters={"label": "containai.managed=true"})
    print(f"fuzz outcomes: {dict(codes)}; {len(made)} managed containers, {len(volumes)} volumes")
    engine.close()


# --------------------------------------------------------------------------- session


def test_every_request_is_answered_outside_the_session(sandbox, servers):
    """Before `initialize` a request gets -32002 (a notification is dropped); a
    notification method sent with an id gets -32600; after `shutdown` a request gets
    -32600 and `exit` still ends the server cleanly."""
    server = servers(sandbox.env, initialize=False)
    early = server.request("containai/list", {})["error"]
    assert early["code"] == -32002 and "send initialize first" in early["message"], early
    server.notify("initialized", {})
    started = server.initialize()["capabilities"]["experimental"]["containai"]
    assert started["protocolVersion"] == PROTOCOL_VERSION
    assert set(started["features"]) == {m.name.split("/", 1)[1] for m in METHODS}
    noted = server.request("initialized", {})["error"]
    assert noted["code"] == -32600 and "is a notification" in noted["message"], noted
    server.assert_serving()
    assert "result" in server.request("shutdown", None)
    late = server.request("containai/list", {})["error"]
    assert late["code"] == -32600 and "shutting down" in late["message"], late
    server.notify("exit")
    assert server.proc.wait(timeout=15) == 0


# --------------------------------------------------------------------------- framing

LIST = json.dumps({"jsonrpc": "2.0", "id": "probe", "method": "containai/list"}).encode()
FRAMING_CASES: dict[str, bytes] = {
    "content-length not a number": b"Content-Length: abc\r\n\r\n{}",
    "negative content-length": b"Content-Length: -5\r\n\r\n{}",
    "zero content-length": b"Content-Length: 0\r\n\r\n",
    "no content-length": b"Content-Type: application/json\r\n\r\n{}",
    "header without colon": b"garbage header line\r\n\r\n",
    "binary noise": bytes(range(256)) * 4,
    "invalid json": frame(b"{not json"),
    "json but not an object": frame(b"[1, 2, 3]"),
    "json scalar": frame(b"42"),
    "invalid utf-8": frame(b'{"jsonrpc": "2.0", "id": 1, "method": "\xff\xfe"}'),
    "lone surrogate escape": frame(
        b'{"jsonrpc":"2.0","id":"s","method":"containai/run","params":{"workspace":"\\udc80"}}'
    ),
    "deeply nested": frame(b"[" * 100_000 + b"]" * 100_000),
    "body shorter than content-length": b"Content-Length: 150\r\n\r\n" + frame(LIST)[:-10],
    "body longer than content-length": b"Content-Length: 5\r\n\r\n" + LIST,
    "huge content-length": b"Content-Length: 99999999999999999999\r\n\r\n{}",
    "50 MB body": frame(
        b'{"jsonrpc":"2.0","id":"big","method":"containai/list","params":{"x":"'
        + b"a" * (50 * 2**20)
        + b'"}}'
    ),
}


def test_malformed_framing_is_dropped_and_service_continues(sandbox, servers):
    server = servers(sandbox.env)
    for case, data in FRAMING_CASES.items():
        TALLY["framing cases"] += 1
        server.send_raw(data)
        # A peer that broke framing may lose its next frame or two (the server
        # resynchronises on the next header); then it must answer, and go on answering.
        for _ in range(4):
            try:
                server.assert_serving(timeout=3)
                break
            except ServerGone:
                if not server.alive():
                    raise
        else:
            pytest.fail(f"no answer after {case!r}: {server.stderr_text()[-2000:]}")
        server.assert_serving()
    assert "dropping a message of 99999999999999999999 bytes" in server.stderr_text()
