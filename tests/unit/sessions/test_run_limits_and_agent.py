"""`run`'s resource options and default agent, over the fake engine: the request's limits
win over the config's for a new container, bad ones change nothing, and an existing
container with other limits is a warning naming fresh."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from containai_rpc.engine import ContainerInfo
from containai_rpc.errors import DomainError
from containai_rpc.protocol.models import RunParams
from containai_rpc.service import Service
from containai_rpc.service.run_limits import limits_differ
from containai_rpc.workspace.config import load_settings
from containai_rpc.workspace.state import user_config_path
from tests.support.fake_engine import FakeDocker


def write_config(text: str) -> None:
    path = user_config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_requested_limits_beat_the_config(
    fake_service: Service, fake_docker: FakeDocker, workspaces
):
    write_config('[container]\nmemory = "3g"\ncpus = 2\n')
    ws = workspaces("app")
    fake_service.run(RunParams(workspace=str(ws), memory="1g", cpus=1.5))
    spec = fake_docker.engines["default"].created_specs[-1]
    assert (spec.memory, spec.cpus) == ("1g", 1.5)
    fake_service.run(RunParams(workspace=str(workspaces("other"))))
    spec = fake_docker.engines["default"].created_specs[-1]
    assert (spec.memory, spec.cpus) == ("3g", 2.0)


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"memory": "1m"}, "invalidParams"),
        ({"memory": "99999g"}, "invalidParams"),
        ({"cpus": 64.0}, "invalidParams"),
    ],
)
def test_bad_limits_change_nothing(
    fake_service: Service, fake_docker: FakeDocker, workspaces, params, reason
):
    with pytest.raises(DomainError) as err:
        fake_service.run(RunParams(workspace=str(workspaces("app")), **params))
    assert err.value.reason == reason
    assert fake_docker.engines["default"].created_specs == []


def test_a_run_without_ssh_has_no_session(fake_service: Service, workspaces):
    result = fake_service.run(RunParams(workspace=str(workspaces("app")), command=["true"]))
    assert result.session is None  # the fake image is labelled containai.image.ssh=false
    dry = fake_service.run(RunParams(workspace=str(workspaces("b")), dry_run=True))
    assert dry.session is None


def _info(memory: int | None, nano_cpus: int | None) -> ContainerInfo:
    return ContainerInfo(
        id="x",
        name="app-main",
        context="default",
        state="running",
        image="i",
        labels={},
        memory_limit=memory,
        nano_cpus=nano_cpus,
    )


def test_limits_differ_names_what_differs_and_fresh():
    info = _info(2**30, 10**9)
    assert limits_differ(RunParams(memory="1g", cpus=1.0), info) is None
    assert limits_differ(RunParams(memory="1024m"), info) is None
    assert limits_differ(RunParams(), info) is None
    text = limits_differ(RunParams(memory="2g"), info)
    assert text is not None and "memory 1g, cpus 1" in text and "memory 2g" in text
    assert "fresh" in text and "cpus 1 apply" not in text
    text = limits_differ(RunParams(cpus=0.5), dataclasses.replace(info, nano_cpus=None))
    assert text is not None and "no CPU limit" in text and "cpus 0.5" in text


def test_agent_default_from_the_user_config(isolated_home: Path):
    write_config('[agent]\ndefault = "gemini"\n')
    assert load_settings().agent == "gemini"
    write_config('[agent]\ndefault = "Not An Agent"\n')
    with pytest.raises(DomainError) as err:
        load_settings()
    assert err.value.reason == "configInvalid" and "agent.default" in err.value.message
    write_config('[agent]\ndata_volume = "v"\n')
    assert load_settings().agent is None
