"""Which engines we talk to: Docker contexts resolved the way the docker CLI does.

The CLI's rules are read here directly rather than through the SDK's `ContextAPI`, which
looks for contexts beside `config.json` and so finds none in a `DOCKER_CONFIG` folder
without one (a fresh `docker --config DIR context create` makes exactly that):
- config folder: `$DOCKER_CONFIG`, else `~/.docker`;
- context `<name>`: `contexts/meta/<sha256(name)>/meta.json`, TLS material in
  `contexts/tls/<sha256(name)>/docker/`;
- current context: `DOCKER_HOST` set → `default`; else `DOCKER_CONTEXT`; else
  `currentContext` of `config.json`; else `default` (`DOCKER_HOST`, `DOCKER_TLS_VERIFY`,
  `DOCKER_CERT_PATH`, else the local socket).

Every engine is probed with a short, bounded timeout before use by `each()`, so a dead or
unreachable context costs seconds, never minutes, and never hides the others. An ssh://
context is reached through one persistent SSH connection of ours (`engine/sshtunnel.py`),
opened on first use and again whenever it has dropped.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from docker.tls import TLSConfig
from docker.utils import kwargs_from_env

from containai_rpc.engine.client import connect
from containai_rpc.engine.port import Engine
from containai_rpc.engine.sshtunnel import SshDestination, Tunnel, runtime_dir
from containai_rpc.errors import DomainError

SECURE_CONTEXT = "containai-docker"
DEFAULT_CONTEXT = "default"
PROBE_TIMEOUT_S = 3.0
SSH_PROBE_TIMEOUT_S = 5.0
"""Over ssh a first connection includes the SSH handshake and authentication."""

T = TypeVar("T")


class Connector(Protocol):
    """How an engine is reached: `engine.client.connect`, or an in-memory one in tests."""

    def __call__(
        self, context: str, endpoint: str, *, connect_timeout_s: float, **client_kwargs: Any
    ) -> Engine: ...


def _not_found(name: str) -> DomainError:
    return DomainError(
        "contextNotFound",
        f"Docker context not found: {name}",
        hint="List them with 'docker context ls'; create one with 'docker context create', "
        "or fix [secure_engine] context_name / [engine] contexts in the ContainAI config.",
        context=name,
    )


@dataclass(frozen=True)
class Contexts:
    """The docker CLI's context store and environment, read at call time."""

    env: Mapping[str, str]

    def config_dir(self) -> Path:
        configured = self.env.get("DOCKER_CONFIG")
        if configured:
            return Path(configured)
        return Path(self.env.get("HOME") or os.path.expanduser("~")) / ".docker"

    def _store(self, kind: str, name: str) -> Path:
        digest = hashlib.sha256(name.encode("utf-8")).hexdigest()
        return self.config_dir() / "contexts" / kind / digest

    def _meta(self, name: str) -> dict[str, Any] | None:
        """The context's `meta.json`; None when there is no such context."""
        path = self._store("meta", name) / "meta.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise DomainError(
                "contextInvalid",
                f"Docker context {name}: cannot read {path} ({exc})",
                hint=f"Repair or recreate it: docker context rm {name}; docker context create …",
                context=name,
            ) from None
        return data if isinstance(data, dict) else {}

    def exists(self, name: str) -> bool:
        if name == DEFAULT_CONTEXT:
            return True
        try:
            return self._meta(name) is not None
        except DomainError:
            return True  # it is there, only damaged: `endpoint` says what is wrong

    def current(self) -> str:
        if self.env.get("DOCKER_HOST"):
            return DEFAULT_CONTEXT
        if self.env.get("DOCKER_CONTEXT"):
            return self.env["DOCKER_CONTEXT"]
        try:
            config = json.loads((self.config_dir() / "config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return DEFAULT_CONTEXT
        name = config.get("currentContext") if isinstance(config, dict) else None
        return name if isinstance(name, str) and name else DEFAULT_CONTEXT

    def endpoint(self, name: str) -> tuple[str, dict[str, Any]]:
        """(endpoint, SDK client kwargs) of a context."""
        if name == DEFAULT_CONTEXT:
            kwargs: dict[str, Any] = kwargs_from_env(environment=dict(self.env))
            kwargs.setdefault("base_url", "unix:///var/run/docker.sock")
        else:
            meta = self._meta(name)
            if meta is None:
                raise _not_found(name)
            docker_endpoint = (meta.get("Endpoints") or {}).get("docker") or {}
            host = docker_endpoint.get("Host") if isinstance(docker_endpoint, dict) else None
            if not isinstance(host, str) or not host:
                raise DomainError(
                    "contextInvalid",
                    f"Docker context {name} has no Docker endpoint",
                    hint=f"Recreate it: docker context create {name} --docker host=…",
                    context=name,
                )
            kwargs = {"base_url": host}
            tls = self._tls(name, skip_verify=bool(docker_endpoint.get("SkipTLSVerify")))
            if tls is not None:
                kwargs["tls"] = tls
        return str(kwargs["base_url"]), kwargs

    def _tls(self, name: str, *, skip_verify: bool) -> TLSConfig | None:
        folder = self._store("tls", name) / "docker"
        files = {p.name.split(".")[0]: str(p) for p in folder.glob("*.pem")}
        if not {"ca", "cert", "key"} <= files.keys():
            return None
        return TLSConfig(
            client_cert=(files["cert"], files["key"]),
            ca_cert=files["ca"],
            verify=None if skip_verify else True,
        )


def probe_timeout(endpoint: str) -> float:
    return SSH_PROBE_TIMEOUT_S if endpoint.startswith("ssh://") else PROBE_TIMEOUT_S


@dataclass
class _Job:
    """One context's share of `EngineSet.each`."""

    context: str
    timeout_s: float
    probed: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    crash: BaseException | None = None


class EngineSet:
    """The engines of the contexts we manage, connected lazily and cached per context.

    Selection: configured context → `containai-docker` if it exists → the
    current Docker context (`DOCKER_HOST`, set explicitly for this process, skips
    `containai-docker`). Managed: the selected one, then the configured list
    (`[engine] contexts`), else `containai-docker` when it exists.
    """

    def __init__(
        self,
        configured: str | None = None,
        extra: list[str] | None = None,
        env: Mapping[str, str] | None = None,
        *,
        connector: Connector = connect,
    ) -> None:
        self.contexts = Contexts(dict(os.environ if env is None else env))
        self._connect = connector
        self._configured = configured
        self._extra = list(extra or [])
        self._engines: dict[str, Engine] = {}
        self._tunnels: dict[str, Tunnel] = {}
        self._runtime: Path | None = None
        self._lock = threading.Lock()

    def _secure_context(self) -> str | None:
        if self.contexts.env.get("DOCKER_HOST") or not self.contexts.exists(SECURE_CONTEXT):
            return None
        return SECURE_CONTEXT

    def default_context(self) -> str:
        return self._configured or self._secure_context() or self.contexts.current()

    def managed_contexts(self) -> list[str]:
        more = self._extra or [self._secure_context()]
        return list(dict.fromkeys(n for n in [self.default_context(), *more] if n))

    def endpoint(self, context: str) -> str:
        return self.contexts.endpoint(context)[0]

    def get(self, context: str | None = None) -> Engine:
        """The engine for `context` (default: the selected one); a new one is connected
        within the probe timeout, else `engineUnavailable` (or `contextNotFound`)."""
        name = context or self.default_context()
        with self._lock:
            engine = self._engines.get(name)
            tunnel = self._tunnels.get(name)
        if engine is not None and (tunnel is None or tunnel.alive()):
            return engine
        if engine is not None:  # its SSH connection dropped: connect again
            self.forget(name)
        endpoint, kwargs = self.contexts.endpoint(name)
        tunnel = None
        if endpoint.startswith("ssh://"):
            tunnel = self._tunnel(name, endpoint)
            tunnel.open(probe_timeout(endpoint))
            kwargs["base_url"] = f"unix://{tunnel.socket}"
        engine = self._connect(name, endpoint, connect_timeout_s=probe_timeout(endpoint), **kwargs)
        engine.tunnel = tunnel
        with self._lock:
            kept = self._engines.setdefault(name, engine)
        if kept is not engine:  # another thread connected meanwhile
            engine.close()
        return kept

    def _tunnel(self, context: str, endpoint: str) -> Tunnel:
        """The context's SSH connection (made, not yet opened, on first use)."""
        dest = SshDestination.parse(endpoint)
        with self._lock:
            old = tunnel = self._tunnels.get(context)
            if tunnel is None or tunnel.dest != dest:
                if self._runtime is None:
                    self._runtime = runtime_dir()
                tunnel = Tunnel(context, dest, self._runtime, len(self._tunnels) + 1)
                self._tunnels[context] = tunnel
        if old is not None and old is not tunnel:  # the context was pointed elsewhere
            old.close()
        return tunnel

    def tunnel(self, context: str) -> Tunnel | None:
        """The SSH connection of an ssh:// context, once one was made."""
        with self._lock:
            return self._tunnels.get(context)

    def probe(self, context: str) -> Engine:
        """The engine, proven to answer now within the probe timeout."""
        with self._lock:
            cached = context in self._engines
        engine = self.get(context)
        if cached:  # a new connection has just talked to it (API version negotiation)
            engine.ping(timeout_s=probe_timeout(engine.endpoint))
        return engine

    def each(
        self, contexts: Iterable[str], fn: Callable[[Engine], T]
    ) -> list[tuple[str, T | DomainError]]:
        """`fn(engine)` for every context concurrently, each after a bounded `probe`.

        A context that fails, or does not answer within its probe timeout, yields its
        DomainError instead of a result. Daemon threads: a probe stuck in a transport
        without timeouts (ssh shells out) is left behind, never waited for. Anything but
        a DomainError raised by `fn` is a bug and is raised again here.
        """
        jobs = [_Job(name, self._timeout_of(name)) for name in dict.fromkeys(contexts)]
        started = time.monotonic()
        for job in jobs:
            threading.Thread(
                target=self._run_job, args=(job, fn), name=f"engine-{job.context}", daemon=True
            ).start()
        results: list[tuple[str, T | DomainError]] = []
        for job in jobs:
            if not job.probed.wait(max(0.0, started + job.timeout_s - time.monotonic())):
                results.append((job.context, _no_answer(job, self)))
                continue
            job.done.wait()
            if job.crash is not None:
                raise job.crash
            results.append((job.context, job.result))
        return results

    def _timeout_of(self, context: str) -> float:
        try:
            return probe_timeout(self.endpoint(context))
        except DomainError:
            return PROBE_TIMEOUT_S  # the job fails at once with the same error

    def _run_job(self, job: _Job, fn: Callable[[Engine], Any]) -> None:
        try:
            try:
                engine = self.probe(job.context)
            finally:
                job.probed.set()
            job.result = fn(engine)
        except DomainError as exc:
            job.result = exc
        except BaseException as exc:  # a bug in fn: the caller raises it again
            job.crash = exc
        finally:
            job.done.set()

    def forget(self, context: str) -> None:
        """Drop a cached engine (after it went away) so the next `get` reconnects."""
        with self._lock:
            engine = self._engines.pop(context, None)
        if engine is not None:
            engine.close()

    def close(self) -> None:
        """Every engine and SSH connection, and the runtime folder of their sockets."""
        with self._lock:
            engines, self._engines = list(self._engines.values()), {}
            tunnels, self._tunnels = list(self._tunnels.values()), {}
            runtime, self._runtime = self._runtime, None
        for engine in engines:
            engine.close()
        for tunnel in tunnels:
            tunnel.close()
        if runtime is not None:
            shutil.rmtree(runtime, ignore_errors=True)


def _no_answer(job: _Job, engines: EngineSet) -> DomainError:
    try:
        where = f" at {engines.endpoint(job.context)}"
    except DomainError:
        where = ""
    return DomainError(
        "engineUnavailable",
        f"Docker engine of context '{job.context}'{where} did not answer within "
        f"{job.timeout_s:.0f} s",
        hint="Check that the engine runs and the host is reachable (for ssh:// contexts: "
        "ssh to it by hand), then run doctor.",
        context=job.context,
    )
