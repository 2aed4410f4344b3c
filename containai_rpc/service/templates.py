"""Which image a new container gets (template, `imageTag` or a plain image), building a
template's image, and whether an existing container is outdated.

A template container is outdated when its template's Dockerfile changed (the sha256 in
its `ai.containai.template-hash` label differs from the file's now) or its base image
changed (the base's layers are no longer a prefix of the container's image). Only facts
are reported;
`run` with `fresh` acts on them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from containai_rpc.core.naming import quote_for_message
from containai_rpc.engine import ContainerInfo, Engine, EngineSet
from containai_rpc.errors import DomainError
from containai_rpc.protocol.models import ContainerSummary, ListResult, RunParams
from containai_rpc.service.hooks import Hooks
from containai_rpc.workspace.config import Settings
from containai_rpc.workspace.templates import (
    DEFAULT_TEMPLATE,
    IMAGE_TAG_LABEL,
    TEMPLATE_HASH_LABEL,
    TEMPLATE_LABEL,
    Template,
    check_template_name,
    current_template,
    image_for,
    load_template,
)

IMAGE_REPOSITORY = "containai"
S = TypeVar("S", bound=ContainerSummary)
CachedInfo = Callable[[str, str], ContainerInfo | None]  # (context, id) → cached inspect
_TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


@dataclass(frozen=True)
class ImageChoice:
    """The image a new container is created from, the labels that record why, and the
    template to build first (if any)."""

    image: str
    template: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


def choose_image(p: RunParams, settings: Settings) -> ImageChoice:
    """`template` > `imageTag` > `image` > `[template] name` > the configured image."""
    name = p.template
    if name is None and p.image_tag is None and p.image is None:
        name = settings.template
    if name is not None:
        check_template_name(name)
        warnings = ("imageTag is ignored when template is given",) if p.image_tag else ()
        return ImageChoice(image_for(name), name, {TEMPLATE_LABEL: name}, warnings)
    if p.image_tag is not None:
        if not _TAG_RE.match(p.image_tag):
            raise DomainError(
                "invalidName",
                f"Invalid image tag: {quote_for_message(p.image_tag)}",
                hint="A tag is up to 128 letters, digits, '_', '.' and '-'.",
            )
        image = f"{IMAGE_REPOSITORY}:{p.image_tag}"
        return ImageChoice(image, labels={IMAGE_TAG_LABEL: p.image_tag})
    return ImageChoice(p.image or settings.image)


def template_refusal(choice: ImageChoice, existing: ContainerInfo) -> DomainError | None:
    """The original's check before reusing a container in template mode: it must have been
    built from the requested template, or (for `default`) before templates; `fresh`
    rebuilds it from the requested one."""
    if choice.template is None:
        return None
    built = existing.labels.get(TEMPLATE_LABEL)
    if built == choice.template or (built is None and choice.template == DEFAULT_TEMPLATE):
        return None  # the original, too, lets `default` use a container made before templates
    why = (
        f"was built from template '{built}'"
        if built
        else "was not built from a template (created before templates, or from an image)"
    )
    return DomainError(
        "templateMismatch",
        f"Container {existing.name} {why}; template '{choice.template}' was requested",
        hint="Run with fresh to rebuild it from the requested template (the data volume is kept).",
        template=choice.template,
    )


def build_template(
    engine: Engine, choice: ImageChoice, settings: Settings, hooks: Hooks
) -> ImageChoice:
    """Build the template's image (from local images only) and return the choice with the
    Dockerfile's fingerprint label. The base must exist locally, as in the original."""
    assert choice.template is not None
    template = load_template(choice.template, settings.image)
    base = template.base
    if base is not None and engine.image_labels(base) is None:
        raise DomainError(
            "imageNotFound",
            f"Image not found: {base} (context {engine.context}), the base of template "
            f"'{template.name}'",
            hint="Build or pull the base image into this context, or change the template's "
            "FROM line.",
        )
    hooks.progress(f"Building template '{template.name}' as {choice.image}")
    labels = template_labels(template)
    engine.build_image(str(template.folder), choice.image, labels, hooks.progress)
    return ImageChoice(choice.image, choice.template, {**choice.labels, **labels}, choice.warnings)


def template_labels(template: Template) -> dict[str, str]:
    return {TEMPLATE_LABEL: template.name, TEMPLATE_HASH_LABEL: template.fingerprint}


@dataclass
class Reads:
    """What the outdated check reads: template files and image layers. One `list`
    answer shares one, so containers of the same template read its Dockerfile, and
    inspect its base and their common image, once."""

    templates: dict[str, Template | None] = field(default_factory=dict)
    layers: dict[tuple[str, str], tuple[str, ...] | None] = field(default_factory=dict)

    def template(self, name: str) -> Template | None:
        if name not in self.templates:
            self.templates[name] = current_template(name)
        return self.templates[name]

    def image_layers(self, engine: Engine, image: str) -> tuple[str, ...] | None:
        key = (engine.context, image)
        if key not in self.layers:
            self.layers[key] = engine.image_layers(image)
        return self.layers[key]


def outdated_reason(
    engine: Engine, info: ContainerInfo, reads: Reads | None = None
) -> str | bool | None:
    """Why a template's container is outdated; False: current; None: unknown, or not
    built from a template."""
    reads = reads or Reads()
    name = info.labels.get(TEMPLATE_LABEL)
    template = reads.template(name) if name is not None else None
    if template is None:
        return None
    if info.labels.get(TEMPLATE_HASH_LABEL) != template.fingerprint:
        return f"template '{template.name}' changed since the container was created"
    base = template.base
    if base is None or info.image_id is None:
        return False
    base_layers = reads.image_layers(engine, base)
    own = reads.image_layers(engine, info.image_id)
    if base_layers is None or own is None:
        return None
    if own[: len(base_layers)] != base_layers:
        return f"base image {base} of template '{name}' changed since the container was created"
    return False


def with_outdated(engine: Engine, info: ContainerInfo, summary: S, reads: Reads | None = None) -> S:
    """The summary with `outdated` (and its reason) filled in; engine trouble: unknown."""
    try:
        found = outdated_reason(engine, info, reads)
    except DomainError:
        found = None
    if found is None:
        return summary
    update = {"outdated": bool(found), "outdated_reason": found or None}
    return summary.model_copy(update=update)


def with_outdated_list(
    engines: EngineSet, result: ListResult, cached: CachedInfo | None = None
) -> ListResult:
    """`list` with `outdated` for the containers built from a template: their inspect from
    the live cache when it has it, and each template and image read once per answer."""
    reads, marked = Reads(), []
    for summary in result.containers:
        info = None
        if summary.template:
            engine = engines.get(summary.context)
            info = cached(summary.context, summary.id) if cached is not None else None
            try:
                info = info or engine.inspect(summary.id)
            except DomainError:
                info = None  # its engine went away meanwhile: unknown
        marked.append(summary if info is None else with_outdated(engine, info, summary, reads))
    return result.model_copy(update={"containers": marked})


def outdated_warning(summary: ContainerSummary) -> str:
    return (
        f"Container {summary.name} is outdated: {summary.outdated_reason}; run with fresh "
        "to rebuild it (the data volume is kept)"
    )
