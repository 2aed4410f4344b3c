"""Docker errors → DomainError reasons, in the SDK adapter, without a daemon: the SDK's
exceptions are raised by hand (or by a stand-in for its low-level API client)."""

from __future__ import annotations

import http.client
from types import SimpleNamespace
from typing import Any

import docker.errors
import pytest
import requests

from containai_rpc.engine import DockerEngine
from containai_rpc.engine.errors import translate_errors
from containai_rpc.errors import DomainError


def api_error(status: int, explanation: str = "what the daemon said") -> docker.errors.APIError:
    response = requests.Response()
    response.status_code = status
    return docker.errors.APIError("HTTP error", response=response, explanation=explanation)


def translated(exc: BaseException) -> DomainError:
    with pytest.raises(DomainError) as err, translate_errors("ctx", "unix:///d.sock"):
        raise exc
    return err.value


def chained(outer: BaseException, cause: BaseException) -> BaseException:
    outer.__cause__ = cause
    return outer


@pytest.mark.parametrize(
    ("exc", "reason", "message"),
    [
        (docker.errors.NotFound("No such container: x"), "containerNotFound", "No such container"),
        (docker.errors.ImageNotFound("No such image: i"), "imageNotFound", "No such image"),
        (api_error(409, "name already in use"), "nameConflict", "name already in use"),
        (api_error(500, "device busy"), "engineError", "device busy"),
        (api_error(400, "bad parameter"), "engineError", "bad parameter"),
        (
            chained(requests.exceptions.ConnectionError("x"), ConnectionRefusedError()),
            "engineUnavailable",
            "connection refused",
        ),
        (FileNotFoundError(2, "No such file"), "engineUnavailable", "socket not found"),
        (
            chained(docker.errors.DockerException("Error while fetching"), PermissionError()),
            "engineUnavailable",
            "permission denied",
        ),
        (requests.exceptions.ReadTimeout("slow"), "engineUnavailable", "timed out"),
        (
            chained(requests.exceptions.ConnectionError("x"), http.client.RemoteDisconnected()),
            "engineUnavailable",
            "connection closed by the other end",
        ),
        (
            docker.errors.DockerException("Install paramiko package to use ssh"),
            "engineUnavailable",
            "Install paramiko package to use ssh",
        ),
    ],
)
def test_sdk_and_transport_errors_become_stable_reasons(exc: Exception, reason: str, message: str):
    error = translated(exc)
    assert error.reason == reason
    assert message in error.message
    assert error.details.get("context") == "ctx"


def test_unreachable_names_the_context_the_endpoint_and_what_to_do():
    refused = translated(
        chained(requests.exceptions.ConnectionError("x"), ConnectionRefusedError())
    )
    assert refused.message == (
        "Docker engine of context 'ctx' is not reachable at unix:///d.sock: connection refused"
    )
    assert refused.hint and "doctor" in refused.hint
    denied = translated(chained(docker.errors.DockerException("x"), PermissionError()))
    assert denied.hint and "docker group" in denied.hint


def test_domain_errors_pass_through_unchanged():
    original = DomainError("busy", "already")
    assert translated(original) is original


class _Api:
    """A stand-in for the SDK's low-level client: each call raises what it was given."""

    def __init__(self, **raises: BaseException) -> None:
        self.raises = raises

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            raise self.raises[name]

        return call


def engine_raising(**raises: BaseException) -> DockerEngine:
    return DockerEngine("ctx", "unix:///d.sock", SimpleNamespace(api=_Api(**raises)))  # type: ignore[arg-type]


def test_missing_things_are_answers_not_errors():
    engine = engine_raising(
        inspect_container=docker.errors.NotFound("gone"),
        inspect_image=docker.errors.NotFound("no image"),
        inspect_volume=docker.errors.NotFound("no volume"),
    )
    assert engine.inspect("x") is None
    assert engine.image_labels("containai:latest") is None
    assert engine.volume_exists("v") is False
    with pytest.raises(DomainError) as err:
        engine.require("x")
    assert (err.value.reason, err.value.message) == ("containerNotFound", "Container not found: x")


def test_a_404_names_what_was_missing_container_volume_or_image():
    engine = engine_raising(
        start=docker.errors.NotFound("No such container: c"),
        inspect_volume=docker.errors.NotFound("no such volume"),
        create_volume=docker.errors.NotFound("no such volume"),
        remove_image=docker.errors.NotFound("no such image"),
    )
    for call, reason in (
        (lambda: engine.start("c"), "containerNotFound"),
        (lambda: engine.ensure_volume("v"), "volumeNotFound"),
        (lambda: engine.remove_image("i:1"), "imageNotFound"),
    ):
        with pytest.raises(DomainError) as err:
            call()
        assert err.value.reason == reason


def test_a_bad_image_reference_is_invalid_input_not_an_engine_failure():
    engine = engine_raising(inspect_image=api_error(400, "invalid reference format"))
    with pytest.raises(DomainError) as err:
        engine.image_labels("UPPER:case")
    assert err.value.reason == "invalidName"
    assert err.value.message == "Invalid image reference: 'UPPER:case'"


def test_an_engine_down_during_inspect_is_not_a_missing_container():
    engine = engine_raising(
        inspect_container=chained(requests.exceptions.ConnectionError("x"), FileNotFoundError())
    )
    with pytest.raises(DomainError) as err:
        engine.inspect("x")
    assert err.value.reason == "engineUnavailable"
