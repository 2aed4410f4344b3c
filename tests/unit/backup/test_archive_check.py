"""The archive check: what an import accepts, and every way it refuses before writing."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

import pytest

from containai_rpc.errors import DomainError
from containai_rpc.service.backup_archive import MANIFEST, check_archive, safe_member_name

MANIFEST_BYTES = json.dumps({"format": 1, "dataVolume": "vol"}).encode()


def _member(name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, link: str = ""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    info.linkname = link
    return info, io.BytesIO(data) if kind == tarfile.REGTYPE else None


def _archive(tmp_path: Path, *members, manifest: bytes | None = MANIFEST_BYTES) -> Path:
    path = tmp_path / "a.tgz"
    with tarfile.open(path, "w:gz") as tar:
        if manifest is not None:
            tar.addfile(*_member(MANIFEST, manifest))
        tar.addfile(*_member("data", kind=tarfile.DIRTYPE))
        for info, data in members:
            tar.addfile(info, data)
    return path


def _refused(path: Path) -> str:
    with pytest.raises(DomainError) as caught:
        check_archive(str(path))
    assert caught.value.reason == "archiveInvalid"
    return caught.value.message


def test_a_good_archive_is_summarised(tmp_path):
    path = _archive(
        tmp_path,
        _member("data/a", b"12345"),
        _member("data/sub", kind=tarfile.DIRTYPE),
        _member("data/sub/b", b"x"),
        _member("data/link", kind=tarfile.SYMTYPE, link="/etc/passwd"),
        _member("data/hard", kind=tarfile.LNKTYPE, link="data/a"),
    )
    summary = check_archive(str(path))
    assert (summary.files, summary.bytes) == (2, 6)
    assert summary.manifest["dataVolume"] == "vol"


@pytest.mark.parametrize(
    "name", ["/etc/passwd", "data/../../x", "../data/x", "other/x", "x", "data/a/../../b"]
)
def test_unsafe_names_are_refused(tmp_path, name):
    assert safe_member_name(name) is not None
    _refused(_archive(tmp_path, _member(name, b"x")))


@pytest.mark.parametrize("kind", [tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE])
def test_device_files_and_fifos_are_refused(tmp_path, kind):
    assert "special" in _refused(_archive(tmp_path, _member("data/dev", kind=kind)))


def test_a_hard_link_out_of_data_is_refused(tmp_path):
    _refused(_archive(tmp_path, _member("data/h", kind=tarfile.LNKTYPE, link="../etc/shadow")))


def test_a_missing_or_foreign_manifest_is_refused(tmp_path):
    assert "no containai-export.json" in _refused(_archive(tmp_path, manifest=None))
    _refused(_archive(tmp_path, manifest=b"not json"))
    _refused(_archive(tmp_path, manifest=json.dumps({"format": 99}).encode()))


def test_damage_anywhere_is_found(tmp_path):
    good = _archive(tmp_path, _member("data/a", bytes(range(256)) * 4000))
    raw = good.read_bytes()
    for i, damaged in enumerate(
        (
            raw[: len(raw) // 2],  # truncated
            raw[:-12] + bytes(4) + raw[-8:],  # the CRC of the gzip trailer
            raw[:-9] + bytes([raw[-9] ^ 1]) + raw[-8:],  # the deflate stream's end
            gzip.decompress(raw),  # not gzip at all
            b"",
        )
    ):
        bad = tmp_path / f"bad{i}.tgz"
        bad.write_bytes(damaged)
        _refused(bad)


def test_a_missing_file_is_an_invalid_path(tmp_path):
    with pytest.raises(DomainError) as caught:
        check_archive(str(tmp_path / "none.tgz"))
    assert caught.value.reason == "invalidPath"


def test_the_checkpoint_can_cancel(tmp_path):
    path = _archive(tmp_path, _member("data/a", b"x"))

    def cancel(_done: int) -> None:
        raise DomainError("cancelled", "cancelled")

    with pytest.raises(DomainError) as caught:
        check_archive(str(path), cancel)
    assert caught.value.reason == "cancelled"
