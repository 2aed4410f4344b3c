"""Params as real clients send them, nesting bounded before decoding, and the log's
rate limit — without a server process."""

from __future__ import annotations

import json
import logging

import pytest
from pygls.exceptions import JsonRpcInvalidParams

from containai_rpc.protocol.models import ConfigGetParams, ListParams
from containai_rpc.server.app import _RateLimit
from containai_rpc.server.bridge import parse_params
from containai_rpc.server.wire import MAX_DEPTH, guard_depth


def test_an_empty_array_is_no_params_where_all_are_optional():
    assert parse_params(ListParams, []) == ListParams()


@pytest.mark.parametrize(
    ("raw", "shape"),
    [
        ([1, 2], "an array of 2 items"),
        ([1], "an array of 1 item"),
        (7, "a number"),
        ("x", "a string"),
        (True, "a boolean"),
    ],
)
def test_other_params_name_what_was_received(raw: object, shape: str):
    with pytest.raises(JsonRpcInvalidParams) as err:
        parse_params(ListParams, raw)
    assert err.value.message == f"params must be an object, got {shape}"


def test_an_empty_array_is_refused_where_a_param_is_required():
    with pytest.raises(JsonRpcInvalidParams) as err:
        parse_params(ConfigGetParams, [])
    assert err.value.message == "params must be an object, got an array of 0 items"


def test_shallow_bodies_pass_unchanged_even_with_many_brackets():
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "params": {"x": [[1]] * 500}}).encode()
    assert guard_depth(body) is body


@pytest.mark.parametrize("msg_id", [7, "deep-1", 'a"b'])
def test_a_deep_body_becomes_a_refusal_under_its_id(msg_id: object):
    deep = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    body = (
        '{"jsonrpc": "2.0", "method": "containai/list", "params": {"id": 3, "x": '
        + deep
        + '}, "id": '
        + json.dumps(msg_id)
        + "}"
    ).encode()
    stand_in = json.loads(guard_depth(body))
    assert stand_in["id"] == msg_id  # the top level's id, not the nested one
    assert "nested deeper than" in stand_in["params"]["message"]


def test_a_deep_notification_has_no_id():
    body = b'{"jsonrpc": "2.0", "method": "x", "params": ' + b"{" * 100 + b"}" * 100 + b"}"
    assert "id" not in json.loads(guard_depth(body))


def _record(msg: str = "bad message %s") -> logging.LogRecord:
    return logging.LogRecord("x", logging.WARNING, __file__, 1, msg, ("a",), None)


def test_the_rate_limit_lets_a_burst_through_then_counts_what_it_held_back():
    now = [0.0]
    limit = _RateLimit(clock=lambda: now[0])
    passed = [limit.filter(_record()) for _ in range(1000)]
    assert sum(passed) == _RateLimit.BURST + 1
    assert limit.filter(_record("another %s"))  # another message has its own budget
    now[0] = _RateLimit.WINDOW_S
    record = _record()
    assert limit.filter(record)
    assert record.getMessage() == (
        f"[{1000 - _RateLimit.BURST - 1} similar suppressed] bad message a"
    )
