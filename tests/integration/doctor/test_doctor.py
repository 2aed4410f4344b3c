"""Doctor: `cai doctor` / `containai/doctor` on the real engine.

Doctor only reads from the main daemon (info, one image inspect, one list), so the
ready / missing-image / no-opt-in cases use it; the stopped engine is a dedicated one.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from containai_rpc.protocol.doctor import DoctorParams, DoctorResult
from containai_rpc.service import Service
from containai_rpc.ssh.hostconfig import MARKER, host_config_dir, include_line, user_ssh_config

pytestmark = pytest.mark.engine


def doctor(sandbox: Any, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """`cai doctor` (text) and `cai doctor --json`, which must agree on the exit code."""
    text = sandbox.cai("doctor", *args)
    raw = sandbox.cai("doctor", "--json", *args)
    assert raw.returncode == text.returncode, raw.stderr
    return text, json.loads(raw.stdout)


def in_process_doctor() -> DoctorResult:
    service = Service()
    try:
        return service.doctor(DoctorParams())
    finally:
        service.close()


def by_id(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in result["checks"]}


def line(text: str, label: str) -> str:
    """The report line of a check: label padded to 44 columns, like the original."""
    return next(row for row in text.splitlines() if row.startswith(f"  {label:<44} "))


def test_ready_with_reduced_isolation(sandbox):
    proc, result = doctor(sandbox)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (result["ok"], result["recommendedAction"], result["isolation"]) == (
        True,
        "ready",
        "runc-reduced",
    )
    checks = by_id(result)
    assert checks["isolation.runtime"]["status"] == "warn"
    assert "Sysbox" in checks["isolation.runtime"]["hint"]
    assert checks["docker.engine"]["status"] == "ok"
    assert "(API 1." in checks["docker.engine"]["detail"]
    assert {c["status"] for c in result["checks"]} <= {"ok", "warn"}
    for check in ("isolation.kernel", "image.default", "ssh.client", "ssh.ports"):
        assert checks[check]["status"] == "ok", checks[check]
    # a fresh HOME: nothing set up yet is fine, the first run does it
    assert "not created yet" in checks["ssh.key"]["detail"]

    text = proc.stdout
    assert text.startswith("ContainAI Doctor\n================\n")
    for section in ("Docker", "Isolation", "Image", "SSH", "Configuration", "Summary"):
        assert f"\n{section}\n" in text
    assert line(text, "Isolation runtime:").split()[2:4] == ["[WARN]", "runc-reduced:"]
    assert line(text, "Kernel version:").split()[2] == "[OK]"
    assert line(text, "Recommended:").split()[1] == "ready"
    print(text)


def test_stopped_engine_says_start_docker(sandbox, dedicated_engine, monkeypatch):
    sandbox.env["DOCKER_HOST"] = dedicated_engine.host
    monkeypatch.setenv("DOCKER_HOST", dedicated_engine.host)
    dedicated_engine.stop()
    began = time.monotonic()
    proc, result = doctor(sandbox)
    took = time.monotonic() - began
    assert proc.returncode == 1
    assert (result["ok"], result["recommendedAction"]) == (False, "startDocker")
    assert "isolation" not in result
    checks = by_id(result)
    engine = checks["docker.engine"]
    assert engine["status"] == "error"
    assert f"not reachable at {dedicated_engine.host}: socket not found" in engine["detail"]
    assert "Start the Docker daemon" in engine["hint"]
    assert checks["image.default"]["status"] == "skip"
    assert checks["isolation.runtime"]["status"] == "skip"
    assert line(proc.stdout, "Docker engine (context 'default'):").split()[4] == "[ERROR]"
    assert "Start the Docker daemon" in proc.stdout
    assert line(proc.stdout, "Recommended:").split()[1] == "startDocker"
    print(f"two doctor runs with the engine stopped: {took:.1f} s (incl. server starts)")


def test_missing_image_says_how_to_build_it(sandbox, monkeypatch):
    sandbox.env["CONTAINAI_IMAGE"] = "containai:does-not-exist"
    monkeypatch.setenv("CONTAINAI_IMAGE", "containai:does-not-exist")
    proc, result = doctor(sandbox)
    assert proc.returncode == 1
    assert (result["ok"], result["recommendedAction"]) == (False, "buildImage")
    image = by_id(result)["image.default"]
    assert (image["title"], image["status"]) == ("Image containai:does-not-exist", "error")
    for words in ("scripts/images.sh", "images/containai/Dockerfile.registry"):
        assert words in image["hint"]
    assert "make setup" in proc.stdout


def test_without_sysbox_or_opt_in_isolation_is_an_error(sandbox, monkeypatch):
    sandbox.env["CONTAINAI_ALLOW_REDUCED_ISOLATION"] = "0"
    monkeypatch.setenv("CONTAINAI_ALLOW_REDUCED_ISOLATION", "0")
    proc, result = doctor(sandbox)
    assert proc.returncode == 1
    assert (result["recommendedAction"], "isolation" in result) == ("enableIsolation", False)
    runtime = by_id(result)["isolation.runtime"]
    assert runtime["status"] == "error"
    assert "allowReducedIsolation" in runtime["hint"]
    assert "CONTAINAI_ALLOW_REDUCED_ISOLATION=1" in proc.stdout


def test_broken_config_is_a_check_not_a_failure(sandbox):
    """In-process too: doctor never raises, and still probes the engine."""
    sandbox.config_file.write_text("[agent\n")
    result = in_process_doctor()
    checks = {c.id: c for c in result.checks}
    assert (result.ok, result.recommended_action) == (False, "fixConfig")
    assert checks["config.state"].status == "error"
    assert str(sandbox.config_file) in checks["config.state"].detail
    assert checks["config.settings"].status == "skip"
    assert checks["docker.engine"].status == "ok"


def test_ssh_set_up_but_include_missing_warns(sandbox):
    folder = host_config_dir()
    folder.mkdir(parents=True)
    (folder / "old-main.conf").write_text(f"{MARKER} old-main\nHost old-main\n    Port 2399\n")
    user_ssh_config().write_text("Host *\n    ServerAliveInterval 30\n")
    result = in_process_doctor()
    checks = {c.id: c for c in result.checks}
    assert checks["ssh.configDir"].status == "ok"
    assert "1 host config" in checks["ssh.configDir"].detail
    assert checks["ssh.include"].status == "warn"
    assert include_line() in (checks["ssh.include"].hint or "")
    assert result.ok  # a warning: the next run puts the line back
    assert Path(user_ssh_config()).read_text() == "Host *\n    ServerAliveInterval 30\n"
