"""The protocol's version, importable without pydantic (the CLI client sends it)."""

PROTOCOL_VERSION = "1.0"
