"""The `Engine` protocol: the SDK adapter and the in-memory fake both satisfy it, member
for member, with the same parameters — so the service cannot tell them apart."""

from __future__ import annotations

import inspect
from types import SimpleNamespace
from typing import Any

import pytest

from containai_rpc.engine import DockerEngine, Engine, EventSource
from containai_rpc.engine.client import EventStream
from tests.support.fake_engine import FakeEngine, FakeEvents


def _methods(protocol: type) -> list[str]:
    return sorted(
        name
        for name, value in vars(protocol).items()
        if callable(value) and (not name.startswith("_") or name == "__iter__")
    )


def _parameters(fn: Any) -> list[tuple[str, Any, Any]]:
    """(name, kind, default) of every parameter but `self`."""
    signature = inspect.signature(fn)
    return [(p.name, p.kind, p.default) for p in signature.parameters.values() if p.name != "self"]


def _docker_engine() -> DockerEngine:
    return DockerEngine("ctx", "unix:///nowhere.sock", SimpleNamespace(api=None))  # type: ignore[arg-type]


def test_the_protocol_names_what_the_service_uses():
    assert _methods(Engine) == [
        "build_image",
        "close",
        "container_sizes",
        "create",
        "ensure_volume",
        "events",
        "exec",
        "ids_for_workspace",
        "image_ids_in_use",
        "image_labels",
        "image_layers",
        "info",
        "inspect",
        "list_images",
        "list_managed",
        "managed_ports",
        "managed_states",
        "ping",
        "read_file",
        "remove",
        "remove_image",
        "remove_volume",
        "require",
        "start",
        "stop",
        "unmanaged_labelled",
        "volume_exists",
        "volume_helper",
        "volume_info",
    ]
    assert set(Engine.__annotations__) == {"context", "endpoint", "tunnel"}


@pytest.mark.parametrize("implementation", [DockerEngine, FakeEngine])
@pytest.mark.parametrize("member", _methods(Engine))
def test_same_parameters_as_the_protocol(implementation: type, member: str):
    assert _parameters(getattr(implementation, member)) == _parameters(getattr(Engine, member))


def test_both_are_engines_at_runtime():
    assert isinstance(_docker_engine(), Engine)
    assert isinstance(FakeEngine(), Engine)
    assert not isinstance(object(), Engine)


@pytest.mark.parametrize("implementation", [EventStream, FakeEvents])
def test_event_windows_are_event_sources(implementation: type):
    for member in _methods(EventSource):
        assert _parameters(getattr(implementation, member)) == _parameters(
            getattr(EventSource, member)
        )
