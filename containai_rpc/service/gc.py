"""`gc`: remove stale managed containers (and, on request, unused ContainAI images).

What the original's gc (spec §10) gets wrong and this does not (design.md, "Where we
deliberately differ" 7): every managed context is scanned, not only the current one; the
image prefixes match the images ContainAI really creates; `age` is decimal (`010d` is ten
days, `08d` is valid); protection can be toggled after creation (`keep`); and each
candidate is re-checked right before it goes, so a container started meanwhile is skipped
(`startedSinceScan`) instead of failing. Removal never takes a volume (`v=False`) and
never forces: Docker itself refuses a running container or a used image.

`scan` only reads and `apply` only removes what the scan found, so the caller can ask
for confirmation in between (and tests can change the world in between).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from containai_rpc.core.ages import format_gc_age, parse_age, parse_docker_time
from containai_rpc.engine import ContainerInfo, Engine, EngineSet
from containai_rpc.engine.models import ImageInfo
from containai_rpc.errors import DomainError
from containai_rpc.protocol.gc import (
    GcContainer,
    GcFailure,
    GcImage,
    GcImages,
    GcParams,
    GcResult,
    GcSkipped,
    GcSkipReason,
)
from containai_rpc.protocol.models import ContextError
from containai_rpc.service.hooks import Hooks
from containai_rpc.service.resolve import lock_key
from containai_rpc.service.summary import KeepPolicy
from containai_rpc.ssh.access import remove_access
from containai_rpc.workspace.config import load_settings
from containai_rpc.workspace.locks import locked
from containai_rpc.workspace.state import set_keep

TEST_NOW_ENV = "CONTAINAI_TEST_NOW"
"""Test-only: an RFC 3339 time gc uses as "now", so real containers can be days old."""

IMAGE_PREFIXES = ("containai:", "containai-template-", "ghcr.io/containai/")
"""Local builds, template builds (spec §4.3) and the official registry (the guide)."""

_ACTIVE = frozenset({"running", "paused", "restarting"})
_AGE_FIELD = {"exited": "finished_at", "created": "created_at"}


def now_utc() -> datetime:
    """The gc clock: the real time, unless a test set `CONTAINAI_TEST_NOW`."""
    fake = os.environ.get(TEST_NOW_ENV)
    if not fake:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(fake)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise DomainError("configInvalid", f"{TEST_NOW_ENV} must be an RFC 3339 time: {fake!r}")
    return parsed.astimezone(UTC)


def stale_for(info: ContainerInfo, now: datetime) -> timedelta | None:
    """How long an exited (since FinishedAt) or created (since Created) container has been
    idle; None for other states and for a missing or unreadable timestamp."""
    name = _AGE_FIELD.get(info.state)
    if name is None:
        return None
    try:
        since = parse_docker_time(getattr(info, name) or "")
    except ValueError:
        return None
    return None if since is None else now - since


def classify(
    info: ContainerInfo, keep: KeepPolicy, now: datetime, age_seconds: int, age_text: str
) -> GcContainer | GcSkipped:
    """Candidate or skipped, and why (the guide's protection rules, in this order)."""
    idle = stale_for(info, now)
    seconds = None if idle is None else max(0, int(idle.total_seconds()))

    def skip(reason: GcSkipReason, with_age: bool = True) -> GcSkipped:
        shown = seconds if with_age else None
        return GcSkipped(
            id=info.id,
            name=info.name,
            context=info.context,
            docker_state=info.state,
            reason=reason,
            age=format_gc_age(shown) if shown is not None else None,
            age_seconds=shown,
        )

    if not info.managed:
        return skip("notManaged", with_age=False)
    if info.state in _ACTIVE:
        return skip("running")
    if keep.protects(info):
        return skip("keep")
    if info.state not in _AGE_FIELD:
        return skip("unsupportedState")
    if seconds is None:
        return skip("noTimestamp")
    if seconds < age_seconds:
        return skip("tooRecent")
    age = format_gc_age(seconds)
    what = "stopped" if info.state == "exited" else "created, never started,"
    return GcContainer(
        id=info.id,
        name=info.name,
        context=info.context,
        state=info.state,
        age=age,
        age_seconds=seconds,
        reason=f"{what} {age} ago (age >= {age_text})",
        workspace=info.workspace,
        data_volume=info.mounted_volume() or info.data_volume,
    )


def select_images(
    images: Iterable[ImageInfo], in_use: set[str], context: str, protected: str
) -> list[GcImage]:
    """References with our prefixes whose image no container of the engine uses (by id).

    The configured default image (`protected`) is never a candidate: removing it would
    only make the next `run` fail with imageNotFound.
    """
    return [
        GcImage(reference=tag, id=image.id, context=context, size_bytes=image.size_bytes)
        for image in images
        if image.id not in in_use
        for tag in image.tags
        if tag.startswith(IMAGE_PREFIXES) and tag != protected
    ]


@dataclass
class GcPlan:
    """What a scan found; `scanned` keeps each candidate as it was when judged."""

    params: GcParams
    age_seconds: int
    candidates: list[GcContainer] = field(default_factory=list)
    scanned: dict[str, ContainerInfo] = field(default_factory=dict)
    skipped: list[GcSkipped] = field(default_factory=list)
    images: list[GcImage] = field(default_factory=list)
    errors: list[ContextError] = field(default_factory=list)

    @property
    def question(self) -> str:
        return f"Remove {len(self.candidates)} container(s) and {len(self.images)} image(s)?"

    def result(self, *, declined: bool = False) -> GcResult:
        """The answer when nothing is removed: a dry run, a refusal or nothing to do."""
        return GcResult(
            age=self.params.age,
            age_seconds=self.age_seconds,
            dry_run=self.params.dry_run,
            declined=declined,
            candidates=list(self.candidates),
            removed=[],
            skipped=list(self.skipped),
            failed=[],
            images=GcImages(candidates=list(self.images), removed=[])
            if self.params.images
            else None,
            errors=self.errors or None,
        )


def scan(engines: EngineSet, p: GcParams, hooks: Hooks, now: datetime) -> GcPlan:
    """Judge every managed (and ContainAI-labelled) container of every managed context.

    Reads only. A context that cannot be scanned is reported in `errors`, not fatal.
    """
    plan = GcPlan(p, parse_age(p.age))  # a bad age fails before any Docker call
    keep = KeepPolicy.load()
    default_image = load_settings().image
    for context in [p.context] if p.context else engines.managed_contexts():
        hooks.checkpoint()
        hooks.progress(f"Scanning context {context}")
        try:
            engine = engines.get(context)
            infos = engine.list_managed() + engine.unmanaged_labelled()
            judged = [classify(i, keep, now, plan.age_seconds, p.age) for i in infos]
            stale = [j for j in judged if isinstance(j, GcContainer)]
            sizes = engine.container_sizes([c.id for c in stale])
            images = (
                select_images(
                    engine.list_images(), engine.image_ids_in_use(), context, default_image
                )
                if p.images
                else []
            )
        except DomainError as exc:
            plan.errors.append(ContextError(context=context, message=exc.message))
            continue
        by_id = {i.id: i for i in infos}
        for candidate in stale:
            candidate.size_bytes = sizes.get(candidate.id)
            plan.scanned[candidate.id] = by_id[candidate.id]
        plan.candidates += stale
        plan.skipped += [j for j in judged if isinstance(j, GcSkipped)]
        plan.images += images
    return plan


def _remove_container(
    engine: Engine, candidate: GcContainer, scanned: ContainerInfo
) -> GcSkipped | None:
    """Remove one candidate if it is still what the scan saw; else say why not.

    Holds the workspace's lock (the one `run` takes), so a `run` starting it waits or wins.
    """

    def skip(reason: GcSkipReason, state: str) -> GcSkipped:
        return GcSkipped(
            id=candidate.id,
            name=candidate.name,
            context=candidate.context,
            docker_state=state,
            reason=reason,
            age=candidate.age,
            age_seconds=candidate.age_seconds,
        )

    with locked(lock_key(scanned)):
        current = engine.inspect(scanned.id)
        if current is None:
            return skip("gone", "removed")
        if current.state not in _AGE_FIELD or current.started_at != scanned.started_at:
            return skip("startedSinceScan", current.state)
        keep = KeepPolicy.load()
        if keep.protects(current):
            return skip("keep", current.state)
        try:
            engine.remove(current.id, force=False)
        except DomainError:
            again = engine.inspect(current.id)
            if again is None:
                return skip("gone", "removed")
            if again.state in _ACTIVE:
                return skip("startedSinceScan", again.state)
            raise
    remove_access(current.name, current.ssh_port)
    if current.name in keep.released:
        set_keep(current.name, None)  # a stale release must not unprotect a future namesake
    return None


def apply(engines: EngineSet, plan: GcPlan, hooks: Hooks) -> GcResult:
    """Remove what `scan` found: containers first, then images; one failure stops nothing."""
    result = plan.result()
    reclaimed = 0
    total = len(plan.candidates)
    for n, candidate in enumerate(plan.candidates, 1):
        hooks.checkpoint()
        hooks.progress(f"Removing container {candidate.name} ({n}/{total})")
        try:
            engine = engines.get(candidate.context)
            skipped = _remove_container(engine, candidate, plan.scanned[candidate.id])
        except DomainError as exc:
            result.failed.append(
                GcFailure(
                    kind="container",
                    name=candidate.name,
                    context=candidate.context,
                    message=exc.message,
                )
            )
            continue
        if skipped is None:
            result.removed.append(candidate)
            reclaimed += candidate.size_bytes or 0
        else:
            result.skipped.append(skipped)
    if result.images is not None:
        reclaimed += _remove_images(engines, plan.images, result, hooks)
    result.reclaimed_bytes = reclaimed
    return result


def _remove_images(
    engines: EngineSet, images: list[GcImage], result: GcResult, hooks: Hooks
) -> int:
    """Untag each candidate unless a container started using it; bytes of images now gone."""
    assert result.images is not None
    in_use: dict[str, set[str]] = {}
    for n, image in enumerate(images, 1):
        hooks.checkpoint()
        hooks.progress(f"Removing image {image.reference} ({n}/{len(images)})")
        try:
            engine = engines.get(image.context)
            if image.context not in in_use:  # after the container removals, before ours
                in_use[image.context] = engine.image_ids_in_use()
            if image.id in in_use[image.context]:
                result.images.skipped.append(image)
                continue
            engine.remove_image(image.reference)
        except DomainError as exc:
            result.failed.append(
                GcFailure(
                    kind="image", name=image.reference, context=image.context, message=exc.message
                )
            )
            continue
        result.images.removed.append(image)
    return _bytes_gone(engines, result.images.removed)


def _bytes_gone(engines: EngineSet, removed: list[GcImage]) -> int:
    """Sizes of the removed images that no longer exist at all (not merely untagged)."""
    total = 0
    for context in {i.context for i in removed}:
        try:
            left = {i.id for i in engines.get(context).list_images()}
        except DomainError:
            continue  # the images are gone either way; only the figure is unknown
        gone = {i.id: i.size_bytes or 0 for i in removed if i.context == context}
        total += sum(size for image_id, size in gone.items() if image_id not in left)
    return total


def gc(engines: EngineSet, p: GcParams, hooks: Hooks, *, now: datetime | None = None) -> GcResult:
    """The whole request: scan, then (unless a dry run) confirm and remove."""
    plan = scan(engines, p, hooks, now or now_utc())
    if p.dry_run or not (plan.candidates or plan.images):
        return plan.result()
    if not p.force and not hooks.ask(plan.question, "Remove"):
        return plan.result(declined=True)
    return apply(engines, plan, hooks)
