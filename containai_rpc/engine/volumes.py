"""Inspecting a named volume for the docker-SDK adapter (`engine.client.Engine`)."""

from __future__ import annotations

from typing import Any

from containai_rpc.engine.models import MANAGED_LABEL, VolumeInfo
from containai_rpc.errors import DomainError


def inspect_volume(engine: Any, name: str) -> dict[str, Any] | None:
    """`docker volume inspect`, or None when the volume does not exist."""
    try:
        with engine.guard(not_found="volumeNotFound"):
            return dict(engine.api.inspect_volume(name))
    except DomainError as exc:
        if exc.reason == "volumeNotFound":
            return None
        raise


def volume_info(engine: Any, name: str) -> VolumeInfo | None:
    """The volume's labels and the containers without `containai.managed=true` that mount
    it (running or not); None when it does not exist."""
    data = inspect_volume(engine, name)
    if data is None:
        return None
    with engine.guard():
        rows = engine.api.containers(all=True, filters={"volume": name})
    foreign = tuple(
        (row.get("Names") or [row["Id"]])[0].lstrip("/")
        for row in rows
        if (row.get("Labels") or {}).get(MANAGED_LABEL) != "true"
    )
    return VolumeInfo(labels=dict(data.get("Labels") or {}), foreign_users=foreign)
