"""The user config as read once for one request, and everything derived from it.

One request reads `config.toml` once (`UserConfig.load`) and passes this object down:
workspace state, the keep lists, settings and the data volume all come from the same
reading, so a request never sees two versions of the file and never pays for a second
read. Writes still go through `workspace.state` (locked, atomic); a decision that must
see the file as it is *now* (gc's re-check right before a removal) loads it again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from containai_rpc.workspace.config import Settings, load_settings, resolve_data_volume
from containai_rpc.workspace.state import WorkspaceState, load_user_config

_STATE_FIELDS = tuple(f.name for f in fields(WorkspaceState))


@dataclass(frozen=True)
class UserConfig:
    """One reading of the user config (`{}` when the file does not exist)."""

    data: Mapping[str, Any]

    @classmethod
    def load(cls) -> UserConfig:
        return cls(load_user_config())

    def workspace_state(self, workspace: str) -> WorkspaceState:
        """The `[workspace."<path>"]` table of exactly this (normalised) path."""
        table = self.data.get("workspace", {}).get(workspace, {})
        return WorkspaceState(**{k: table.get(k) for k in _STATE_FIELDS})

    @property
    def kept(self) -> frozenset[str]:
        """`[keep].containers`: protected from gc after creation."""
        return frozenset(self.data.get("keep", {}).get("containers", []))

    @property
    def released(self) -> frozenset[str]:
        """`[keep].released`: a creation-time `containai.keep` label switched off."""
        return frozenset(self.data.get("keep", {}).get("released", []))

    def settings(
        self, workspace: str | None = None, env: Mapping[str, str] | None = None
    ) -> Settings:
        return load_settings(workspace, env, user=self.data)

    def data_volume(
        self,
        workspace: str,
        *,
        explicit: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> tuple[str, str]:
        """(volume, source) for `workspace`, as `run` and `config get` resolve it."""
        return resolve_data_volume(workspace, explicit=explicit, env=env, user=self.data)
