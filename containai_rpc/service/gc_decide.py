"""gc's decisions, pure: who is stale, who is protected, which images go, and the
re-check right before a removal.

Unlike the original's gc: `age` is decimal (`010d` is ten days, `08d` is valid), the
image prefixes match the images ContainAI really creates, protection can be toggled after
creation (`keep`), and each candidate is judged again right before it goes, so a
container started meanwhile is skipped (`startedSinceScan`) instead of failing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from containai_rpc.core.ages import format_gc_age, parse_docker_time
from containai_rpc.core.states import ACTIVE, IDLE_SINCE
from containai_rpc.engine import ContainerInfo
from containai_rpc.engine.models import ImageInfo
from containai_rpc.protocol.gc import (
    GcContainer,
    GcImage,
    GcImages,
    GcParams,
    GcResult,
    GcSkipped,
    GcSkipReason,
)
from containai_rpc.protocol.models import ContextError
from containai_rpc.service.summary import KeepPolicy

IMAGE_PREFIXES = ("containai:", "containai-template-", "ghcr.io/containai/")
"""Local builds, template builds and the official registry."""


def stale_for(info: ContainerInfo, now: datetime) -> timedelta | None:
    """How long an exited (since FinishedAt) or created (since Created) container has been
    idle; None for other states and for a missing or unreadable timestamp."""
    name = IDLE_SINCE.get(info.state)
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
    """Candidate or skipped, and why: the protection rules, in this order."""
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

    if not info.is_ours:  # unmanaged, or managed without a required label
        return skip("notManaged", with_age=False)
    if info.state in ACTIVE:
        return skip("running")
    if keep.protects(info):
        return skip("keep")
    if info.state not in IDLE_SINCE:
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


# --------------------------------------------------------------------------- at removal


def started_since_scan(scanned: ContainerInfo, current: ContainerInfo) -> bool:
    """Started (or restarted and stopped again) since the scan judged it: not idle after all."""
    return current.state not in IDLE_SINCE or current.started_at != scanned.started_at


def after_refused_removal(again: ContainerInfo | None) -> GcSkipReason | None:
    """Docker refused the removal (gc never forces): a container gone or started in
    between is a skip; anything else (None) is a failure to report."""
    if again is None:
        return "gone"
    if again.state in ACTIVE:
        return "startedSinceScan"
    return None


def skipped_at_removal(candidate: GcContainer, reason: GcSkipReason, state: str) -> GcSkipped:
    return GcSkipped(
        id=candidate.id,
        name=candidate.name,
        context=candidate.context,
        docker_state=state,
        reason=reason,
        age=candidate.age,
        age_seconds=candidate.age_seconds,
    )
