"""`Engine`'s image operations: inspect, build, list and untag (a base of `Engine`)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

import docker.errors

from containai_rpc.core.naming import quote_for_message
from containai_rpc.engine.build import build_image
from containai_rpc.engine.models import ImageInfo
from containai_rpc.errors import DomainError, Reason


class EngineImages:
    """Image calls of one engine; `Engine` supplies `api` and `guard`."""

    if TYPE_CHECKING:
        api: docker.APIClient

        def guard(
            self, not_found: Reason = "containerNotFound"
        ) -> contextlib.AbstractContextManager[None]: ...

    def image_labels(self, image: str) -> dict[str, str] | None:
        """The image's labels, or None when the image is not present locally."""
        try:
            with self.guard(not_found="imageNotFound"):
                data = self.api.inspect_image(image)
        except DomainError as exc:
            if exc.reason == "imageNotFound":
                return None
            cause = exc.__cause__
            if isinstance(cause, docker.errors.APIError) and cause.status_code == 400:
                raise DomainError(  # e.g. "invalid reference format": bad input, not the engine
                    "invalidName", f"Invalid image reference: {quote_for_message(image)}"
                ) from None
            raise
        return dict((data.get("Config") or {}).get("Labels") or {})

    def image_layers(self, image: str) -> tuple[str, ...] | None:
        """The image's layer digests (`RootFS.Layers`), or None when it is not local."""
        try:
            with self.guard(not_found="imageNotFound"):
                data = self.api.inspect_image(image)
        except DomainError as exc:
            if exc.reason in ("imageNotFound", "engineError"):
                return None
            raise
        return tuple((data.get("RootFS") or {}).get("Layers") or ())

    def build_image(
        self, folder: str, tag: str, labels: dict[str, str], on_line: Callable[[str], None]
    ) -> str:
        """Build `folder` as `tag`; the new image's id (see `engine.build`)."""
        return build_image(self, folder, tag, labels, on_line)

    def image_ids_in_use(self) -> set[str]:
        """Image ids of every container of this engine: any state, managed or not."""
        with self.guard():
            rows = self.api.containers(all=True)
        return {row["ImageID"] for row in rows if row.get("ImageID")}

    def list_images(self) -> list[ImageInfo]:
        """Local images with their `repo:tag` references (dangling `<none>` ones have none)."""
        with self.guard():
            rows = self.api.images()
        return [
            ImageInfo(
                id=row["Id"],
                tags=tuple(t for t in row.get("RepoTags") or () if t != "<none>:<none>"),
                size_bytes=int(row.get("Size") or 0),
            )
            for row in rows
        ]

    def remove_image(self, reference: str) -> None:
        """Untag `reference` without force: Docker deletes the image with its last tag and
        refuses while a container uses it."""
        with self.guard(not_found="imageNotFound"):
            self.api.remove_image(reference, force=False)
