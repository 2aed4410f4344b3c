"""`gc`: remove stale managed containers (and, on request, unused ContainAI images).

Every managed context is scanned, not only the current one. The judgement is in
`gc_decide`; here `scan` only reads and `apply` only removes what the scan found, so the
caller can ask for confirmation in between (and tests can change the world in between).
Removal never takes a volume and never forces: Docker itself refuses a running container
or a used image.
"""

from __future__ import annotations

from datetime import datetime

from containai_rpc.core.ages import parse_age
from containai_rpc.core.clock import Clock, system_clock
from containai_rpc.engine import ContainerInfo, Engine, EngineSet
from containai_rpc.errors import DomainError
from containai_rpc.protocol.gc import (
    GcContainer,
    GcFailure,
    GcImage,
    GcImages,
    GcParams,
    GcResult,
    GcSkipped,
)
from containai_rpc.protocol.models import ContextError
from containai_rpc.service.cleanup import forget_removed
from containai_rpc.service.gc_decide import (
    GcPlan,
    after_refused_removal,
    classify,
    select_images,
    skipped_at_removal,
    started_since_scan,
)
from containai_rpc.service.hooks import Hooks
from containai_rpc.service.resolve import lock_key
from containai_rpc.service.summary import KeepPolicy
from containai_rpc.workspace.locks import locked
from containai_rpc.workspace.userconfig import UserConfig


def scan(engines: EngineSet, p: GcParams, hooks: Hooks, now: datetime) -> GcPlan:
    """Judge every managed (and ContainAI-labelled) container of every managed context.

    Reads only. A context that cannot be scanned is reported in `errors`, not fatal.
    """
    plan = GcPlan(p, parse_age(p.age))  # a bad age fails before any Docker call
    config = UserConfig.load()
    keep, default_image = KeepPolicy.of(config), config.settings().image
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

    Holds the workspace's lock (the one `run` takes), so a `run` starting it waits or wins;
    the keep lists are read again here, as a `keep` may have come in since the scan.
    """
    with locked(lock_key(scanned)):
        current = engine.inspect(scanned.id)
        if current is None:
            return skipped_at_removal(candidate, "gone", "removed")
        if started_since_scan(scanned, current):
            return skipped_at_removal(candidate, "startedSinceScan", current.state)
        keep = KeepPolicy.load()
        if keep.protects(current):
            return skipped_at_removal(candidate, "keep", current.state)
        try:
            engine.remove(current.id, force=False)
        except DomainError:
            again = engine.inspect(current.id)
            reason = after_refused_removal(again)
            if reason is None:
                raise
            return skipped_at_removal(candidate, reason, again.state if again else "removed")
    forget_removed(current, keep=keep)
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
        reclaimed += _remove_images(engines, plan.images, result.images, result.failed, hooks)
    result.reclaimed_bytes = reclaimed
    return result


def _remove_images(
    engines: EngineSet,
    images: list[GcImage],
    done: GcImages,
    failed: list[GcFailure],
    hooks: Hooks,
) -> int:
    """Untag each candidate unless a container started using it; bytes of images now gone."""
    in_use: dict[str, set[str]] = {}
    for n, image in enumerate(images, 1):
        hooks.checkpoint()
        hooks.progress(f"Removing image {image.reference} ({n}/{len(images)})")
        try:
            engine = engines.get(image.context)
            if image.context not in in_use:  # after the container removals, before ours
                in_use[image.context] = engine.image_ids_in_use()
            if image.id in in_use[image.context]:
                done.skipped.append(image)
                continue
            engine.remove_image(image.reference)
        except DomainError as exc:
            failed.append(
                GcFailure(
                    kind="image", name=image.reference, context=image.context, message=exc.message
                )
            )
            continue
        done.removed.append(image)
    return _bytes_gone(engines, done.removed)


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


def gc(engines: EngineSet, p: GcParams, hooks: Hooks, *, clock: Clock = system_clock) -> GcResult:
    """The whole request: scan, then (unless a dry run) confirm and remove.

    `clock` is "now" for the ages (a test sets it ahead to make real containers old).
    """
    plan = scan(engines, p, hooks, clock())
    if p.dry_run or not (plan.candidates or plan.images):
        return plan.result()
    if not p.force and not hooks.ask(plan.question, "Remove"):
        return plan.result(declined=True)
    return apply(engines, plan, hooks)
