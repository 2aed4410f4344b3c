"""The operations (run, stop, status, list …), free of any transport: no pygls here."""

from containai_rpc.service.facade import Service
from containai_rpc.service.hooks import Hooks

__all__ = ["Hooks", "Service"]
