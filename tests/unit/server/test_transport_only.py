"""The server is transport: every containai/* method is a `Service` method of the same
name, live domain events become the registry's notifications, and no server module
reaches past the service into the engine."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from containai_rpc.protocol.models import ContainerChanged, ContainerSummary, EngineStatus
from containai_rpc.protocol.registry import METHODS, NOTIFICATIONS
from containai_rpc.server.app import create_server
from containai_rpc.server.notify import notifier
from containai_rpc.service import Service

SERVER = Path(__file__).resolve().parents[3] / "containai_rpc" / "server"


def test_server_modules_import_neither_the_engine_nor_docker():
    imported: dict[str, list[str]] = {}
    for path in sorted(SERVER.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            bad = [n for n in names if n.startswith(("containai_rpc.engine", "docker"))]
            if bad:
                imported.setdefault(path.name, []).extend(bad)
    assert imported == {}


def test_every_method_is_bound_to_the_service_method_it_names():
    assert all(callable(getattr(Service, spec.operation, None)) for spec in METHODS)
    server = create_server(Service())
    registered = server.protocol.fm.features
    assert {spec.name for spec in METHODS} <= set(registered)


def test_domain_events_become_the_registry_notifications():
    sent: list[tuple[str, dict[str, Any]]] = []
    emit = notifier(lambda name, params: sent.append((name, params)))
    status = EngineStatus(health="ok", message="reachable", context="default")
    emit(status)
    summary = ContainerSummary.model_construct(name="app-main")
    change = ContainerChanged.model_construct(revision=3, kind="stopped", container=summary)
    emit(change)
    names = {n.params: n.name for n in NOTIFICATIONS}
    assert [name for name, _ in sent] == [names[EngineStatus], names[ContainerChanged]]
    assert sent[0][1] == status.wire()
