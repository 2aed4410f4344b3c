"""`run`'s decisions, pure: from what was found to what to do (or why not).

`decide_run` is the whole decision table: no container → create; `fresh`/`reset` →
recreate; otherwise the container must be in a state `run` can use as it is, then
running → attach and stopped → start. A container mounting another data volume than the
resolved one is used as it is, with a warning (and the mismatch as data), unless the
volume was requested explicitly (`dataVolume`, or a config file named for the call): then
it is refused, as the original does.
A stopped container whose SSH port someone else took meanwhile is recreated instead
(`move_port`). Creating needs the image and an isolation runtime (`image_missing`,
`choose_isolation`), checked before anything is removed. Nothing here does I/O;
`service.run` gathers the facts and carries the plan out.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import ClassVar, Literal

from containai_rpc.core.naming import hostname_for
from containai_rpc.core.states import REUSABLE
from containai_rpc.engine import ContainerInfo, CreateSpec, EngineInfo
from containai_rpc.engine.models import (
    IMAGE_SSH_LABEL,
    KEEP_LABEL,
    MANAGED_LABEL,
    PORT_LABEL,
    VOLUME_LABEL,
    WORKSPACE_LABEL,
)
from containai_rpc.errors import DomainError, Reason, conflicting
from containai_rpc.protocol.models import RunAction, RunParams, VolumeMismatch
from containai_rpc.workspace.config import Settings
from containai_rpc.workspace.limits import cpus_limit, memory_limit


def check_options(p: RunParams) -> None:
    """Mutually exclusive options, refused before anything is looked up."""
    fresh = p.fresh or p.restart
    if p.reset and fresh:
        raise conflicting(
            "reset",
            "fresh",
            hint="fresh recreates the container with the same volume; "
            "reset generates a new volume.",
        )
    if p.reset and p.container:
        raise conflicting("reset", "container")
    if p.reset and p.data_volume:
        raise conflicting(
            "reset",
            "dataVolume",
            hint="reset generates a new unique volume name; use dataVolume alone to pick a volume.",
        )
    if p.container and p.workspace:
        raise conflicting("container", "workspace")
    if p.container and p.data_volume:
        raise conflicting("container", "dataVolume")


@dataclass(frozen=True)
class Refusal:
    """A decision not to act, as the error the request fails with."""

    reason: Reason
    message: str
    hint: str | None = None
    details: tuple[tuple[str, object], ...] = ()  # extra `data` fields of the error

    def error(self) -> DomainError:
        return DomainError(self.reason, self.message, hint=self.hint, **dict(self.details))


@dataclass(frozen=True)
class RunFacts:
    """What `run` found (under the workspace lock) before deciding.

    `name`: what the request calls the container — `--container`'s name, the existing
    container's, or for a new one the free name (`notes`: what that left alone).
    """

    workspace: str
    existing: ContainerInfo | None
    name: str
    volume: str
    volume_source: str
    image: str
    notes: tuple[str, ...] = ()
    strict_volume: bool = False  # a config file was named: a mismatch refuses, as with dataVolume
    repo_volume: RepoVolume | None = None
    """Set when a repository's config chose `volume`: what the engine says about it."""


@dataclass(frozen=True)
class RepoVolume:
    """A data volume chosen by a repository's `.containai/config.toml` (it comes with the
    code, not from the user): mounted only if new, ContainAI's (`containai.managed=true`)
    or approved (`approveVolume`, recorded as the workspace state's `data_volume`, which
    then wins), never while a container that is not ContainAI's mounts it."""

    config: str
    exists: bool
    managed: bool = False
    foreign_users: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Plan:
    """What `run` is about to do; also the whole answer of a dry run."""

    action: ClassVar[RunAction]
    workspace: str
    name: str
    volume: str
    volume_source: str
    image: str
    warnings: tuple[str, ...] = ()
    mismatch: VolumeMismatch | None = None
    """Attach/start only: the container mounts `volume`, not the resolved one."""

    @property
    def container(self) -> ContainerInfo | None:
        """The container as it was before `run` (None: there was none)."""
        return None


@dataclass(frozen=True, kw_only=True)
class Create(Plan):
    action: ClassVar[RunAction] = "create"


@dataclass(frozen=True, kw_only=True)
class _Existing(Plan):
    existing: ContainerInfo

    @property
    def container(self) -> ContainerInfo | None:
        return self.existing


@dataclass(frozen=True, kw_only=True)
class Recreate(_Existing):
    """Remove and create again (same name, same volume unless `reset`)."""

    action: ClassVar[RunAction] = "recreate"


@dataclass(frozen=True, kw_only=True)
class Start(_Existing):
    action: ClassVar[RunAction] = "start"


@dataclass(frozen=True, kw_only=True)
class Attach(_Existing):
    action: ClassVar[RunAction] = "attach"


RunPlan = Create | Recreate | Start | Attach
Reuse = Start | Attach
"""The plans that keep the existing container as it is."""


def decide_run(p: RunParams, facts: RunFacts) -> RunPlan | Refusal:
    """The decision table of `run` (see the module docstring)."""
    common = {
        "workspace": facts.workspace,
        "name": facts.name,
        "volume": facts.volume,
        "volume_source": facts.volume_source,
        "image": facts.image,
    }
    existing = facts.existing
    if existing is None or p.fresh or p.restart or p.reset:
        refusal = repo_volume_refusal(p, facts)
        if refusal is not None:
            return refusal
    if existing is None:
        return Create(**common, warnings=facts.notes)
    if p.fresh or p.restart or p.reset:
        return Recreate(**common, existing=existing)
    mounted = existing.mounted_volume()
    explicit = p.data_volume is not None or facts.strict_volume
    if mounted != facts.volume and (explicit or mounted is None):
        return volume_mismatch(existing, mounted, facts)
    if existing.state not in REUSABLE:
        return Refusal(
            reason="unexpectedState",
            message=f"Unexpected container state: {existing.state} ({existing.name})",
            hint="A fresh run recreates it.",
        )
    plan = (Attach if existing.running else Start)(**common, existing=existing)
    if mounted is None or mounted == facts.volume:
        return plan
    return replace(  # used as it is: the answer names the volume it really mounts
        plan,
        volume=mounted,
        volume_source="container",
        mismatch=VolumeMismatch(
            mounted=mounted, requested=facts.volume, source=facts.volume_source
        ),
        warnings=(mismatch_warning(existing, mounted, facts),),
    )


def repo_volume_refusal(p: RunParams, facts: RunFacts) -> Refusal | None:
    """A repository's config must not mount someone else's volume (see `RepoVolume`)."""
    found = facts.repo_volume
    if found is None or not found.exists:
        return None
    volume = facts.volume
    if found.foreign_users:
        users = ", ".join(found.foreign_users)
        return Refusal(
            reason="volumeNotApproved",
            message=f"Data volume '{volume}', chosen by {found.config}, is mounted by "
            f"containers that are not ContainAI's ({users}); it is not used",
            hint="Remove the data volume setting from that file, or pass dataVolume to "
            "choose a volume yourself.",
        )
    if found.managed or p.approve_volume:
        return None
    return Refusal(
        reason="volumeNotApproved",
        message=f"Data volume '{volume}', chosen by {found.config}, exists but was not "
        "created by ContainAI; a repository's config may not mount it without your approval",
        hint="If you trust this volume for this workspace, run again with approveVolume "
        "(remembered for the workspace); otherwise remove the setting from that file or pass "
        "dataVolume.",
        details=(("volume", volume), ("approvable", True)),
    )


def volume_mismatch(existing: ContainerInfo, mounted: str | None, facts: RunFacts) -> Refusal:
    """An explicitly requested volume the container does not mount (or none mounted):
    the original's refusal, in its words."""
    verb = "attachment" if existing.running else "start"
    return Refusal(
        reason="volumeMismatch",
        message=f"Data volume mismatch: container '{existing.name}' is running with "
        f"'{mounted or '<none>'}', '{facts.volume}' ({facts.volume_source}) was requested. "
        f"Volume mismatch prevents {verb}.",
        hint="A fresh run recreates the container on the requested volume "
        "(the current volume is kept).",
    )


def mismatch_warning(existing: ContainerInfo, mounted: str, facts: RunFacts) -> str:
    """The sentence `run` warns with when it uses a mismatching container anyway."""
    done = "attached to it" if existing.running else "started it"
    return (
        f"Data volume mismatch: container '{existing.name}' mounts '{mounted}', "
        f"'{facts.volume}' ({facts.volume_source}) was requested; {done} as it is "
        f"(a fresh run recreates it on '{facts.volume}', keeping '{mounted}')"
    )


def move_port(plan: Start, taken: int | None) -> Start | Recreate:
    """A stopped container whose SSH port another process holds now is recreated on a new
    port (its data volume is kept); the answer says so."""
    if taken is None:
        return plan
    note = (
        f"SSH port {taken} is in use by another process: container {plan.name} was "
        "recreated with a new port (its data volume is kept)"
    )
    return Recreate(
        workspace=plan.workspace,
        name=plan.name,
        volume=plan.volume,
        volume_source=plan.volume_source,
        image=plan.image,
        existing=plan.existing,
        warnings=(*plan.warnings, note),
        mismatch=plan.mismatch,
    )


# --------------------------------------------------------------------------- creating


def image_missing(image: str, context: str) -> Refusal:
    return Refusal(
        reason="imageNotFound",
        message=f"Image not found: {image} (context {context})",
        hint="Build it with scripts/images.sh (in a containai-rpc checkout) or pull it into "
        "this context.",
    )


Isolation = tuple[Literal["sysbox-runc", "runc"], bool]


def choose_isolation(has_sysbox: bool, allowed_reduced: bool, context: str) -> Isolation | Refusal:
    """(runtime, reduced): Sysbox when offered, else runc only with an explicit opt-in."""
    if has_sysbox:
        return "sysbox-runc", False
    if allowed_reduced:
        return "runc", True
    return Refusal(
        reason="isolationUnavailable",
        message=f"No isolation available: the engine of context '{context}' has no sysbox-runc",
        hint="Install Sysbox (doctor shows what is missing), or opt in to reduced isolation "
        "with allowReducedIsolation or [isolation] allow_reduced = true.",
    )


@dataclass(frozen=True)
class Preflight:
    """What creating needs and can fail on, checked before anything is removed."""

    image_labels: dict[str, str]
    runtime: str
    reduced: bool

    @property
    def wants_ssh(self) -> bool:
        """Images labelled `containai.image.ssh=false` get no SSH port."""
        return self.image_labels.get(IMAGE_SSH_LABEL) != "false"


def create_spec(
    plan: Create | Recreate,
    p: RunParams,
    settings: Settings,
    ready: Preflight,
    engine: EngineInfo,
    *,
    port: int | None,
    tz: str,
) -> CreateSpec:
    """The container `run` creates: our labels, limits (half the engine by default)."""
    labels = {MANAGED_LABEL: "true", WORKSPACE_LABEL: plan.workspace, VOLUME_LABEL: plan.volume}
    if p.keep:
        labels[KEEP_LABEL] = "true"
    if port is not None:
        labels[PORT_LABEL] = str(port)
    return CreateSpec(
        name=plan.name,
        image=plan.image,
        hostname=hostname_for(plan.name),
        workspace=plan.workspace,
        data_volume=plan.volume,
        labels=labels,
        ssh_port=port,
        runtime=ready.runtime,
        reduced_isolation=ready.reduced,
        memory=memory_limit(settings.memory, "memory" in settings.repo_limits, engine.mem_total),
        cpus=cpus_limit(settings.cpus, "cpus" in settings.repo_limits, engine.ncpu),
        environment={"CAI_HOST_WORKSPACE": plan.workspace, "TZ": tz},
    )


def cpus_beyond_engine(settings: Settings, engine: EngineInfo) -> Refusal | None:
    """The engine refuses more CPUs than it has: said before anything is removed."""
    if settings.cpus is None or settings.cpus <= engine.ncpu:
        return None
    return Refusal(
        reason="configInvalid",
        message=f"[container] cpus = {settings.cpus:g} is more than the engine of context "
        f"'{engine.context}' has ({engine.ncpu})",
        hint=f"Set [container] cpus to at most {engine.ncpu}.",
    )


# --------------------------------------------------------------------------- afterwards


def state_record(
    plan: RunPlan, p: RunParams, *, volume_from_env: bool, now: datetime, context: str
) -> dict[str, str | None]:
    """What the workspace state records after a run: always the container's name and
    context; the volume when it was chosen explicitly (or by a reset, with its time), or
    when the state had none (then the volume mounted, as the original does), so the next
    run finds the same one. A volume a repository's config chose is recorded only when
    approved (`approveVolume`), as the approval: the repository's wish alone never sticks."""
    values: dict[str, str | None] = {"container_name": plan.name, "context": context}
    source = plan.mismatch.source if plan.mismatch is not None else plan.volume_source
    if source == "repo-local" and not p.reset and not p.data_volume:
        if p.approve_volume and plan.mismatch is None:
            values["data_volume"] = plan.volume  # the approval: the state's volume wins now
        return values
    if p.reset:
        values["data_volume"] = plan.volume
        values["created_at"] = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    elif p.data_volume or (source != f"workspace:{plan.workspace}" and not volume_from_env):
        values["data_volume"] = plan.volume
    return values


_DONE = {"create": "created", "recreate": "recreated", "start": "started"}


def cancelled_after_change(plan: Create | Recreate | Start) -> str:
    """The warning of a run cancelled past its point of no return: the result says what
    was done, and that the container was left unverified."""
    return (
        f"Cancelled after container {plan.name} was {_DONE[plan.action]}: it is left as it "
        "is (not verified); run again to verify it"
    )
