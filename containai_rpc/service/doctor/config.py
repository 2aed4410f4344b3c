"""Doctor: the state file and the settings built on it."""

from __future__ import annotations

from containai_rpc.errors import DomainError
from containai_rpc.service.doctor.findings import Finding, finding
from containai_rpc.workspace.config import Settings
from containai_rpc.workspace.state import user_config_path
from containai_rpc.workspace.userconfig import UserConfig


def config_checks() -> tuple[list[Finding], Settings | None]:
    """The state file (workspace state and keep lists) and the settings built on it."""
    path = user_config_path()
    try:
        config = UserConfig.load()
    except DomainError as exc:
        return [
            finding("config.state", "State file", "error", exc.message, exc.hint, "fixConfig"),
            finding("config.settings", "Settings", "skip", "The state file cannot be read."),
        ], None
    state = finding(
        "config.state",
        "State file",
        "ok",
        str(path) if path.exists() else f"{path} (not created yet: the first run writes it)",
    )
    try:
        settings = config.settings()
    except DomainError as exc:
        return [
            state,
            finding("config.settings", "Settings", "error", exc.message, exc.hint, "fixConfig"),
        ], None
    start, end = settings.ssh_port_range
    detail = f"image {settings.image}, SSH ports {start}-{end}"
    return [state, finding("config.settings", "Settings", "ok", detail)], settings
