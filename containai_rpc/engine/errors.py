"""Docker SDK and transport exceptions as DomainErrors with stable reasons."""

from __future__ import annotations

import contextlib
import http.client
import socket
from collections.abc import Iterator

import docker.errors
import requests.exceptions

from containai_rpc.errors import DomainError, Reason

_CONNECTION_ERRORS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    ConnectionError,
    socket.timeout,
    FileNotFoundError,
)


def unavailable(context: str, endpoint: str, exc: BaseException) -> DomainError:
    """The one error for 'this engine does not answer', with the cause in a few words."""
    cause = _cause(exc)
    hint = (
        "Make the Docker socket accessible to you (e.g. join the docker group)."
        if cause == "permission denied"
        else "Start the Docker daemon (or check the context), then run doctor."
    )
    return DomainError(
        "engineUnavailable",
        f"Docker engine of context '{context}' is not reachable at {endpoint}: {cause}",
        hint=hint,
        context=context,
    )


_CAUSES: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], str], ...] = (
    (FileNotFoundError, "socket not found"),
    (ConnectionRefusedError, "connection refused"),
    (PermissionError, "permission denied"),
    ((TimeoutError, requests.exceptions.Timeout), "timed out"),
    (http.client.RemoteDisconnected, "connection closed by the other end"),
)


def _cause(exc: BaseException) -> str:
    """The first known cause in the exception chain (the original's error codes, §4.1);
    else the SDK's own message (e.g. a missing ssh transport), else the type's name."""
    seen: BaseException | None = exc
    while seen is not None:
        for kinds, words in _CAUSES:
            if isinstance(seen, kinds):
                return words
        seen = seen.__cause__ or seen.__context__
    if isinstance(exc, docker.errors.DockerException) and "Error while fetching" not in str(exc):
        return str(exc)
    return type(exc).__name__


@contextlib.contextmanager
def translate_errors(
    context: str, endpoint: str, *, not_found: Reason = "containerNotFound"
) -> Iterator[None]:
    """Turn SDK/transport exceptions into DomainErrors with stable reasons.

    A 404 is `not_found`: the caller names what it addressed (a container unless it says a
    volume or an image); the SDK's own "No such image" is `imageNotFound` whatever the call.
    """
    try:
        yield
    except DomainError:
        raise
    except docker.errors.ImageNotFound as exc:
        raise DomainError("imageNotFound", _explain(exc), context=context) from exc
    except docker.errors.NotFound as exc:
        raise DomainError(not_found, _explain(exc), context=context) from exc
    except docker.errors.APIError as exc:
        if exc.status_code == 409:
            raise DomainError("nameConflict", _explain(exc), context=context) from exc
        raise DomainError("engineError", _explain(exc), context=context) from exc
    except docker.errors.DockerException as exc:
        raise unavailable(context, endpoint, exc) from exc
    except _CONNECTION_ERRORS as exc:
        raise unavailable(context, endpoint, exc) from exc


def _explain(exc: docker.errors.APIError) -> str:
    return str(exc.explanation or exc)
