"""Settings from the user config, a repository's `.containai/config.toml` and the env.

`resolve_data_volume` follows the original's *runtime* order and is the one
function behind both `run` and `config get`, so the two can never disagree (the
original's `config get` does).

A repository's config comes with the code, which may not be the user's: it may choose
the data volume and `[container]` resource limits, but nothing that weakens isolation
or reaches the host (`[isolation]`, `[ssh]`, `[secure_engine]`, `[engine]`, `[image]`);
those are read from the user config and the environment only.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from containai_rpc.core.idle import DEFAULT_CHECK_S, DEFAULT_WARNING_S
from containai_rpc.core.naming import (
    is_valid_volume_name,
    quote_for_message,
    validate_volume_name,
)
from containai_rpc.errors import DomainError
from containai_rpc.workspace.lifecycle import lifecycle_settings
from containai_rpc.workspace.limits import container_limits, tighten
from containai_rpc.workspace.repoconfig import find_repo_config
from containai_rpc.workspace.state import (
    load_user_config,
    read_workspace_state,
    user_config_path,
)
from containai_rpc.workspace.tomlfile import load_toml, toml_type

logger = logging.getLogger(__name__)

DEFAULT_VOLUME = "containai-data"
DEFAULT_IMAGE = "containai:latest"
DEFAULT_SSH_PORT_RANGE = (2300, 2500)
CONFIG_KEYS = ("container_name", "context", "created_at", "data_volume", "image")

_USER_ONLY_SECTIONS = (
    "isolation", "ssh", "secure_engine", "engine", "image", "template", "lifecycle"
)
_CONTEXT_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_FORWARD_RE = re.compile(r"^([0-9]+):([a-zA-Z0-9._-]+):([0-9]+)$")
_TEMPLATE_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,127}$")
_IMAGE_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._/:@-]*$")
_AGENT_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")  # as RunParams.agent
_VOLUME_RULE = "A volume name is 1-255 characters of [a-zA-Z0-9_.-], starting alphanumeric."
_TRUE = {"1", "true", "yes"}
_FALSE = {"0", "false", "no"}


class Settings(BaseModel):
    """Everything `run`, `gc` and `doctor` read from configuration, already validated."""

    model_config = ConfigDict(frozen=True)

    ssh_port_range: tuple[int, int] = DEFAULT_SSH_PORT_RANGE
    ssh_forward_agent: bool = False
    ssh_local_forwards: list[str] = []
    context_name: str | None = None
    allow_reduced_isolation: bool = False
    image: str = DEFAULT_IMAGE
    template: str | None = None
    """`[template] name`: build new containers from this template."""
    memory: str | None = None
    cpus: float | None = None
    agent: str | None = None
    """`[agent] default`: the agent a session runs when none is asked for."""
    repo_limits: tuple[str, ...] = ()
    """`memory`/`cpus` set by a repository's config alone (the user set none): such a
    value may lower the default limit, never raise it."""
    contexts: list[str] = []
    idle_stop: str = "off"
    """`[lifecycle] idle_stop`: the idle auto-stop period of workspaces without their own."""
    idle_check_s: int = DEFAULT_CHECK_S
    idle_warning_s: int = DEFAULT_WARNING_S


def _is_under(workspace: str, key: str) -> int:
    """Path segments of `key` when `workspace` is inside it (segment-wise), else 0.

    Both the key as written and with symlinks resolved count, like the original's
    `Path.resolve()` matching.
    """
    best = 0
    for form in {os.path.normpath(key), os.path.realpath(key)}:
        parts = Path(form).parts
        if Path(workspace).parts[: len(parts)] == parts:
            best = max(best, len(parts))
    return best


def _volume_in(
    data: dict[str, Any], path: Path, workspace: str, *, repo_local: bool
) -> tuple[str, str] | None:
    """`[workspace."<abs>"].data_volume` of the longest matching prefix, else `[agent]`.

    As in the original, the longest match decides even without a `data_volume`: it then
    falls back to `[agent]`, not to a shorter prefix.
    """
    found: tuple[int, str, Any] | None = None  # (segments, key, volume)
    workspaces = _section(data, "workspace", path)
    for key, table in workspaces.items():
        if not key.startswith("/") or not isinstance(table, dict):
            continue
        segments = _is_under(workspace, key)
        if segments and (found is None or segments > found[0]):
            found = (segments, key, table.get("data_volume"))
    candidates: list[tuple[str, Any, str]] = []
    if found is not None:
        _, key, volume = found
        source = "repo-local" if repo_local else f"workspace:{key}"
        candidates.append((f'workspace."{key}".data_volume', volume, source))
    agent = data.get("agent")  # the original tolerates `agent = "<name>"`: no volume then
    agent_volume = agent.get("data_volume") if isinstance(agent, dict) else None
    candidates.append(("agent.data_volume", agent_volume, _file_source(repo_local)))
    for name, volume, source in candidates:
        if volume is None or volume == "":
            continue
        if not isinstance(volume, str) or not is_valid_volume_name(volume):
            raise DomainError(
                "invalidName",
                f"Invalid volume name in config: {quote_for_message(str(volume))}",
                hint=f"Fix {name} in {path}. {_VOLUME_RULE}",
                file=str(path),
                key=name,
            )
        return volume, source
    return None


def _file_source(repo_local: bool) -> str:
    return "repo-local" if repo_local else "user-global"


def resolve_data_volume(
    workspace: str,
    *,
    explicit: str | None = None,
    env: Mapping[str, str] | None = None,
    user: Mapping[str, Any] | None = None,
) -> tuple[str, str]:
    """The data volume for `workspace` and where it came from (first hit wins).

    Sources: `cli`, `env`, `workspace:<path>`, `repo-local`, `user-global`, `default`.
    `workspace` must already be normalised. An empty `explicit` is invalid; an empty
    `CONTAINAI_DATA_VOLUME` counts as unset. `user`: the user config already read for
    this request (else it is read now).
    """
    env = os.environ if env is None else env
    if explicit is not None:
        return validate_volume_name(explicit), "cli"
    from_env = env.get("CONTAINAI_DATA_VOLUME")
    if from_env:
        if not is_valid_volume_name(from_env):
            raise DomainError(
                "invalidName",
                f"Invalid volume name in CONTAINAI_DATA_VOLUME: {quote_for_message(from_env)}",
                hint=_VOLUME_RULE,
            )
        return from_env, "env"
    user = load_user_config() if user is None else user
    state_volume = user.get("workspace", {}).get(workspace, {}).get("data_volume")
    if state_volume:
        if is_valid_volume_name(state_volume):
            return state_volume, f"workspace:{workspace}"
        logger.warning(
            "Invalid volume name in workspace state: %s, skipping",
            quote_for_message(state_volume),
        )
    repo = find_repo_config(workspace)
    if repo is not None:
        found = _volume_in(_load_repo_config(repo), repo, workspace, repo_local=True)
        if found is not None:
            return found
    found = _volume_in(user, user_config_path(), workspace, repo_local=False)
    return found if found is not None else (DEFAULT_VOLUME, "default")


def _load_repo_config(path: Path) -> dict[str, Any]:
    return load_toml(path, reason="configInvalid") or {}


class _Invalid:
    """Builds `configInvalid` errors that name the file (or env var) and the key."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self, key: str, value: object, expected: str) -> DomainError:
        return DomainError(
            "configInvalid",
            f"{self.path}: {key} must be {expected}, got {value!r} ({toml_type(value)})",
            hint=f"Fix {key} in {self.path}.",
            file=str(self.path),
            key=key,
        )


def _env_invalid(name: str, value: str, expected: str) -> DomainError:
    return DomainError(
        "configInvalid",
        f"{name} must be {expected}, got {value!r}",
        hint=f"Fix or unset the environment variable {name}.",
        key=name,
    )


def _section(data: dict[str, Any], name: str, path: Path) -> dict[str, Any]:
    section = data.get(name, {})
    if not isinstance(section, dict):
        raise _Invalid(path)(f"[{name}]", section, "a table")
    return section


def _context_ok(value: object) -> bool:
    return isinstance(value, str) and bool(_CONTEXT_RE.match(value))


def _ssh_settings(ssh: dict[str, Any], invalid: _Invalid) -> dict[str, Any]:
    """[ssh]: out-of-range ports fall back to the default like the original."""
    bounds = []
    for key, default in zip(
        ("port_range_start", "port_range_end"), DEFAULT_SSH_PORT_RANGE, strict=True
    ):
        value = ssh.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not 1024 <= value <= 65535:
            logger.warning(
                "%s: ssh.%s must be an integer 1024..65535, got %r; using %d",
                invalid.path,
                key,
                value,
                default,
            )
            value = default
        bounds.append(value)
    if bounds[0] > bounds[1]:
        raise invalid("ssh.port_range_start", bounds[0], f"<= ssh.port_range_end ({bounds[1]})")
    forward_agent = ssh.get("forward_agent", False)
    if not isinstance(forward_agent, bool):
        raise invalid("ssh.forward_agent", forward_agent, "a boolean")
    forwards = ssh.get("local_forward", [])
    if not isinstance(forwards, list):
        raise invalid("ssh.local_forward", forwards, 'an array like ["8080:localhost:8080"]')
    for i, entry in enumerate(forwards):
        match = _FORWARD_RE.match(entry) if isinstance(entry, str) else None
        if match is None or not all(1 <= int(match[g]) <= 65535 for g in (1, 3)):
            raise invalid(f"ssh.local_forward[{i}]", entry, "localport:host:remoteport")
    return {
        "ssh_port_range": (bounds[0], bounds[1]),
        "ssh_forward_agent": forward_agent,
        "ssh_local_forwards": list(forwards),
    }


def _user_settings(user: dict[str, Any], invalid: _Invalid) -> dict[str, Any]:
    """The user-only sections: isolation, ssh, engine context(s), image."""
    path = invalid.path
    found = _ssh_settings(_section(user, "ssh", path), invalid)
    context = _section(user, "secure_engine", path).get("context_name", "")
    if context != "":
        if not _context_ok(context):
            raise invalid("secure_engine.context_name", context, "a Docker context name")
        found["context_name"] = context
    contexts = _section(user, "engine", path).get("contexts", [])
    if not isinstance(contexts, list) or not all(map(_context_ok, contexts)):
        raise invalid("engine.contexts", contexts, "an array of Docker context names")
    found["contexts"] = list(contexts)
    agent = user.get("agent")
    default_agent = agent.get("default") if isinstance(agent, dict) else None
    if default_agent is not None:
        if not isinstance(default_agent, str) or not _AGENT_RE.match(default_agent):
            raise invalid("agent.default", default_agent, "an agent name like claude")
        found["agent"] = default_agent
    allow = _section(user, "isolation", path).get("allow_reduced", False)
    if not isinstance(allow, bool):
        raise invalid("isolation.allow_reduced", allow, "a boolean")
    found["allow_reduced_isolation"] = allow
    found.update(lifecycle_settings(_section(user, "lifecycle", path), invalid))
    image = _section(user, "image", path).get("name")
    if image is not None:
        if not isinstance(image, str) or not _IMAGE_RE.match(image):
            raise invalid("image.name", image, "an image reference like containai:latest")
        found["image"] = image
    template = _section(user, "template", path).get("name")
    if template is not None:
        if not isinstance(template, str) or not _TEMPLATE_RE.match(template):
            raise invalid("template.name", template, "a template name like default")
        found["template"] = template
    return found


def _container_settings(data: dict[str, Any], invalid: _Invalid) -> dict[str, Any]:
    """[container] resource limits; allowed in a repository's config too."""
    return container_limits(_section(data, "container", invalid.path), invalid)


def _env_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """Environment overrides; set-but-empty variables count as unset."""
    found: dict[str, Any] = {}
    for name in ("CONTAINAI_CONTEXT", "CONTAINAI_SECURE_ENGINE_CONTEXT"):
        value = env.get(name, "")
        if value:
            if not _context_ok(value):
                raise _env_invalid(name, value, "a Docker context name ([a-zA-Z0-9_-], <= 64)")
            found["context_name"] = value
            break
    allow = env.get("CONTAINAI_ALLOW_REDUCED_ISOLATION", "").strip().lower()
    if allow:
        if allow not in _TRUE | _FALSE:
            raise _env_invalid(
                "CONTAINAI_ALLOW_REDUCED_ISOLATION", allow, "1/true/yes or 0/false/no"
            )
        found["allow_reduced_isolation"] = allow in _TRUE
    image = env.get("CONTAINAI_IMAGE", "")
    if image:
        if not _IMAGE_RE.match(image):
            raise _env_invalid("CONTAINAI_IMAGE", image, "an image reference like containai:latest")
        found["image"] = image
    return found


def _resolve_settings(
    workspace: str | None, env: Mapping[str, str] | None, user: Mapping[str, Any] | None = None
) -> tuple[Settings, dict[str, str]]:
    """Settings, plus the layer that supplied `image` / `context_name` (absent: default)."""
    env = os.environ if env is None else env
    layers: list[tuple[str, dict[str, Any]]] = []
    user_invalid = _Invalid(user_config_path())
    user = load_user_config() if user is None else user
    layers.append(("user-global", _user_settings(user, user_invalid)))
    user_limits = _container_settings(user, user_invalid)
    layers.append(("user-global", user_limits))
    repo = find_repo_config(workspace) if workspace else None
    if repo is not None:
        data = _load_repo_config(repo)
        for name in _USER_ONLY_SECTIONS:
            if name in data:
                logger.warning(
                    "%s: [%s] is ignored in a repository's config; set it in %s",
                    repo,
                    name,
                    user_config_path(),
                )
        repo_limits = _container_settings(data, _Invalid(repo))
        layers.append(("repo-local", tighten(user_limits, repo_limits)))
    layers.append(("env", _env_settings(env)))
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for source, found in layers:
        values.update(found)
        sources.update(dict.fromkeys(found, source))
    return Settings(**values), sources


def load_settings(
    workspace: str | None = None,
    env: Mapping[str, str] | None = None,
    *,
    user: Mapping[str, Any] | None = None,
) -> Settings:
    """Validated settings: env > repo-local (`[container]` only) > user config > default.

    `user`: the user config already read for this request (else it is read now).
    """
    return _resolve_settings(workspace, env, user)[0]


def config_get(
    key: str, workspace: str, *, env: Mapping[str, str] | None = None
) -> tuple[str | None, str | None]:
    """`(value, source)` of one key, exactly as `run` would use it; `(None, None)` if unset."""
    if key == "data_volume":
        return resolve_data_volume(workspace, env=env)
    if key in ("container_name", "created_at"):
        value = getattr(read_workspace_state(workspace), key)
        return (value, f"workspace:{workspace}") if value else (None, None)
    if key in ("image", "context"):
        settings, sources = _resolve_settings(workspace, env)
        field = "image" if key == "image" else "context_name"
        value = getattr(settings, field)
        return (value, sources.get(field, "default")) if value is not None else (None, None)
    raise DomainError(
        "unknownKey",
        f"Unknown config key: {key}",
        hint=f"Known keys: {', '.join(CONFIG_KEYS)}.",
        key=key,
    )
