"""The operations (run, stop, status, list …), free of any transport: no pygls here."""

from containai_rpc.service.facade import Service
from containai_rpc.service.hooks import Hooks
from containai_rpc.workspace.paths import CLIENT_CWD

__all__ = ["CLIENT_CWD", "Hooks", "Service"]
