"""The service says what is wrong in protocol words; `cai` says it in flags.

Each case takes the error from the code that raises it (so a reworded service message
shows up here) and checks the `[ERROR]`/`[HINT]` wording the CLI prints for it.
"""

from __future__ import annotations

from typing import Any

import pytest

from containai_rpc.cli import main as cli_main
from containai_rpc.cli.commands.doctor import render_doctor
from containai_rpc.cli.phrasing import phrase_error, phrase_finding
from containai_rpc.cli.process import RpcError
from containai_rpc.engine.errors import unavailable
from containai_rpc.engine.models import ContainerInfo, EngineInfo
from containai_rpc.errors import DomainError
from containai_rpc.protocol.models import RunParams
from containai_rpc.protocol.stop import StopParams
from containai_rpc.service import run_decide, stop_decide
from containai_rpc.service.doctor.engines import isolation_checks
from containai_rpc.service.doctor.ssh import ports_check
from containai_rpc.service.hooks import Hooks
from containai_rpc.service.resolve import WorkspaceMatch, own_container, target_container
from containai_rpc.ssh.ports import pick_port
from containai_rpc.workspace.config import Settings


def said(err: DomainError | run_decide.Refusal, command: str = "run") -> tuple[str, str | None]:
    if isinstance(err, run_decide.Refusal):
        err = DomainError(err.reason, err.message, hint=err.hint)
    return phrase_error(err.message, err.to_data(), command)


def raised(call: Any, *args: Any) -> DomainError:
    with pytest.raises(DomainError) as err:
        call(*args)
    return err.value


def box(name: str, workspace: str | None = None) -> ContainerInfo:
    labels = {"containai.managed": "true", "containai.data-volume": "containai-data"}
    if workspace:
        labels["containai.workspace"] = workspace
    return ContainerInfo("id-" + name, name, "default", "running", "img", labels)


@pytest.mark.parametrize(
    ("params", "message", "hint"),
    [
        (
            RunParams(reset=True, fresh=True),
            "--reset and --fresh are mutually exclusive",
            "--fresh recreates the container with the same volume; --reset generates a new volume.",
        ),
        (
            RunParams(reset=True, restart=True),
            "--reset and --fresh are mutually exclusive",
            "--fresh recreates the container with the same volume; --reset generates a new volume.",
        ),
        (
            RunParams(reset=True, container="c"),
            "--reset and --container are mutually exclusive",
            None,
        ),
        (
            RunParams(reset=True, data_volume="v"),
            "--reset and --data-volume are mutually exclusive",
            "--reset generates a new unique volume name; use --data-volume alone to pick a volume.",
        ),
        (
            RunParams(container="c", workspace="/w"),
            "--container and --workspace are mutually exclusive",
            None,
        ),
        (
            RunParams(container="c", data_volume="v"),
            "--container and --data-volume are mutually exclusive",
            None,
        ),
    ],
)
def test_run_conflicts_name_the_flags(params: RunParams, message: str, hint: str | None):
    err = raised(run_decide.check_options, params)
    assert err.reason == "conflictingOptions" and "--" not in err.message
    assert said(err) == (message, hint)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (StopParams(all=True, container="c"), "--container and --all are mutually exclusive"),
        (StopParams(all=True, workspace="/w"), "--workspace and --all are mutually exclusive"),
        (
            StopParams(container="c", workspace="/w"),
            "--container and --workspace are mutually exclusive",
        ),
    ],
)
def test_stop_conflicts_name_the_flags(params: StopParams, message: str):
    assert said(raised(stop_decide.check_options, params), "stop") == (message, None)


def test_unknown_options_still_read_as_flags_and_keep_the_server_hint():
    data = {"reason": "conflictingOptions", "options": ["images", "age"], "hint": "pick one"}
    assert phrase_error("images and age are mutually exclusive", data) == (
        "--images and --age are mutually exclusive",
        "pick one",
    )


def test_fresh_is_the_cli_command():
    refusal = run_decide.Refusal("volumeMismatch", "m", "A fresh run recreates the container")
    assert said(refusal)[1] == (
        "Use --fresh (cai run --fresh) to recreate the container on the requested volume "
        "(the current volume is kept)."
    )
    refusal = run_decide.Refusal("unexpectedState", "m", "A fresh run recreates it.")
    assert said(refusal)[1] == "Use --fresh (cai run --fresh) to recreate it."


def test_image_and_isolation_name_make_and_the_environment():
    missing = run_decide.image_missing("containai:x", "default")
    assert said(missing) == (
        missing.message,
        "Build it with 'make setup' (scripts/images.sh) or pull it into this context.",
    )
    refused = run_decide.choose_isolation(False, False, "default")
    assert isinstance(refused, run_decide.Refusal)
    assert said(refused)[1] == (
        "Install Sysbox (see 'cai doctor'), or opt in to reduced isolation with "
        "CONTAINAI_ALLOW_REDUCED_ISOLATION=1 or [isolation] allow_reduced = true."
    )


def test_which_container_is_the_container_flag():
    several = WorkspaceMatch("/w", None, several=(box("one", "/w"), box("two", "/w")))
    assert said(raised(own_container, several))[1] == "Use --container to specify which one."
    stray = WorkspaceMatch("/w", "theirs", stray=box("theirs", "/other"))
    assert said(raised(target_container, stray), "status")[1] == (
        "Use --container theirs, or fix the workspace state."
    )
    gone = stop_decide.nothing_found("/w", None, "default")
    assert isinstance(gone, DomainError)
    assert said(gone, "stop")[1] == (
        "Use 'cai stop --container <name>' to pick one (cai list shows them)."
    )
    named = DomainError("containerNotFound", "Container not found: c", container="c")
    assert said(named, "status") == ("Container not found: c", None)
    ambiguous = {"reason": "ambiguousContainer"}
    assert phrase_error("m", ambiguous)[1] == (
        "Pass --context to pick one, or remove or rename the duplicate."
    )


def test_doctor_force_and_ports_are_commands():
    down = unavailable("ctx", "unix:///d.sock", ConnectionRefusedError())
    hint = said(down)[1]
    assert hint and hint.endswith("then run 'cai doctor'.")
    denied = unavailable("ctx", "unix:///d.sock", PermissionError())
    assert said(denied)[1] == denied.hint
    asked = raised(Hooks().ask, "Container 'c' may have active sessions. Stop anyway?", "Stop")
    assert said(asked, "stop")[1] == (
        "Repeat 'cai stop' with --yes (or CAI_YES=1) to answer yes, or run it on a terminal."
    )
    full = raised(pick_port, (1, 1), [1])
    assert said(full)[1] == (
        "Remove unused containers (cai stop --all --remove, cai gc) or widen "
        "[ssh] port_range_start/port_range_end."
    )


def test_host_key_change_names_cai_run_fresh():
    data = {
        "reason": "hostKeyChanged",
        "hint": "If you recreated the container outside ContainAI, recreate it with a fresh "
        "run (or remove the old entry: ssh-keygen -R '[127.0.0.1]:2300' -f kh); otherwise …",
    }
    hint = phrase_error("m", data)[1]
    assert hint and "run it with 'cai run --fresh' (or remove" in hint


def test_doctor_findings_in_cli_words():
    info = EngineInfo("default", "unix:///d.sock", "27", "1.47", ("runc",), "6.8.0", 4, 1 << 30)
    runtime = isolation_checks(info, Settings(), None)[0].check.model_dump(by_alias=True)
    assert "CONTAINAI_ALLOW_REDUCED_ISOLATION=1" in (phrase_finding(runtime) or "")
    reduced = isolation_checks(info, Settings(allow_reduced_isolation=True), "runc-reduced")
    assert "'cai run' then uses" in (phrase_finding(reduced[0].check.model_dump()) or "")
    ports = ports_check((1, 1), [1]).check.model_dump()
    assert "cai stop --all --remove, cai gc" in (phrase_finding(ports) or "")
    image = {
        "id": "image.default",
        "hint": "Build it in a containai-rpc checkout: scripts/images.sh (no registry needed), …",
    }
    assert "'make setup' (scripts/images.sh, no registry needed)" in (phrase_finding(image) or "")
    report = {
        "checks": [{**ports, "status": "error"}],
        "ok": False,
        "recommendedAction": "fixConfig",
    }
    assert "cai gc" in render_doctor(report)


def test_main_prints_the_phrased_error(monkeypatch, capsys):
    async def refused(_command: Any, _args: Any) -> dict[str, Any]:
        err = raised(run_decide.check_options, RunParams(reset=True, fresh=True))
        raise RpcError(-32803, err.message, err.to_data())

    monkeypatch.setattr(cli_main, "execute", refused)
    with pytest.raises(SystemExit) as done:
        cli_main.main(["--reset", "--fresh"])
    assert done.value.code == 1
    assert capsys.readouterr().err.splitlines() == [
        "[ERROR] --reset and --fresh are mutually exclusive",
        "[HINT] --fresh recreates the container with the same volume; --reset generates a new "
        "volume.",
    ]
