"""pygls message conversion shared by our server and our clients.

pygls turns untyped params and results into namedtuples, which mangle keys that are not
identifiers (docker label keys). We keep them as the plain JSON they are and validate with
the pydantic models instead.
"""

from __future__ import annotations

from typing import Any

import attrs
from pygls.protocol import (
    JsonRPCNotification,
    JsonRPCRequestMessage,
    JsonRPCResponseMessage,
    default_converter,
)


def _as_is(obj: dict[str, Any], cls: type) -> Any:
    """Params stay plain JSON; unknown top-level keys are ignored, as receivers must."""
    return cls(**{k: v for k, v in obj.items() if k in attrs.fields_dict(cls)})


_JSON_LEAVES = (str, int, float, bool, type(None))


def converter_factory() -> Any:
    converter = default_converter()
    for message in (JsonRPCRequestMessage, JsonRPCNotification, JsonRPCResponseMessage):
        converter.register_structure_hook(message, _as_is)

    def outgoing(message: Any) -> dict[str, Any]:
        """Our results are plain JSON already (`.wire()`): sent as they are, not walked
        again by cattrs (that deep copy cost more than building a 1000-row `list`)."""
        result = message.result
        if not isinstance(result, (dict, list, *_JSON_LEAVES)):
            result = converter.unstructure(result)
        return {"jsonrpc": message.jsonrpc, "id": message.id, "result": result}

    converter.register_unstructure_hook(JsonRPCResponseMessage, outgoing)
    return converter
