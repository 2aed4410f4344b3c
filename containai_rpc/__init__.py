"""ContainAI container lifecycle over stdio JSON-RPC."""

__version__ = "0.1.0"
