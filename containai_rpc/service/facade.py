"""`Service`: one object the server, the CLI and tests drive the same way."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from containai_rpc.core.clock import Clock, system_clock
from containai_rpc.engine import EngineSet
from containai_rpc.engine.stats import ResourceMonitor
from containai_rpc.protocol.backup import ExportParams, ExportResult, ImportParams, ImportResult
from containai_rpc.protocol.doctor import DoctorParams, DoctorResult
from containai_rpc.protocol.gc import GcParams, GcResult, KeepParams, KeepResult
from containai_rpc.protocol.idle import PostponeIdleStopResult
from containai_rpc.protocol.models import (
    ConfigGetParams,
    ConfigGetResult,
    ListParams,
    ListResult,
    RunParams,
    RunResult,
    StatusParams,
    StatusResult,
    TargetParams,
)
from containai_rpc.protocol.ssh import SshCleanupParams, SshCleanupResult
from containai_rpc.protocol.stop import StopParams, StopResult
from containai_rpc.service import inventory, status, templates
from containai_rpc.service.hooks import Hooks
from containai_rpc.service.resolve import check_names
from containai_rpc.workspace.config import config_get
from containai_rpc.workspace.paths import normalize_path
from containai_rpc.workspace.userconfig import UserConfig

if TYPE_CHECKING:
    from containai_rpc.service.livestate import Emit, LiveState

# The operations other than list and status, and the live state, are imported when first
# used: a server started for one `cai list` answers it without loading run, stop, gc,
# backup, doctor and the SSH setup first (a third of the service's import time).


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
        sshd_timeout_s: float | None = None,
    ) -> None:
        self._engines = engines
        self._clock = clock
        self._sshd_timeout_s = sshd_timeout_s
        self._resources = ResourceMonitor()  # CPU samples live as long as the server
        self._live: LiveState | None = None

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

    # ------------------------------------------------------------------ live state

    def watch(self, loop: asyncio.AbstractEventLoop, emit: Emit) -> None:
        """Keep live state from now on: watch the managed engines' events on threads of
        their own, update the cache on `loop`, and `emit` every change (containerChanged,
        engineStatus) from there. `list` then answers from the cache."""
        if self._live is None:
            from containai_rpc.service.livestate import LiveState

            self._live = LiveState(lambda: self.engines, emit)
            self._live.start(loop)

    def unwatch(self) -> None:
        """Stop the watchers; pending changes are dropped (nothing to flush)."""
        if self._live is not None:
            self._live.stop()

    def _keep_may_have_changed(self) -> None:
        """After the requests that may write `[keep]` (run, stop, gc, keep): the live
        state rechecks it — one `stat` when the file did not change."""
        if self._live is not None:
            self._live.keep_may_have_changed()

    # ------------------------------------------------------------------ operations

    def run(self, p: RunParams, hooks: Hooks | None = None) -> RunResult:
        check_names(p)
        try:
            return self._run(p, hooks)
        finally:
            self._keep_may_have_changed()  # a re-created container drops a stale release

    def _run(self, p: RunParams, hooks: Hooks | None) -> RunResult:
        from containai_rpc.service import run

        timeout = self._sshd_timeout_s
        deadline = {} if timeout is None else {"sshd_deadline_s": timeout}  # None: run's own
        return run.run(self.engines, p, hooks or Hooks(), clock=self._clock, **deadline)

    def stop(self, p: StopParams, hooks: Hooks | None = None) -> StopResult:
        check_names(p)
        from containai_rpc.service import stop

        try:
            return stop.stop(self.engines, p, hooks or Hooks())
        finally:
            self._keep_may_have_changed()  # a removal forgets the container's keep entry

    def status(self, p: StatusParams, hooks: Hooks | None = None) -> StatusResult:
        check_names(p)
        config = UserConfig.load()
        engines = self._engines_for(config)
        return status.status(engines, p, self._resources, config, clock=self._clock)

    def list(self, p: ListParams, hooks: Hooks | None = None) -> ListResult:
        """From the live cache while it is warm (`watch`), else from the engines."""
        found = (
            self._live.list(p)
            if self._live is not None
            else inventory.list_containers(self.engines, p)
        )
        cached = self._live.cache.info if self._live is not None else None
        return templates.with_outdated_list(self.engines, found, cached)

    def gc(self, p: GcParams, hooks: Hooks | None = None) -> GcResult:
        from containai_rpc.service import gc

        try:
            return gc.gc(self.engines, p, hooks or Hooks(), clock=self._clock)
        finally:
            self._keep_may_have_changed()  # removed containers' keep entries are dropped

    def keep(self, p: KeepParams, hooks: Hooks | None = None) -> KeepResult:
        check_names(p)
        from containai_rpc.service import keep

        config = UserConfig.load()
        try:
            return keep.keep(self._engines_for(config), p, config)
        finally:
            self._keep_may_have_changed()

    def postpone_idle_stop(
        self, p: TargetParams, hooks: Hooks | None = None
    ) -> PostponeIdleStopResult:
        check_names(p)
        from containai_rpc.service import idle

        config = UserConfig.load()
        result = idle.postpone(self._engines_for(config), p, config)
        if self._live is not None:
            self._live.idle_may_have_changed()
        return result

    def config_get(self, p: ConfigGetParams, hooks: Hooks | None = None) -> ConfigGetResult:
        workspace = normalize_path(p.workspace or ".")
        value, source = config_get(p.key, workspace)
        return ConfigGetResult(key=p.key, value=value, source=source)

    def doctor(self, p: DoctorParams, hooks: Hooks | None = None) -> DoctorResult:
        """Never fails for a broken config: `engines` is passed uncalled, doctor reports it."""
        from containai_rpc.service import doctor

        return doctor.doctor(lambda: self.engines, p)

    def ssh_cleanup(self, p: SshCleanupParams, hooks: Hooks | None = None) -> SshCleanupResult:
        from containai_rpc.service.ssh_cleanup import cleanup_stale

        return cleanup_stale(self.engines, dry_run=p.dry_run)

    def export(self, p: ExportParams, hooks: Hooks | None = None) -> ExportResult:
        check_names(p)
        from containai_rpc.service import backup

        return backup.export_volume(self.engines, p, hooks or Hooks())

    def import_(self, p: ImportParams, hooks: Hooks | None = None) -> ImportResult:
        check_names(p)
        from containai_rpc.service import backup_import

        return backup_import.import_volume(self.engines, p, hooks or Hooks())

    def close(self) -> None:
        self.unwatch()
        if self._engines is not None:
            self._engines.close()
