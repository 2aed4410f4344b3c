"""Wire models of sessions (part of the protocol's single source): what `containai/run`
is asked to run in the container, and the argv it answers with."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from containai_rpc.protocol.base import Params, WireModel

AGENT_NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"
ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class SessionCommand(WireModel):
    """How a client runs a session (the agent or a command) in the container over SSH."""

    argv: list[str] = Field(
        description="The exact argv to execute (`ssh … <container> '<remote command>'`): it "
        "runs in /home/agent/workspace; exit status 255 is SSH's own failure."
    )
    remote_command: str = Field(description="The shell command line the container runs.")
    tty: bool = Field(description="`argv` asks for a terminal (`-t`).")
    detached: bool = Field(
        default=False, description="It starts in the background and prints its pid."
    )
    agent: str | None = Field(
        default=None, description="The agent it runs; absent when a `command` was given."
    )


class SessionOptions(Params):
    """The session and resource options of `containai/run` (`RunParams` has them)."""

    agent: str | None = Field(
        default=None,
        pattern=AGENT_NAME_PATTERN,
        max_length=64,
        description="The agent `session` runs (default: `[agent] default` in the config, "
        "else `claude`).",
    )
    command: list[str] | None = Field(
        default=None,
        min_length=1,
        description="Run this argv in `session` instead of the agent.",
    )
    env: dict[str, str] | None = Field(
        default=None,
        description="Environment of the session's command (names `[A-Za-z_][A-Za-z0-9_]*`).",
    )
    tty: bool = Field(default=False, description="`session.argv` asks for a terminal (`-t`).")
    detached: bool = Field(
        default=False,
        description="`session` starts the command in the background and prints its pid.",
    )
    memory: str | None = Field(
        default=None,
        pattern=r"^[0-9]+(\.[0-9]+)?[bkmgBKMG]?$",
        max_length=32,
        description="Memory limit of a new container, e.g. `4g` (default: `[container] "
        "memory`, else half the engine's, at least 2g).",
    )
    cpus: float | None = Field(
        default=None,
        ge=0.01,
        le=1024,
        description="CPU limit of a new container (default: `[container] cpus`, else half "
        "the engine's, at least 1).",
    )

    @field_validator("command")
    @classmethod
    def _command_ok(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and (not value[0] or any("\0" in arg for arg in value)):
            raise ValueError("command: a non-empty program name and no NUL characters")
        return value

    @field_validator("env")
    @classmethod
    def _env_ok(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for name, text in (value or {}).items():
            if not ENV_NAME_RE.fullmatch(name):
                raise ValueError(f"env: invalid variable name {name!r}")
            if "\0" in text:
                raise ValueError(f"env: the value of {name} contains a NUL character")
        return value
