"""`doctor`: is this machine ready for `cai run`, and if not, what to do first.

Never raises for a broken engine, context or config: each problem is a check result.
Bounded: the engines of all managed contexts are probed at once (`EngineSet.each`, 3 s,
ssh 5 s), `ssh -V` has a timeout, the rest reads local files and binds local ports.
The checks live by concern: `config`, `engines` (engines, isolation, image), `ssh`.
"""

from __future__ import annotations

from collections.abc import Callable

from containai_rpc.engine import EngineSet
from containai_rpc.errors import DomainError
from containai_rpc.protocol.doctor import DoctorParams, DoctorResult
from containai_rpc.service.doctor.config import config_checks
from containai_rpc.service.doctor.engines import (
    engine_checks,
    expected_isolation,
    image_check,
    isolation_checks,
    probe_engines,
)
from containai_rpc.service.doctor.findings import ACTIONS
from containai_rpc.service.doctor.ssh import (
    ports_check,
    ssh_client_check,
    ssh_dir_check,
    ssh_home_check,
    ssh_include_check,
    ssh_key_check,
)
from containai_rpc.workspace.config import Settings


def doctor(engines: Callable[[], EngineSet], p: DoctorParams) -> DoctorResult:
    """Every check; `engines()` may fail (a broken config): the defaults are probed then."""
    findings, settings = config_checks()
    try:
        engine_set, own = engines(), False
    except DomainError:
        engine_set, own = EngineSet(), True
    try:
        effective = settings or Settings()
        probed = probe_engines(engine_set, p.context)
        isolation = expected_isolation(probed.selected, effective)
        image, held = image_check(engine_set, probed, effective.image)
    finally:
        if own:
            engine_set.close()
    findings = [
        *engine_checks(probed),
        *isolation_checks(probed.selected, effective, isolation),
        image,
        ssh_client_check(),
        ssh_home_check(),
        ssh_key_check(),
        ssh_dir_check(),
        ssh_include_check(),
        ports_check(effective.ssh_port_range, held),
        *findings,
    ]
    failing = {f.action for f in findings if f.check.status == "error"}
    action = next((a for a in ACTIONS if a in failing), "ready")
    return DoctorResult(
        ok=not any(f.check.status == "error" for f in findings),
        recommended_action=action,
        isolation=isolation,
        checks=[f.check for f in findings],
    )
