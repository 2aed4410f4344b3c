"""`run`: create if missing, start if stopped, attach if running; fresh and reset.

The request is serialised per workspace across processes. Under that lock it reads the
user config once, gathers the facts (`gather`), lets `run_decide.decide_run` choose, and
carries the plan out; only then does it verify the container (`verify`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from containai_rpc.core.clock import Clock, system_clock
from containai_rpc.core.idle import format_period
from containai_rpc.core.naming import validate_container_name, validate_volume_name
from containai_rpc.core.states import guide_status
from containai_rpc.engine import ContainerInfo, Engine, EngineSet
from containai_rpc.errors import DomainError
from containai_rpc.protocol.models import RunParams, RunResult, SshEndpoint
from containai_rpc.service.cleanup import forget_removed
from containai_rpc.service.hooks import Hooks
from containai_rpc.service.idle import idle_environment, idle_period, touch
from containai_rpc.service.placement import refuse_elsewhere, refuse_name_elsewhere
from containai_rpc.service.resolve import (
    NewName,
    find_named,
    locate_workspace,
    name_to_create,
    own_container,
)
from containai_rpc.service.run_decide import (
    Attach,
    Create,
    Preflight,
    Recreate,
    Refusal,
    RepoVolume,
    Reuse,
    RunFacts,
    RunPlan,
    Start,
    cancelled_after_change,
    check_options,
    choose_isolation,
    cpus_beyond_engine,
    create_spec,
    decide_run,
    image_missing,
    move_port,
    state_record,
)
from containai_rpc.service.run_limits import (
    cpus_beyond_request,
    limits_differ,
    requested_limits,
)
from containai_rpc.service.session_command import run_session
from containai_rpc.service.summary import KeepPolicy, isolation_of, to_summary
from containai_rpc.service.templates import (
    ImageChoice,
    build_template,
    choose_image,
    outdated_warning,
    template_refusal,
    with_outdated,
)
from containai_rpc.service.verify import SSHD_DEADLINE_S, verify_start, wait_running
from containai_rpc.ssh.ports import allocate, port_allocation, ports_elsewhere, taken_port
from containai_rpc.workspace.config import Settings
from containai_rpc.workspace.locks import locked
from containai_rpc.workspace.paths import (
    check_workspace_allowed,
    current_dir,
    normalize_path,
    workspace_reset_volume_name,
)
from containai_rpc.workspace.repoconfig import find_repo_config
from containai_rpc.workspace.state import explicit_config_file, set_keep, update_workspace_state
from containai_rpc.workspace.userconfig import UserConfig


@dataclass(frozen=True)
class RunContext:
    """One `run` request's inputs besides its params."""

    engine: Engine
    p: RunParams
    hooks: Hooks
    settings: Settings
    keep: KeepPolicy
    clock: Clock
    sshd_deadline_s: float
    choice: ImageChoice
    idle_s: int = 0
    """The idle auto-stop period the container gets (0: off)."""
    other_ports: Callable[[], set[int]] = set  # SSH ports in use on the other engines


def run(
    engines: EngineSet,
    p: RunParams,
    hooks: Hooks,
    *,
    cwd: str | None = None,
    clock: Clock = system_clock,
    sshd_deadline_s: float = SSHD_DEADLINE_S,
) -> RunResult:
    """The whole `run` request; serialised per workspace across processes."""
    check_options(p)
    cwd = cwd or current_dir()
    workspace = lock_workspace(engines, p, cwd)
    check_workspace_allowed(workspace, allow_system=p.allow_system_workspace)
    with locked(workspace):  # the key stop and gc take too (`resolve.lock_key`)
        config = UserConfig.load()
        settings = requested_limits(p, config.settings(workspace))
        idle_s = idle_period(p, config.workspace_state(workspace), settings)
        choice = choose_image(p, settings)
        engine, facts = gather(engines, p, config, settings, cwd, choice.image)
        plan = decide_run(p, facts)
        if isinstance(plan, Refusal):
            raise plan.error()
        mismatch = template_refusal(choice, plan.existing) if isinstance(plan, Reuse) else None
        if mismatch is not None:
            raise mismatch
        if p.dry_run:
            return result(engine, plan, plan.container, KeepPolicy.of(config), dry_run=True)
        hooks.checkpoint()
        elsewhere = lambda: ports_elsewhere(engines, engine.context)  # noqa: E731
        keep = KeepPolicy.of(config)
        ctx = RunContext(
            engine, p, hooks, settings, keep, clock, sshd_deadline_s, choice, idle_s, elsewhere
        )
        return execute(ctx, plan)


def lock_workspace(engines: EngineSet, p: RunParams, cwd: str) -> str:
    """The workspace the run is about, which names its lock: an existing managed
    `--container`'s label (in any context we manage), else the given or current
    directory (a new `--container` is created for the current one). The container is
    read again under the lock: a concurrent `fresh` may have replaced it meanwhile."""
    if p.container:
        found = find_named(engines, p.container, p.context)
        if found is not None and found[1].workspace:
            return found[1].workspace
        return normalize_path(cwd)
    return normalize_path(p.workspace or cwd)


def gather(
    engines: EngineSet, p: RunParams, config: UserConfig, settings: Settings, cwd: str, image: str
) -> tuple[Engine, RunFacts]:
    """The engine the container is (or goes) in, and the facts `decide_run` needs: the
    container, its name, the volume; `image` for a new one. An existing container is
    looked for in every context we manage unless the request names one; a new one goes to
    the requested context, else the selected one."""
    if p.container:
        name = validate_container_name(p.container)
        found = find_named(engines, name, p.context)
        if found is None and p.context:
            refuse_name_elsewhere(engines, name, p.context)
        if found is None:
            workspace = normalize_path(cwd)
            volume, source = config.data_volume(workspace)
            engine = engines.get(p.context)
            chosen = repo_volume(engine, workspace, volume, source)
            facts = RunFacts(workspace, None, name, volume, source, image, repo_volume=chosen)
            return engine, facts
        engine, info = found
        if not info.workspace or not info.data_volume:
            missing = "workspace" if not info.workspace else "data-volume"
            raise DomainError("notManaged", f"Container {name} is missing its {missing} label")
        return engine, RunFacts(info.workspace, info, name, info.data_volume, "container", image)
    workspace = normalize_path(p.workspace or cwd)
    state = config.workspace_state(workspace)
    located = locate_workspace(engines, workspace, state, p.context)
    engine, match = located.engine, located.match
    existing = own_container(match)
    if existing is None and p.context and not match.several:
        refuse_elsewhere(engines, workspace, state, p.context)
    new = NewName(existing.name) if existing is not None else name_to_create(engine, match)
    if p.reset:
        volume, source = workspace_reset_volume_name(workspace), "reset"
    else:
        volume, source = config.data_volume(workspace, explicit=p.data_volume)
    validate_volume_name(volume)
    strict = explicit_config_file() is not None
    return engine, RunFacts(
        workspace,
        existing,
        new.name,
        volume,
        source,
        image,
        new.notes,
        strict_volume=strict,
        repo_volume=repo_volume(engine, workspace, volume, source),
    )


def repo_volume(engine: Engine, workspace: str, volume: str, source: str) -> RepoVolume | None:
    """What the engine says about a volume a repository's config chose (else None)."""
    if source != "repo-local":
        return None
    config = str(find_repo_config(workspace) or "the repository's .containai/config.toml")
    found = engine.volume_info(volume)
    if found is None:
        return RepoVolume(config, exists=False)
    return RepoVolume(config, exists=True, managed=found.managed, foreign_users=found.foreign_users)


def execute(ctx: RunContext, plan: RunPlan) -> RunResult:
    """Carry the plan out, then verify.

    A cancel takes effect at the next step boundary before any further change (a
    `hooks.checkpoint()` ahead of each: removing the old container, preparing the volume,
    creating, starting) and then nothing more was changed. The point of no return is the
    first change to a container (removing the old one, creating, starting); past it a
    cancel only cuts the verification short, and the answer is the normal result, saying
    what was done and that it was not verified."""
    engine, hooks = ctx.engine, ctx.hooks
    started = time.monotonic()
    if isinstance(plan, Start):
        plan = move_port(plan, taken_port(engine, plan.existing))
    if isinstance(plan, Create | Recreate) and ctx.choice.template is not None:
        hooks.checkpoint()  # the build changes no container: a failure leaves it as it is
        ctx = replace(ctx, choice=build_template(engine, ctx.choice, ctx.settings, hooks))
    if isinstance(plan, Recreate):
        info = recreate(ctx, plan)
    elif isinstance(plan, Create):
        info = create(ctx, plan, preflight(ctx, plan))
    elif isinstance(plan, Start):
        hooks.checkpoint()
        hooks.progress(f"Starting container {plan.existing.name}")
        engine.start(plan.existing.id)
        info = plan.existing
    else:
        info = plan.existing
    ssh, checked = None, []
    try:
        info = wait_running(engine, info.id, hooks)
        record_state(ctx, plan)
        ssh, checked = verify_start(
            engine, info, ctx.settings, plan.action, hooks, sshd_deadline_s=ctx.sshd_deadline_s
        )
    except DomainError as exc:
        if exc.reason != "cancelled" or isinstance(plan, Attach):
            raise  # attach changed nothing: a cancel is a plain -32800
        record_state(ctx, plan)  # it is the workspace's container now (reset: new volume)
        info = engine.inspect(info.id) or info
        checked = [cancelled_after_change(plan)]
    else:
        hooks.progress(f"{plan.name} is running ({time.monotonic() - started:.1f} s)")
        touch(engine, info.id, ctx.idle_s, ctx.settings.idle_check_s)  # a run is activity
    return finished(ctx, plan, info, ssh, checked)


def finished(
    ctx: RunContext, plan: RunPlan, info: ContainerInfo, ssh: SshEndpoint | None, checked: list[str]
) -> RunResult:
    """The answer: the container as it is now, its session, and what the caller should know
    (an outdated template, limits other than asked, a check that failed)."""
    created = ctx.p.keep and isinstance(plan, Create | Recreate)
    keep = ctx.keep.with_entry(plan.name, None) if created else ctx.keep  # as `create` wrote
    answer = result(ctx.engine, plan, info, keep, dry_run=False)
    stale = answer.container if isinstance(plan, Reuse) else None
    outdated = [outdated_warning(stale)] if stale is not None and stale.outdated else []
    differ = limits_differ(ctx.p, info) if isinstance(plan, Reuse) else None
    warnings = [*ctx.choice.warnings, *plan.warnings, *outdated, *checked]
    warnings += [differ] if differ else []
    session = run_session(ctx.p, ctx.settings, info)
    return answer.model_copy(update={"ssh": ssh, "warnings": warnings or None, "session": session})


def preflight(ctx: RunContext, plan: Create | Recreate) -> Preflight:
    """Image present and isolation allowed: a fresh that would fail must not remove first."""
    engine = ctx.engine
    labels = engine.image_labels(plan.image)
    if labels is None:
        raise image_missing(plan.image, engine.context).error()
    allowed = ctx.p.allow_reduced_isolation or ctx.settings.allow_reduced_isolation
    isolation = choose_isolation(engine.info().has_sysbox, allowed, engine.context)
    if isinstance(isolation, Refusal):
        raise isolation.error()
    asked_too_many = cpus_beyond_request(ctx.p, engine.info().ncpu, engine.context)
    if asked_too_many is not None:
        raise asked_too_many
    too_many = cpus_beyond_engine(ctx.settings, engine.info())
    if too_many is not None:
        raise too_many.error()
    return Preflight(labels, *isolation)


def recreate(ctx: RunContext, plan: Recreate) -> ContainerInfo:
    ready = preflight(ctx, plan)
    old = plan.existing
    ctx.hooks.checkpoint()  # the last one: removing the old container commits to a new one
    ctx.hooks.progress(f"Removing container {old.name} (the data volume is kept)")
    if old.running:
        ctx.engine.stop(old.id)
    ctx.engine.remove(old.id, force=True)
    forget_removed(old, replaced=True)
    if ctx.p.reset:  # written ahead: a reset cut short still leads to its new volume
        record_state(ctx, plan)
    return create(ctx, plan, ready, committed=True)


def create(
    ctx: RunContext, plan: Create | Recreate, ready: Preflight, *, committed: bool = False
) -> ContainerInfo:
    """Volume, container (with a port chosen under the port lock), start. Until the
    container is created (unless `committed`, by a removed predecessor) a cancel stops at
    the next step and undoes the one change made so far: a volume created just now
    (empty, ours) is removed again, so nothing was changed."""
    engine, hooks = ctx.engine, ctx.hooks
    if not committed:
        hooks.checkpoint()
    hooks.progress(f"Preparing data volume {plan.volume}")
    new_volume = engine.ensure_volume(plan.volume)
    if not committed and hooks.cancelled():
        if new_volume:
            engine.remove_volume(plan.volume)
        hooks.checkpoint()
    if ctx.p.keep:
        set_keep(plan.name, None)  # a stale release of an old same-named container must not win
    hooks.progress(f"Creating container {plan.name}")
    with port_allocation():
        wants = ready.wants_ssh
        port = allocate(engine, ctx.settings.ssh_port_range, ctx.other_ports()) if wants else None
        spec = create_spec(plan, ctx.p, ctx.settings, ready, engine.info(), port=port, tz=host_tz())
        idle_env = idle_environment(ctx.idle_s, ctx.settings)
        spec = replace(spec, environment={**spec.environment, **idle_env})
        spec = replace(spec, labels={**spec.labels, **ctx.choice.labels})
        info = engine.create(spec)  # the point of no return: from here on it is started
        hooks.progress(f"Starting container {plan.name}")
        engine.start(info.id)
    return info


def host_tz() -> str:
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


def record_state(ctx: RunContext, plan: RunPlan) -> None:
    values = state_record(
        plan,
        ctx.p,
        volume_from_env="CONTAINAI_DATA_VOLUME" in os.environ,
        now=ctx.clock(),
        context=ctx.engine.context,
    )
    if ctx.p.idle_stop:  # the workspace's policy from now on
        values["idle_stop"] = format_period(ctx.idle_s)
    update_workspace_state(plan.workspace, **values)


def result(
    engine: Engine, plan: RunPlan, info: ContainerInfo | None, keep: KeepPolicy, *, dry_run: bool
) -> RunResult:
    recreating = isinstance(plan, Recreate)
    return RunResult(
        action=plan.action,
        container_name=plan.name,
        workspace=plan.workspace,
        data_volume=plan.volume,
        data_volume_source=plan.volume_source,
        image=plan.image if info is None or (dry_run and recreating) else info.image,
        context=engine.context,
        state=guide_status(info.state) if info is not None else "absent",
        isolation=isolation_of(info) if info is not None else None,
        dry_run=dry_run,
        container=with_outdated(engine, info, to_summary(info, keep)) if info else None,
        volume_mismatch=plan.mismatch,
    )
