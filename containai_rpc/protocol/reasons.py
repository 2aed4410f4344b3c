"""`Reason`: every value `error.data.reason` can take, the one list of them.

`DomainError` takes a `Reason`, the JSON Schema exports it as the `Reason` definition (an
enum that `ErrorData.reason` refers to), the extension gets it as a TypeScript union, and
protocol.md's Reasons table documents each one (tests/protocol/test_contract.py checks all
four agree with the code).
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field
from typing_extensions import TypeAliasType

# A named alias (not a bare Literal) so pydantic emits one `$defs/Reason` shared by reference.
Reason = TypeAliasType(
    "Reason",
    Annotated[
        Literal[
            # params and protocol
            "invalidParams",
            "unsupportedProtocolVersion",
            "cancelled",
            "confirmationRequired",
            "conflictingOptions",
            "busy",
            # input
            "invalidAge",
            "invalidName",
            "invalidPath",
            "invalidWorkspace",
            "unknownKey",
            "workspaceNotFound",
            "workspaceRefused",
            # configuration and state file
            "configInvalid",
            "stateFileInvalid",
            "stateWriteFailed",
            # Docker contexts and engines
            "contextNotFound",
            "contextInvalid",
            "engineUnavailable",
            "engineError",
            "isolationUnavailable",
            # containers, volumes, images
            "containerNotFound",
            "volumeNotFound",
            "imageNotFound",
            "invalidTemplateName",
            "templateBuildFailed",
            "templateMismatch",
            "contextMismatch",
            "ambiguousContainer",
            "multipleContainers",
            "nameConflict",
            "notManaged",
            "unexpectedState",
            "volumeMismatch",
            "volumeNotApproved",
            "volumeNotEmpty",
            "archiveInvalid",
            "workspaceMismatch",
            "startFailed",
            "startTimeout",
            # SSH access
            "portsExhausted",
            "sshSetupFailed",
            "sshdTimeout",
            "hostKeyChanged",
        ],
        Field(description="Stable machine-readable cause; see the Reasons table."),
    ],
)

REASONS: tuple[str, ...] = get_args(get_args(Reason.__value__)[0])
