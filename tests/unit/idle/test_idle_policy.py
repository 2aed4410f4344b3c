"""Idle auto-stop, host side without Docker: periods, the check's state file, the policy a
workspace gets (request > workspace state > `[lifecycle]` > off) and how `run` hands it to
the container (environment at creation, the file and the activity stamp on every run)."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from containai_rpc.cli.commands.inspect import idle_line, render_status
from containai_rpc.core.idle import (
    check_interval,
    format_period,
    parse_period,
    parse_state,
    stopped_by_idle,
    warning_lead,
)
from containai_rpc.errors import DomainError
from containai_rpc.protocol.models import RunParams
from containai_rpc.service import Service
from containai_rpc.workspace.state import user_config_path
from tests.support.fake_engine import FakeDocker


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("off", 0), ("OFF", 0), ("20s", 20), ("90m", 5400), ("2h", 7200), ("1d", 86400)],
)
def test_periods(text, seconds):
    assert parse_period(text) == seconds
    assert parse_period(format_period(seconds)) == seconds


@pytest.mark.parametrize("text", ["", "2", "h", "2x", "-5s", "1.5h", "4s", "366d", "2h30m"])
def test_bad_periods(text):
    with pytest.raises(ValueError):
        parse_period(text)


def test_short_periods_check_and_warn_proportionally():
    assert (check_interval(7200), warning_lead(7200)) == (30, 300)
    assert (check_interval(20), warning_lead(20)) == (2, 5)
    assert check_interval(20, configured_s=1) == 1
    assert check_interval(0, configured_s=30) == 30  # off: the check only reports


def test_the_state_file_shows_a_countdown_only_while_idle():
    text = "checked=1000\nidle_stop=20\ncheck=2\nactive=0\nidle_since=990\nauto_stop_at=1010\n"
    view = parse_state(text)
    assert view is not None and view.counting
    assert view.wire() == {
        "idle_stop": "20s",
        "idle_since": "1970-01-01T00:16:30Z",
        "auto_stop_at": "1970-01-01T00:16:50Z",
    }
    busy = parse_state(text.replace("active=0", "active=1"))
    assert busy is not None and busy.wire() == {
        "idle_stop": "20s",
        "idle_since": None,
        "auto_stop_at": None,
    }
    off = parse_state(text.replace("idle_stop=20", "idle_stop=0"))
    assert off is not None and off.wire()["idle_stop"] == "off" and not off.counting
    assert parse_state("checked=1\nidle_stop=") is None  # torn or absent: unknown


def test_the_marker_counts_only_for_the_last_start():
    started = datetime(2026, 1, 1, tzinfo=UTC)
    assert stopped_by_idle(f"{int(started.timestamp()) + 30}\n", started)
    assert not stopped_by_idle(f"{int(started.timestamp()) - 30}\n", started)  # an older stop
    assert not stopped_by_idle("garbage", started)


def test_run_params_refuse_a_malformed_period():
    with pytest.raises(ValidationError):
        RunParams(idle_stop="2 hours")


def _env(engine) -> dict[str, str]:
    return engine.created_specs[-1].environment


def _conf_writes(engine) -> list[str]:
    return [
        c.args[1][2]
        for c in engine.called("exec")
        if len(c.args) > 1 and "/run/containai/activity" in " ".join(c.args[1])
    ]


def test_run_passes_the_policy_and_records_the_request(
    fake_service: Service, fake_docker: FakeDocker, workspaces
):
    engine = fake_docker["default"]
    ws = workspaces("app")
    fake_service.run(RunParams(workspace=str(ws), idle_stop="20s"))
    assert _env(engine)["CONTAINAI_IDLE_STOP"] == "20"
    assert _env(engine)["CONTAINAI_IDLE_CHECK"] == "2"
    script = _conf_writes(engine)[-1]
    assert "touch /run/containai/activity" in script and "CONTAINAI_IDLE_STOP=20" in script
    state = tomllib.loads(user_config_path().read_text())["workspace"][str(ws)]
    assert state["idle_stop"] == "20s"

    fake_service.run(RunParams(workspace=str(ws)))  # attach: the recorded policy, a touch
    assert len(_conf_writes(engine)) == 2 and "CONTAINAI_IDLE_STOP=20" in _conf_writes(engine)[-1]

    fake_service.run(RunParams(workspace=str(ws), idle_stop="off"))
    assert "CONTAINAI_IDLE_STOP=0" in _conf_writes(engine)[-1]


def test_the_user_config_sets_the_default_and_keep_does_not_imply_it(
    fake_service: Service, fake_docker: FakeDocker, workspaces
):
    engine = fake_docker["default"]
    fake_service.run(RunParams(workspace=str(workspaces("kept")), keep=True))
    assert _env(engine)["CONTAINAI_IDLE_STOP"] == "0"  # off by default, keep or not
    path = user_config_path()
    path.write_text(path.read_text() + '\n[lifecycle]\nidle_stop = "2h"\n')
    fake_service.run(RunParams(workspace=str(workspaces("app"))))
    assert (_env(engine)["CONTAINAI_IDLE_STOP"], _env(engine)["CONTAINAI_IDLE_CHECK"]) == (
        "7200",
        "30",
    )


@pytest.mark.parametrize("value", ['"soon"', "7200", '"off"'])
def test_lifecycle_values_are_checked(
    fake_service: Service, fake_docker: FakeDocker, workspaces, value
):
    path = user_config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"[lifecycle]\nidle_check = {value}\n")
    with pytest.raises(DomainError) as err:
        fake_service.run(RunParams(workspace=str(workspaces("app"))))
    assert err.value.reason == "configInvalid" and "lifecycle.idle_check" in err.value.message


def test_a_period_below_the_minimum_is_a_clear_error(fake_service: Service, workspaces):
    with pytest.raises(DomainError) as err:
        fake_service.run(RunParams(workspace=str(workspaces("app")), idle_stop="2s"))
    assert err.value.reason == "invalidParams" and "5s" in err.value.message


def test_cai_status_prints_the_countdown():
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    r = {
        "idleStop": "2h",
        "idleSince": "2026-01-01T11:00:00Z",
        "autoStopAt": "2026-01-01T13:00:00Z",
    }
    assert idle_line(r, now) == "2h (auto-stop in 1h 00m at 13:00:00Z, idle since 11:00:00Z)"
    assert idle_line({"idleStop": "20s", "autoStopAt": "2026-01-01T12:00:12Z"}, now) == (
        "20s (auto-stop in 0m 12s at 12:00:12Z)"
    )
    assert idle_line({"idleStop": "2h"}, now) == "2h (in use)"
    assert idle_line({"idleStop": "off"}, now) == "off"
    base = {"name": "c", "status": "running", "image": "i"}
    assert "Idle stop" not in render_status(base)
    assert "  Idle stop: off" in render_status({**base, "idleStop": "off"})
