"""The only package that imports `docker`: contexts, containers, volumes, images, exec.

Everything returned from here is a plain domain object (`containai_rpc.engine.models`),
never an SDK object, so the layers above can be tested and reasoned about without Docker.
`Engine` is the protocol those layers are typed against; `DockerEngine` is the SDK adapter
that implements it.
"""

from containai_rpc.engine.client import Engine as DockerEngine
from containai_rpc.engine.contexts import Connector, EngineSet
from containai_rpc.engine.models import (
    MANAGED_LABEL,
    ContainerInfo,
    CreateSpec,
    EngineEvent,
    EngineInfo,
    ExecResult,
    ImageInfo,
    Mount,
    VolumeInfo,
)
from containai_rpc.engine.port import Engine, EventSource

__all__ = [
    "MANAGED_LABEL",
    "Connector",
    "ContainerInfo",
    "CreateSpec",
    "DockerEngine",
    "Engine",
    "EngineEvent",
    "EngineInfo",
    "EngineSet",
    "EventSource",
    "ExecResult",
    "ImageInfo",
    "Mount",
    "VolumeInfo",
]
