"""The MCP tools' inputs and outputs: pydantic models whose JSON Schemas the tools
advertise, built from the protocol's own models and field definitions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import Field

from containai_rpc.protocol.base import Params, WireModel
from containai_rpc.protocol.models import ContextName, ListResult, RunResult, StatusResult
from containai_rpc.protocol.stop import StopResult

DEFAULT_TIMEOUT_S = 120.0
MAX_TIMEOUT_S = 3600.0
DEFAULT_OUTPUT_BYTES = 256 * 1024
MAX_OUTPUT_BYTES = 4 * 2**20


class WorkspaceArgs(Params):
    """One workspace's container: the default workspace unless `workspace` names another
    allowed one (a root of the client, or a workspace the server was started with)."""

    workspace: str | None = Field(
        default=None,
        min_length=1,
        max_length=4096,
        description="Workspace directory; default: the client's first root, else the "
        "server's first --workspace, else its working directory. Must be one of those.",
    )


class ListArgs(Params):
    context: str | None = ContextName


class ExecArgs(WorkspaceArgs):
    command: list[str] = Field(
        min_length=1,
        max_length=1024,
        description='The argv to run, e.g. ["pytest", "-q"] or ["sh", "-c", "make && ls"]; '
        "runs as `agent` in /home/agent/workspace of the container, without a terminal.",
    )
    env: dict[str, str] | None = Field(
        default=None, description="Extra environment variables for the command."
    )
    timeout_seconds: float = Field(
        default=DEFAULT_TIMEOUT_S,
        gt=0,
        le=MAX_TIMEOUT_S,
        description="Kill the command after this many seconds (`timedOut` then says so).",
    )
    max_output_bytes: int = Field(
        default=DEFAULT_OUTPUT_BYTES,
        ge=1024,
        le=MAX_OUTPUT_BYTES,
        description="Keep at most this many bytes of stdout and of stderr each; the rest "
        "is counted and dropped (`stdoutTruncated`/`stderrTruncated`).",
    )


class ExecResult(WireModel):
    """What a command did. `exitCode` is absent when it was killed (timeout)."""

    exit_code: int | None = Field(default=None, description="The command's exit status.")
    stdout: str = Field(description="Its standard output (UTF-8, invalid bytes replaced).")
    stderr: str = Field(description="Its standard error (UTF-8, invalid bytes replaced).")
    timed_out: bool = Field(default=False, description="Killed after `timeoutSeconds`.")
    stdout_truncated: bool = Field(default=False, description="stdout was cut at the cap.")
    stderr_truncated: bool = Field(default=False, description="stderr was cut at the cap.")
    stdout_bytes: int = Field(description="Bytes the command wrote to stdout in all.")
    stderr_bytes: int = Field(description="Bytes the command wrote to stderr in all.")
    duration_seconds: float
    container_name: str
    workspace: str


@dataclass(frozen=True)
class ToolSpec:
    """One tool: its name, wording, argument and result models and MCP annotations.
    `destructive` tools are confirmed (elicitation) or need `--allow-destructive`."""

    name: str
    title: str
    description: str
    args: type[Params]
    result: type[WireModel]
    read_only: bool = False
    destructive: bool = False
    idempotent: bool = False

    def annotations(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "readOnlyHint": self.read_only,
            "destructiveHint": self.destructive,
            "idempotentHint": self.idempotent,
            "openWorldHint": False,
        }

    def input_schema(self) -> dict[str, Any]:
        return self.args.model_json_schema(by_alias=True)

    def output_schema(self) -> dict[str, Any]:
        return self.result.model_json_schema(by_alias=True, mode="serialization")


TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        "containai_status",
        "Container status",
        "Status of the workspace's container: state, uptime, sessions, memory and CPU.",
        WorkspaceArgs,
        StatusResult,
        read_only=True,
        idempotent=True,
    ),
    ToolSpec(
        "containai_list",
        "List containers",
        "The ContainAI-managed containers of the workspaces this server may act on, in "
        "every managed Docker context.",
        ListArgs,
        ListResult,
        read_only=True,
        idempotent=True,
    ),
    ToolSpec(
        "containai_run",
        "Ensure the container runs",
        "Create the workspace's container if missing, start it if stopped, attach if "
        "running. Opens no session; use containai_exec to run commands in it.",
        WorkspaceArgs,
        RunResult,
        idempotent=True,
    ),
    ToolSpec(
        "containai_exec",
        "Run a command in the container",
        "Run a command in the workspace's container (started if needed) over SSH as the "
        "agent user in /home/agent/workspace; returns exit code, stdout and stderr. The "
        "container is the sandbox: the command cannot touch the host.",
        ExecArgs,
        ExecResult,
    ),
    ToolSpec(
        "containai_stop",
        "Stop the container",
        "Stop the workspace's container; processes and sessions in it end. The container "
        "and its data volume are kept. Asks the user first.",
        WorkspaceArgs,
        StopResult,
        destructive=True,
        idempotent=True,
    ),
    ToolSpec(
        "containai_fresh",
        "Recreate the container",
        "Remove the workspace's container and create it anew from its image on the same "
        "data volume: everything outside the volume is lost. Asks the user first.",
        WorkspaceArgs,
        RunResult,
        destructive=True,
    ),
)
BY_NAME: dict[str, ToolSpec] = {t.name: t for t in TOOLS}
