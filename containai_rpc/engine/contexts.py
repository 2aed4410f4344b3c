"""Which engines we talk to: Docker contexts resolved the way the docker CLI does."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping

from docker.context import ContextAPI
from docker.errors import ContextNotFound, DockerException

from containai_rpc.engine.client import Engine, connect
from containai_rpc.errors import DomainError

SECURE_CONTEXT = "containai-docker"


def context_exists(name: str) -> bool:
    if name == "default":
        return True
    try:
        return ContextAPI.get_context(name) is not None
    except (ContextNotFound, DockerException):
        return False


def _endpoint_of(name: str, env: Mapping[str, str]) -> tuple[str, dict[str, object]]:
    """(endpoint, client kwargs) for a context; `default` honours DOCKER_HOST like the CLI."""
    if name == "default":
        host = env.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
        return host, {"base_url": host}
    try:
        ctx = ContextAPI.get_context(name)
    except (ContextNotFound, DockerException) as exc:
        raise DomainError(
            "contextNotFound", f"Docker context not found: {name}", context=name
        ) from exc
    if ctx is None:
        raise DomainError("contextNotFound", f"Docker context not found: {name}", context=name)
    kwargs: dict[str, object] = {"base_url": ctx.Host}
    if ctx.TLSConfig is not None:
        kwargs["tls"] = ctx.TLSConfig
    if str(ctx.Host).startswith("ssh://"):
        kwargs["use_ssh_client"] = True
    return str(ctx.Host), kwargs


def current_context_name(env: Mapping[str, str]) -> str:
    """The context the docker CLI would use: DOCKER_HOST wins, then DOCKER_CONTEXT, config."""
    if env.get("DOCKER_HOST"):
        return "default"
    if env.get("DOCKER_CONTEXT"):
        return env["DOCKER_CONTEXT"]
    try:
        ctx = ContextAPI.get_current_context()
    except DockerException:
        return "default"
    return ctx.Name if ctx is not None else "default"


class EngineSet:
    """The engines of the contexts we manage, connected lazily and cached per context.

    Selection (design.md): configured context → `containai-docker` if it exists → the
    current Docker context. `managed()` is the selected one plus `containai-docker` and
    any extra configured contexts.
    """

    def __init__(
        self,
        configured: str | None = None,
        extra: list[str] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self._env = dict(os.environ if env is None else env)
        self._configured = configured
        self._extra = list(extra or [])
        self._engines: dict[str, Engine] = {}
        self._lock = threading.Lock()

    def default_context(self) -> str:
        if self._configured:
            return self._configured
        if not self._env.get("DOCKER_HOST") and context_exists(SECURE_CONTEXT):
            return SECURE_CONTEXT
        return current_context_name(self._env)

    def managed_contexts(self) -> list[str]:
        names = [self.default_context(), *self._extra]
        if not self._env.get("DOCKER_HOST") and context_exists(SECURE_CONTEXT):
            names.append(SECURE_CONTEXT)
        return list(dict.fromkeys(names))

    def endpoint(self, context: str) -> str:
        return _endpoint_of(context, self._env)[0]

    def get(self, context: str | None = None) -> Engine:
        """The engine for `context` (default: the selected one); raises engineUnavailable."""
        name = context or self.default_context()
        with self._lock:
            engine = self._engines.get(name)
            if engine is None:
                if not context_exists(name):
                    raise DomainError(
                        "contextNotFound", f"Docker context not found: {name}", context=name
                    )
                endpoint, kwargs = _endpoint_of(name, self._env)
                engine = connect(name, endpoint, **kwargs)
                self._engines[name] = engine
            return engine

    def forget(self, context: str) -> None:
        """Drop a cached engine (after it went away) so the next `get` reconnects."""
        with self._lock:
            engine = self._engines.pop(context, None)
        if engine is not None:
            engine.close()

    def close(self) -> None:
        with self._lock:
            engines, self._engines = list(self._engines.values()), {}
        for engine in engines:
            engine.close()
