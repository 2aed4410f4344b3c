"""Doctor: the engines of the managed contexts, the isolation runtime, the default image."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from containai_rpc.engine import EngineInfo, EngineSet
from containai_rpc.errors import DomainError
from containai_rpc.protocol.doctor import RecommendedAction
from containai_rpc.protocol.models import Isolation
from containai_rpc.service.doctor.findings import Finding, finding
from containai_rpc.workspace.config import DEFAULT_IMAGE, Settings

MIN_KERNEL = (5, 5)
"""What Sysbox needs (the original's doctor checks the same)."""


@dataclass(frozen=True)
class Engines:
    """What the engine probes found: the selected context's facts or its error."""

    context: str
    selected: EngineInfo | DomainError
    others: list[tuple[str, EngineInfo | DomainError]]


def probe_engines(engines: EngineSet, context: str | None) -> Engines:
    """The selected context (or `context`) and every other managed one, concurrently."""
    selected = context or engines.default_context()
    names = [selected, *(n for n in engines.managed_contexts() if n != selected)]
    found = engines.each(names, lambda engine: engine.info(refresh=True))
    return Engines(selected, found[0][1], found[1:])


def _engine_detail(info: EngineInfo) -> str:
    return f"Docker {info.server_version} (API {info.api_version}) at {info.endpoint}"


def engine_checks(probed: Engines) -> list[Finding]:
    out = []
    selected = probed.selected
    title = f"Docker engine (context '{probed.context}')"
    if isinstance(selected, DomainError):
        bad_context = selected.reason in ("contextNotFound", "contextInvalid")
        action: RecommendedAction = "fixConfig" if bad_context else "startDocker"
        out.append(
            finding("docker.engine", title, "error", selected.message, selected.hint, action)
        )
    else:
        out.append(finding("docker.engine", title, "ok", _engine_detail(selected)))
    for name, info in probed.others:
        check_id, other = f"docker.context.{name}", f"Context '{name}'"
        if isinstance(info, DomainError):  # the selected one still works: not fatal
            out.append(finding(check_id, other, "warn", info.message, info.hint))
        else:
            out.append(finding(check_id, other, "ok", _engine_detail(info)))
    return out


# --------------------------------------------------------------------------- isolation


def expected_isolation(info: EngineInfo | DomainError, settings: Settings) -> Isolation | None:
    """What `run` would create with: Sysbox, runc with the opt-in, else nothing."""
    if isinstance(info, DomainError):
        return None
    if info.has_sysbox:
        return "sysbox"
    return "runc-reduced" if settings.allow_reduced_isolation else None


def isolation_checks(
    info: EngineInfo | DomainError, settings: Settings, isolation: Isolation | None
) -> list[Finding]:
    title = "Isolation runtime"
    if isinstance(info, DomainError):
        runtime = finding("isolation.runtime", title, "skip", "The engine does not answer.")
        kernel = os.uname().release
        where = "this host"
    else:
        runtimes = ", ".join(info.runtimes) or "none"
        if isolation == "sysbox":
            runtime = finding("isolation.runtime", title, "ok", f"sysbox-runc ({runtimes})")
        elif isolation == "runc-reduced":
            runtime = finding(
                "isolation.runtime",
                title,
                "warn",
                f"runc-reduced: no sysbox-runc on this engine ({runtimes}); containers run "
                "under runc with CAP_SYS_ADMIN (reduced isolation, opted in)",
                "Install Sysbox on the engine's host for full isolation; a run then "
                "uses sysbox-runc by itself.",
            )
        else:
            runtime = finding(
                "isolation.runtime",
                title,
                "error",
                f"No isolation available: no sysbox-runc on this engine ({runtimes})",
                "Install Sysbox on the engine's host (or use a context with it, e.g. "
                "containai-docker), or opt in to reduced isolation: allowReducedIsolation "
                "or [isolation] allow_reduced = true.",
                "enableIsolation",
            )
        kernel, where = info.kernel_version, "engine host"
    return [runtime, _kernel_check(kernel, where, reduced=isolation == "runc-reduced")]


def _kernel_check(release: str, where: str, *, reduced: bool) -> Finding:
    title = "Kernel version"
    match = re.match(r"(\d+)\.(\d+)", release)
    if match is None:
        return finding("isolation.kernel", title, "warn", f"Unrecognised: {release!r} ({where})")
    version = (int(match[1]), int(match[2]))
    detail = f"{version[0]}.{version[1]} ({where})"
    if version >= MIN_KERNEL:
        return finding("isolation.kernel", title, "ok", detail)
    need = f"{detail}: Sysbox needs {MIN_KERNEL[0]}.{MIN_KERNEL[1]} or newer"
    hint = "Upgrade the kernel of the engine's host."
    if reduced:  # runc does not care; only the way to full isolation is blocked
        return finding("isolation.kernel", title, "warn", need, hint)
    return finding("isolation.kernel", title, "error", need, hint, "enableIsolation")


# --------------------------------------------------------------------------- image


def image_check(engines: EngineSet, probed: Engines, image: str) -> tuple[Finding, list[int]]:
    """Whether the default image is in the selected context, and the SSH ports its
    managed containers hold (for the port check)."""
    title, context = f"Image {image}", probed.context
    if isinstance(probed.selected, DomainError):
        return finding("image.default", title, "skip", "The engine does not answer."), []
    engine = engines.get(context)
    try:
        present = engine.image_labels(image) is not None
        held = sorted(engine.managed_ports())
    except DomainError as exc:
        return finding("image.default", title, "error", exc.message, exc.hint, "startDocker"), []
    if present:
        return finding("image.default", title, "ok", f"present in context '{context}'"), held
    build = (
        "Build it in a containai-rpc checkout: scripts/images.sh (no registry "
        "needed), or with a registry 'DOCKER_BUILDKIT=0 docker build -f "
        f"images/containai/Dockerfile.registry -t {image} images'"
    )
    if image != DEFAULT_IMAGE:
        build += f"; or pull it: docker --context {context} pull {image}"
    missing = finding(
        "image.default",
        title,
        "error",
        f"not found in context '{context}'",
        build + ".",
        "buildImage",
    )
    return missing, held
