"""Shared pydantic base classes: camelCase on the wire, absent rather than null."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class WireModel(BaseModel):
    """A message part. Receivers ignore unknown fields, so a newer peer may add some."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", use_enum_values=True
    )

    def wire(self) -> dict[str, Any]:
        """Plain JSON for pygls: camelCase, optional fields omitted, never null."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class Params(WireModel):
    """Request params: strict types, so `"true"` for a boolean is an error, not a guess."""

    model_config = ConfigDict(strict=True)
