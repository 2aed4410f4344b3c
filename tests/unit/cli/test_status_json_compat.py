"""`cai status --json` prints the original's object: its keys, formats and raw status."""

from __future__ import annotations

import argparse

import pytest

from containai_rpc.cli import main, original_json
from containai_rpc.core.units import bytes_size

RUNNING = {
    "id": "abc",
    "name": "shop-main",
    "context": "default",
    "status": "running",
    "dockerState": "running",
    "image": "containai:latest",
    "workspace": "/home/me/shop",
    "dataVolume": "containai-data",
    "sshPort": 2300,
    "keep": False,
    "uptime": "3d 4h 12m",
    "sessions": {"sshConnections": 1, "activeTerminals": 2},
    "sessionsKnown": True,
    "resources": {
        "memoryBytes": int(1.2 * 1024**3),
        "memoryLimitBytes": 4 * 1024**3,
        "memoryPercent": 30.0,
        "cpuPercent": 5.2,
        "memoryText": "1.2GiB / 4GiB (30%)",
    },
}


def test_running_container_has_the_original_keys_and_formats():
    out = original_json.status(RUNNING)
    assert list(out)[:6] == ["container", "status", "image", "uptime", "sessions", "resources"]
    assert out["container"] == "shop-main"
    assert out["status"] == "running"
    assert out["image"] == "containai:latest"
    assert out["uptime"] == "3d 4h 12m"
    assert out["sessions"] == {"ssh_connections": 1, "active_terminals": 2}
    assert out["resources"] == {
        "memory_usage": "1.2GiB",
        "memory_limit": "4GiB",
        "memory_percent": "30%",
        "cpu_percent": "5.20%",
    }
    # extras of ours: snake_case, never one of the original's names
    assert out["context"] == "default" and out["data_volume"] == "containai-data"
    assert out["ssh_port"] == 2300 and "keep" not in out


def test_stopped_container_reports_dockers_raw_state_and_drops_the_unknown():
    stopped = {
        "id": "abc",
        "name": "shop-main",
        "context": "default",
        "status": "stopped",
        "dockerState": "exited",
        "image": "containai:latest",
        "keep": True,
    }
    out = original_json.status(stopped)
    assert out["status"] == "exited"
    for absent in ("uptime", "sessions", "resources"):
        assert absent not in out
    assert None not in out.values()
    assert out["keep"] is True


def test_inner_keys_are_dropped_one_by_one():
    partial = {
        **RUNNING,
        "sessions": None,
        "resources": {"cpuPercent": 0.0},
        "partial": ["sessions"],
    }
    out = original_json.status(partial)
    assert "sessions" not in out
    assert out["resources"] == {"cpu_percent": "0.00%"}
    assert out["partial"] == ["sessions"]
    no_limit = original_json.status({**RUNNING, "resources": {"memoryBytes": 2048}})
    assert no_limit["resources"] == {"memory_usage": "2KiB"}


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0B"), (1023, "1023B"), (1536, "1.5KiB"), (4 * 1024**3, "4GiB"), (123456789, "117.7MiB")],
)
def test_bytes_size_is_dockers(size, text):
    assert bytes_size(size) == text


def test_yes_flag_and_cai_yes(monkeypatch):
    monkeypatch.delenv("CAI_YES", raising=False)
    assert main.assume_yes(argparse.Namespace(yes=True))
    assert not main.assume_yes(argparse.Namespace(yes=False))
    assert not main.assume_yes(argparse.Namespace())
    monkeypatch.setenv("CAI_YES", "1")
    assert main.assume_yes(argparse.Namespace(yes=False))
    monkeypatch.setenv("CAI_YES", "0")
    assert not main.assume_yes(argparse.Namespace())


def test_only_commands_that_can_ask_take_yes_and_only_run_shell_take_config():
    parser = main.build_parser()
    for command in ("stop", "gc"):
        assert parser.parse_args([command, "-y"]).yes
        assert parser.parse_args([command, "--yes"]).yes
    for command in ("run", "shell"):
        assert parser.parse_args([command, "--config", "f.toml"]).config == "f.toml"
    with pytest.raises(main.UsageError):
        parser.parse_args(["status", "--yes"])
    with pytest.raises(main.UsageError):
        parser.parse_args(["stop", "--config", "f.toml"])


def test_missing_config_file_is_a_usage_error(tmp_path):
    args = argparse.Namespace(config=str(tmp_path / "nope.toml"))
    with pytest.raises(main.UsageError, match="Config file not found"):
        main.config_file(args)
    real = tmp_path / "c.toml"
    real.write_text("")
    assert main.config_file(argparse.Namespace(config=str(real))) == str(real)
