"""The only package that imports `docker`: contexts, containers, volumes, images, exec.

Everything returned from here is a plain domain object (`containai_rpc.engine.models`),
never an SDK object, so the layers above can be tested and reasoned about without Docker.
"""

from containai_rpc.engine.client import Engine
from containai_rpc.engine.contexts import EngineSet
from containai_rpc.engine.models import (
    MANAGED_LABEL,
    ContainerInfo,
    CreateSpec,
    EngineEvent,
    EngineInfo,
    ExecResult,
    ImageInfo,
    Mount,
)

__all__ = [
    "MANAGED_LABEL",
    "ContainerInfo",
    "CreateSpec",
    "Engine",
    "EngineEvent",
    "EngineInfo",
    "EngineSet",
    "ExecResult",
    "ImageInfo",
    "Mount",
]
