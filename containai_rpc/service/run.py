"""`run`: create if missing, start if stopped, attach if running; fresh and reset."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from containai_rpc.core.naming import hostname_for, validate_container_name, validate_volume_name
from containai_rpc.engine import ContainerInfo, CreateSpec, Engine
from containai_rpc.engine.models import (
    IMAGE_SSH_LABEL,
    KEEP_LABEL,
    MANAGED_LABEL,
    PORT_LABEL,
    VOLUME_LABEL,
    WORKSPACE_LABEL,
)
from containai_rpc.errors import DomainError
from containai_rpc.protocol.models import RunParams, RunResult
from containai_rpc.service.hooks import Hooks
from containai_rpc.service.resolve import (
    find_for_workspace,
    free_name,
    left_alone,
    require_managed,
)
from containai_rpc.service.summary import guide_status, isolation_of, to_summary
from containai_rpc.service.verify import verify_start, wait_running
from containai_rpc.ssh.access import remove_access
from containai_rpc.ssh.ports import allocate, port_allocation, taken_port
from containai_rpc.workspace.config import Settings, load_settings, resolve_data_volume
from containai_rpc.workspace.locks import locked
from containai_rpc.workspace.paths import normalize_path, workspace_reset_volume_name
from containai_rpc.workspace.state import set_keep, update_workspace_state


@dataclass
class Plan:
    """What `run` is about to do; also the whole answer of a dry run."""

    workspace: str
    name: str
    existing: ContainerInfo | None
    volume: str
    volume_source: str
    image: str
    recreate: bool


def _conflicts(p: RunParams) -> None:
    fresh = p.fresh or p.restart
    if p.reset and fresh:
        raise DomainError(
            "conflictingOptions",
            "--reset and --fresh are mutually exclusive",
            hint="--fresh recreates the container with the same volume; "
            "--reset generates a new volume.",
        )
    if p.reset and p.container:
        raise DomainError("conflictingOptions", "--reset and --container are mutually exclusive")
    if p.reset and p.data_volume:
        raise DomainError(
            "conflictingOptions",
            "--reset and --data-volume are mutually exclusive",
            hint="--reset generates a new unique volume name; use --data-volume alone "
            "to pick a volume.",
        )
    if p.container and p.workspace:
        raise DomainError(
            "conflictingOptions", "--container and --workspace are mutually exclusive"
        )
    if p.container and p.data_volume:
        raise DomainError(
            "conflictingOptions", "--container and --data-volume are mutually exclusive"
        )


def _plan(engine: Engine, p: RunParams, settings: Settings, cwd: str) -> Plan:
    recreate = p.fresh or p.restart or p.reset
    image = p.image or settings.image
    if p.container:
        name = validate_container_name(p.container)
        info = engine.inspect(name)
        if info is not None:
            require_managed(info)
            if not info.workspace or not info.data_volume:
                missing = "workspace" if not info.workspace else "data-volume"
                raise DomainError("notManaged", f"Container {name} is missing its {missing} label")
            return Plan(info.workspace, name, info, info.data_volume, "container", image, recreate)
        workspace = normalize_path(cwd)
        volume, source = resolve_data_volume(workspace)
        return Plan(workspace, name, None, volume, source, image, recreate)
    workspace = normalize_path(p.workspace or cwd)
    found = find_for_workspace(engine, workspace)
    if p.reset:
        volume, source = workspace_reset_volume_name(workspace), "reset"
    else:
        volume, source = resolve_data_volume(workspace, explicit=p.data_volume)
    validate_volume_name(volume)
    return Plan(workspace, found.name, found.container, volume, source, image, recreate)


def _check_volume(plan: Plan) -> None:
    """An existing container must mount the volume we would mount (spec §6.2)."""
    info = plan.existing
    if info is None or plan.recreate:
        return
    mounted = info.mounted_volume()
    if mounted != plan.volume:
        raise DomainError(
            "volumeMismatch",
            f"Container '{info.name}' mounts data volume '{mounted or '<none>'}' but "
            f"'{plan.volume}' ({plan.volume_source}) was requested",
            hint="Use fresh to recreate the container on the requested volume "
            "(the current volume is kept).",
        )


def _isolation(engine: Engine, p: RunParams, settings: Settings) -> tuple[str, bool]:
    """(runtime, reduced): Sysbox when offered, else runc only with an explicit opt-in."""
    if engine.info().has_sysbox:
        return "sysbox-runc", False
    if p.allow_reduced_isolation or settings.allow_reduced_isolation:
        return "runc", True
    raise DomainError(
        "isolationUnavailable",
        f"No isolation available: the engine of context '{engine.context}' has no sysbox-runc",
        hint="Install Sysbox (see 'cai doctor'), or opt in to reduced isolation with "
        "CONTAINAI_ALLOW_REDUCED_ISOLATION=1 or [isolation] allow_reduced = true.",
    )


@dataclass(frozen=True)
class Preflight:
    """What creating needs and can fail on, checked before anything is removed."""

    image_labels: dict[str, str]
    runtime: str
    reduced: bool


def _preflight(engine: Engine, plan: Plan, p: RunParams, settings: Settings) -> Preflight:
    """Image present and isolation allowed: a fresh that would fail must not remove first."""
    image_labels = engine.image_labels(plan.image)
    if image_labels is None:
        raise DomainError(
            "imageNotFound",
            f"Image not found: {plan.image} (context {engine.context})",
            hint="Build it with 'make setup' (scripts/images.sh) or pull it into this context.",
        )
    runtime, reduced = _isolation(engine, p, settings)
    return Preflight(image_labels, runtime, reduced)


def _create(
    engine: Engine, plan: Plan, p: RunParams, settings: Settings, ready: Preflight, hooks: Hooks
) -> ContainerInfo:
    image_labels, runtime, reduced = ready.image_labels, ready.runtime, ready.reduced
    hooks.progress(f"Preparing data volume {plan.volume}")
    engine.ensure_volume(plan.volume)
    wants_ssh = image_labels.get(IMAGE_SSH_LABEL) != "false"
    labels = {
        MANAGED_LABEL: "true",
        WORKSPACE_LABEL: plan.workspace,
        VOLUME_LABEL: plan.volume,
    }
    if p.keep:
        labels[KEEP_LABEL] = "true"
        set_keep(plan.name, None)  # a stale release of an old same-named container must not win
    hooks.progress(f"Creating container {plan.name}")
    with port_allocation():
        port = None
        if wants_ssh:
            port = allocate(engine, settings.ssh_port_range)
            labels[PORT_LABEL] = str(port)
        spec = CreateSpec(
            name=plan.name,
            image=plan.image,
            hostname=hostname_for(plan.name),
            workspace=plan.workspace,
            data_volume=plan.volume,
            labels=labels,
            ssh_port=port,
            runtime=runtime,
            reduced_isolation=reduced,
            memory=settings.memory or f"{max(2, engine.info().mem_total // 2**30 // 2)}g",
            cpus=settings.cpus or float(max(1, engine.info().ncpu // 2)),
            environment={"CAI_HOST_WORKSPACE": plan.workspace, "TZ": _host_tz()},
        )
        info = engine.create(spec)
        hooks.progress(f"Starting container {plan.name}")
        engine.start(info.id)
    return info


def _host_tz() -> str:
    try:
        with open("/etc/timezone", encoding="utf-8") as f:
            tz = f.read().strip()
            if tz:
                return tz
    except OSError:
        pass
    try:
        target = os.readlink("/etc/localtime")
    except OSError:
        return "UTC"
    return target.split("zoneinfo/", 1)[1] if "zoneinfo/" in target else "UTC"


def _remove_for_recreate(engine: Engine, info: ContainerInfo, hooks: Hooks) -> None:
    hooks.progress(f"Removing container {info.name} (the data volume is kept)")
    if info.running:
        engine.stop(info.id)
    engine.remove(info.id, force=True)
    remove_access(info.name, info.ssh_port)


def _workspace_of(engine: Engine, p: RunParams, cwd: str) -> str:
    """The workspace the run is about: an existing managed `--container`'s label, else the
    given or current directory (a new `--container` is created for the current one)."""
    if p.container:
        info = engine.inspect(p.container)
        if info is not None and info.managed and info.workspace:
            return info.workspace
        return normalize_path(cwd)
    return normalize_path(p.workspace or cwd)


def run(engine: Engine, p: RunParams, hooks: Hooks, *, cwd: str | None = None) -> RunResult:
    """The whole `run` request; serialised per workspace across processes."""
    _conflicts(p)
    cwd = cwd or os.getcwd()
    workspace = _workspace_of(engine, p, cwd)
    settings = load_settings(workspace)
    with locked(workspace):  # the key stop and gc take too (`resolve.lock_key`)
        plan = _plan(engine, p, settings, cwd)
        if not plan.recreate:
            _check_volume(plan)
        existing = plan.existing
        unexpected = existing is not None and existing.state not in ("running", "exited", "created")
        if unexpected and not plan.recreate:
            assert existing is not None
            raise DomainError(
                "unexpectedState",
                f"Unexpected container state: {existing.state} ({existing.name})",
                hint="Use fresh to recreate it.",
            )
        if existing is None:
            action = "create"
        elif plan.recreate:
            action = "recreate"
        else:
            action = "attach" if existing.running else "start"
        if p.dry_run:
            return _result(engine, plan, action, existing, dry_run=True)
        hooks.checkpoint()
        started = time.monotonic()
        warnings: list[str] = []
        port = taken_port(engine, existing) if action == "start" and existing else None
        if port is not None:
            action = "recreate"
            warnings.append(
                f"SSH port {port} is in use by another process: container {plan.name} was "
                "recreated with a new port (its data volume is kept)"
            )
        if action == "recreate":
            assert existing is not None
            ready = _preflight(engine, plan, p, settings)
            _remove_for_recreate(engine, existing, hooks)
            plan.name = existing.name if not p.container else plan.name
            if p.reset:  # written ahead: a reset cut short still leads to its new volume
                _record_state(plan, p)
            info = _create(engine, plan, p, settings, ready, hooks)
        elif action == "create":
            ready = _preflight(engine, plan, p, settings)
            if p.container is None:
                plan.name = free_name(engine, plan.name, plan.workspace)
                warnings += left_alone(engine, plan.workspace, plan.name)
            info = _create(engine, plan, p, settings, ready, hooks)
        elif action == "start":
            assert existing is not None
            hooks.progress(f"Starting container {existing.name}")
            engine.start(existing.id)
            info = existing
        else:
            assert existing is not None
            info = existing
        # No safe point between removing an old container and starting its replacement:
        # a cancel takes effect only here, once the container is whole, and says so.
        try:
            info = wait_running(engine, info.id, hooks)
            _record_state(plan, p)
            ssh, checked = verify_start(engine, info, settings, action, hooks)
        except DomainError as exc:
            if exc.reason != "cancelled" or action == "attach":
                raise
            _record_state(plan, p)  # it is the workspace's container now (reset: new volume)
            raise DomainError(
                "cancelled",
                f"Cancelled while verifying: container {plan.name} was {_DONE[action]} and "
                "is left as it is (not verified)",
                hint="Run again to verify it.",
                container=plan.name,
            ) from exc
        hooks.progress(f"{plan.name} is running ({time.monotonic() - started:.1f} s)")
        result = _result(engine, plan, action, info, dry_run=False)
        return result.model_copy(update={"ssh": ssh, "warnings": warnings + checked or None})


_DONE = {"create": "created", "recreate": "recreated", "start": "started"}


def _record_state(plan: Plan, p: RunParams) -> None:
    """What the original writes after a successful run (spec §3.3, §8.2)."""
    values: dict[str, str | None] = {"container_name": plan.name}
    if p.reset:
        values["data_volume"] = plan.volume
        values["created_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    elif p.data_volume or (
        plan.volume_source != f"workspace:{plan.workspace}"
        and "CONTAINAI_DATA_VOLUME" not in os.environ
    ):
        values["data_volume"] = plan.volume
    update_workspace_state(plan.workspace, **values)


def _result(
    engine: Engine, plan: Plan, action: str, info: ContainerInfo | None, *, dry_run: bool
) -> RunResult:
    return RunResult(
        action=action,  # type: ignore[arg-type]
        container_name=plan.name,
        workspace=plan.workspace,
        data_volume=plan.volume,
        data_volume_source=plan.volume_source,
        image=plan.image if info is None or (dry_run and plan.recreate) else info.image,
        context=engine.context,
        state=guide_status(info.state) if info is not None else "absent",
        isolation=isolation_of(info) if info is not None else None,  # type: ignore[arg-type]
        dry_run=dry_run,
        container=to_summary(info) if info is not None else None,
    )
