"""export/import over the in-memory engine: round trip, cancellation, refusals."""

from __future__ import annotations

import pytest

from containai_rpc.errors import DomainError
from containai_rpc.protocol.backup import ExportParams, ImportParams
from containai_rpc.protocol.stop import StopParams
from containai_rpc.service.backup import export_volume
from containai_rpc.service.backup_import import INCOMPLETE_MARKER, import_volume
from containai_rpc.service.hooks import Hooks
from containai_rpc.service.stop_decide import check_options

IMAGE = "containai-test-tiny:latest"


@pytest.fixture
def engine_set(fake_docker):
    engine = fake_docker["default"]
    engine.add_image(IMAGE)
    engine.volumes.add("src")
    engine.volume_files["src"] = {"a": b"1" * 100, "sub/b": b"2"}
    return fake_docker.engine_set(), engine


def test_round_trip_into_a_new_volume(engine_set, tmp_path):
    engines, engine = engine_set
    out = tmp_path / "b.tgz"
    done = export_volume(
        engines, ExportParams(output=str(out), data_volume="src", image=IMAGE), Hooks()
    )
    assert (done.files, done.bytes) == (2, 101)
    result = import_volume(engines, ImportParams(input=str(out), data_volume="new"), Hooks())
    assert result.created and engine.volume_files["new"] == engine.volume_files["src"]
    assert INCOMPLETE_MARKER not in engine.volume_files["new"]
    assert all(h.removed for h in engine.helpers)


def test_a_cancelled_export_leaves_no_file(engine_set, tmp_path):
    engines, _ = engine_set
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "b.tgz"
    calls = iter(range(100))
    hooks = Hooks(cancelled=lambda: next(calls) >= 2)
    with pytest.raises(DomainError) as caught:
        export_volume(engines, ExportParams(output=str(out), data_volume="src", image=IMAGE), hooks)
    assert caught.value.reason == "cancelled"
    assert list((tmp_path / "out").iterdir()) == []


def test_a_non_empty_volume_is_refused_and_a_new_one_removed_on_early_failure(engine_set, tmp_path):
    engines, engine = engine_set
    out = tmp_path / "b.tgz"
    export_volume(engines, ExportParams(output=str(out), data_volume="src", image=IMAGE), Hooks())
    with pytest.raises(DomainError) as caught:
        import_volume(engines, ImportParams(input=str(out), data_volume="src"), Hooks())
    assert caught.value.reason == "volumeNotEmpty"
    calls = iter(range(100))
    hooks = Hooks(cancelled=lambda: next(calls) >= 1)  # cancelled before the first write
    with pytest.raises(DomainError):
        import_volume(engines, ImportParams(input=str(out), data_volume="fresh"), hooks)
    assert "fresh" not in engine.volumes and "src" in engine.volumes


def test_stop_export_is_not_for_all():
    with pytest.raises(DomainError) as caught:
        check_options(StopParams(all=True, export_to="/tmp/x.tgz"))
    assert caught.value.reason == "conflictingOptions"
