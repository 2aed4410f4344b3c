"""`Service`: one object the server, the CLI and tests drive the same way."""

from __future__ import annotations

from containai_rpc.core.clock import Clock, system_clock
from containai_rpc.engine import EngineSet
from containai_rpc.engine.stats import ResourceMonitor
from containai_rpc.protocol.doctor import DoctorParams, DoctorResult
from containai_rpc.protocol.gc import GcParams, GcResult, KeepParams, KeepResult
from containai_rpc.protocol.models import (
    ConfigGetParams,
    ConfigGetResult,
    ListParams,
    ListResult,
    RunParams,
    RunResult,
    StatusParams,
    StatusResult,
    StopParams,
    StopResult,
)
from containai_rpc.protocol.ssh import SshCleanupParams, SshCleanupResult
from containai_rpc.service import doctor, gc, inventory, keep, run, status, stop
from containai_rpc.service.hooks import Hooks
from containai_rpc.service.resolve import check_names
from containai_rpc.service.ssh_cleanup import cleanup_stale
from containai_rpc.service.verify import SSHD_DEADLINE_S
from containai_rpc.workspace.config import config_get
from containai_rpc.workspace.paths import normalize_path
from containai_rpc.workspace.userconfig import UserConfig


class Service:
    """The lifecycle operations over the engines of the contexts we manage.

    `clock`: "now" for gc's ages, uptimes and reset times; `sshd_timeout_s`: how long a
    created or started container's sshd may take to answer. Tests pass both; the server
    runs with the defaults (the real time, 30 s).
    """

    def __init__(
        self,
        engines: EngineSet | None = None,
        *,
        clock: Clock = system_clock,
        sshd_timeout_s: float = SSHD_DEADLINE_S,
    ) -> None:
        self._engines = engines
        self._clock = clock
        self._sshd_timeout_s = sshd_timeout_s
        self._resources = ResourceMonitor()  # CPU samples live as long as the server

    @property
    def engines(self) -> EngineSet:
        """Built on first use, so a broken config file is a request error, not a crash."""
        return self._engines_for(None)

    def _engines_for(self, config: UserConfig | None) -> EngineSet:
        """The engines, built from `config` (this request's reading) when not built yet."""
        if self._engines is None:
            settings = (config or UserConfig.load()).settings()
            self._engines = EngineSet(settings.context_name, settings.contexts)
        return self._engines

    def run(self, p: RunParams, hooks: Hooks | None = None) -> RunResult:
        check_names(p)
        return run.run(
            self.engines,
            p,
            hooks or Hooks(),
            clock=self._clock,
            sshd_deadline_s=self._sshd_timeout_s,
        )

    def stop(self, p: StopParams, hooks: Hooks | None = None) -> StopResult:
        check_names(p)
        return stop.stop(self.engines, p, hooks or Hooks())

    def status(self, p: StatusParams, hooks: Hooks | None = None) -> StatusResult:
        check_names(p)
        config = UserConfig.load()
        engines = self._engines_for(config)
        return status.status(engines, p, self._resources, config, clock=self._clock)

    def list(self, p: ListParams, hooks: Hooks | None = None) -> ListResult:
        return inventory.list_containers(self.engines, p)

    def gc(self, p: GcParams, hooks: Hooks | None = None) -> GcResult:
        return gc.gc(self.engines, p, hooks or Hooks(), clock=self._clock)

    def keep(self, p: KeepParams, hooks: Hooks | None = None) -> KeepResult:
        check_names(p)
        config = UserConfig.load()
        return keep.keep(self._engines_for(config), p, config)

    def config_get(self, p: ConfigGetParams, hooks: Hooks | None = None) -> ConfigGetResult:
        workspace = normalize_path(p.workspace or ".")
        value, source = config_get(p.key, workspace)
        return ConfigGetResult(key=p.key, value=value, source=source)

    def doctor(self, p: DoctorParams, hooks: Hooks | None = None) -> DoctorResult:
        """Never fails for a broken config: `engines` is passed uncalled, doctor reports it."""
        return doctor.doctor(lambda: self.engines, p)

    def ssh_cleanup(self, p: SshCleanupParams, hooks: Hooks | None = None) -> SshCleanupResult:
        return cleanup_stale(self.engines, dry_run=p.dry_run)

    def close(self) -> None:
        if self._engines is not None:
            self._engines.close()
