"""Building a local image from a folder with the SDK (templates), streaming its output."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from containai_rpc.errors import DomainError

if TYPE_CHECKING:
    from containai_rpc.engine.client import Engine

BUILD_TIMEOUT_S = 1800
_TAIL_LINES = 8


def build_image(
    engine: Engine,
    folder: str,
    tag: str,
    labels: dict[str, str],
    on_line: Callable[[str], None],
) -> str:
    """Build `folder`'s Dockerfile as `tag` (the base must be local: no pull) and return
    the image id. A failing build is `templateBuildFailed` with its last lines."""
    tail: deque[str] = deque(maxlen=_TAIL_LINES)
    image_id = ""
    with engine.guard(not_found="imageNotFound"):
        stream = engine.api.build(
            path=folder,
            tag=tag,
            labels=labels,
            rm=True,
            forcerm=True,
            pull=False,
            decode=True,
            timeout=BUILD_TIMEOUT_S,
        )
        for chunk in stream:
            image_id = _consume(chunk, tail, on_line, tag) or image_id
    if not image_id:
        raise _failed(tag, tail, "the build produced no image")
    return image_id


def _consume(
    chunk: dict[str, Any], tail: deque[str], on_line: Callable[[str], None], tag: str
) -> str:
    """One decoded chunk of the build stream: a line of output, the image id, or a failure."""
    if "error" in chunk:
        tail.append(str(chunk["error"]).strip())
        raise _failed(tag, tail, str(chunk["error"]).strip())
    text = str(chunk.get("stream") or "").strip()
    if text:
        tail.append(text)
        on_line(text)
    aux = chunk.get("aux")
    return str(aux.get("ID", "")) if isinstance(aux, dict) else ""


def _failed(tag: str, tail: deque[str], why: str) -> DomainError:
    lines = "\n".join(tail)
    return DomainError(
        "templateBuildFailed",
        f"Failed to build {tag}: {why}" + (f"\n{lines}" if lines else ""),
        hint="Fix the template's Dockerfile (the build's last lines are above); the "
        "existing container was left as it is.",
    )
