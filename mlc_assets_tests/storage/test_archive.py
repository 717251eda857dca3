"""The raw archive and the report index on a real file system."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mlc_assets.storage.archive import RawArchive, RawRef
from mlc_assets.storage.report_index import ReportIndex, ReportRecord


def test_put_is_content_addressed_and_idempotent(tmp_path: Path) -> None:
    archive = RawArchive(tmp_path / "raw")
    data = b"settlement-id\ttotal-amount\n123\t10.00\n"
    sha = hashlib.sha256(data).hexdigest()
    first = archive.put("settlement-report", data, meta={"report_id": "R1"})
    assert first.sha256 == sha
    assert first.size == len(data)
    assert Path(first.path) == tmp_path / "raw" / "settlement-report" / sha[:2] / sha
    meta_path = Path(first.path).with_name(sha + ".meta.json")
    meta_before = meta_path.read_bytes()
    mtime = os.stat(first.path).st_mtime_ns

    second = archive.put("settlement-report", data, meta={"report_id": "R2"})
    assert second == first
    assert os.stat(first.path).st_mtime_ns == mtime  # not rewritten
    assert meta_path.read_bytes() == meta_before  # first metadata wins
    assert json.loads(meta_before)["report_id"] == "R1"
    assert archive.get("settlement-report", sha) == data
    assert archive.exists("settlement-report", sha)
    # Same bytes under another kind are stored separately; other bytes get another address.
    assert archive.put("other", data).path != first.path
    assert archive.put("settlement-report", data + b"x").sha256 != sha
    # No temporary files are left behind.
    assert not list((tmp_path / "raw").rglob(".tmp-*"))


def test_archived_files_are_read_only(tmp_path: Path) -> None:
    ref = RawArchive(tmp_path / "raw").put("k", b"abc", meta={"a": 1})
    for path in (Path(ref.path), Path(ref.path).with_name(ref.sha256 + ".meta.json")):
        mode = stat.S_IMODE(os.stat(path).st_mode)
        assert mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) == 0, oct(mode)


def test_get_detects_corruption(tmp_path: Path) -> None:
    archive = RawArchive(tmp_path / "raw")
    ref = archive.put("k", b"original bytes")
    path = Path(ref.path)
    os.chmod(path, 0o644)
    path.write_bytes(b"tampered bytes")
    with pytest.raises(ValueError, match="corrupt"):
        archive.get("k", ref.sha256)


def test_bad_keys_are_refused(tmp_path: Path) -> None:
    archive = RawArchive(tmp_path / "raw")
    with pytest.raises(ValueError, match="bad archive key"):
        archive.get("../etc", "0" * 64)
    with pytest.raises(ValueError, match="bad archive key"):
        archive.get("k", "not-a-sha")
    with pytest.raises(FileNotFoundError):
        archive.get("k", "0" * 64)


def _record(report_id: str, settlement_id: str, created: datetime | None) -> ReportRecord:
    return ReportRecord(
        report_id=report_id,
        report_type="GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2",
        settlement_id=settlement_id,
        marketplace_ids=["ATVPDKIKX0DER"],
        created_time=created,
        raw=RawRef(kind="settlement-report", sha256="0" * 64, size=1, path="/x"),
    )


def test_report_index_add_has_and_order(tmp_path: Path) -> None:
    index = ReportIndex(tmp_path / "state" / "reports")
    assert index.all() == []
    assert not index.has("R1")
    t0 = datetime(2026, 5, 1, tzinfo=UTC)
    index.add(_record("R3", "S1", t0 + timedelta(hours=2)))
    index.add(_record("R1", "S1", t0 + timedelta(hours=5)))
    index.add(_record("R2", "S1", t0 + timedelta(hours=2)))  # same time as R3: id breaks tie
    index.add(_record("R9", "S2", t0))
    assert index.has("R1") and index.has("R9")
    assert [r.report_id for r in index.for_settlement("S1")] == ["R2", "R3", "R1"]
    assert [r.report_id for r in index.for_settlement("S2")] == ["R9"]
    assert index.for_settlement("S3") == []

    # Written once: a second add of the same report id does not change the record.
    index.add(_record("R1", "S-other", t0))
    assert [r.settlement_id for r in index.all() if r.report_id == "R1"] == ["S1"]
    # A fresh index object on the same folder sees the same records (another process).
    assert len(ReportIndex(tmp_path / "state" / "reports").all()) == 4


def test_report_index_refuses_path_like_ids(tmp_path: Path) -> None:
    index = ReportIndex(tmp_path)
    with pytest.raises(ValueError, match="bad report id"):
        index.has("../../etc/passwd")


def test_a_file_gets_a_readable_name_by_settlement_without_a_copy(tmp_path: Path) -> None:
    archive = RawArchive(tmp_path / "raw")
    ref = archive.put("settlement-report", b"settlement-id\n123\n")
    named = archive.name_for_settlement(ref, "12345678901", "settlement-report-R1.txt")
    assert named == tmp_path / "raw" / "by-settlement" / "12345678901" / "settlement-report-R1.txt"
    assert named.read_bytes() == b"settlement-id\n123\n"
    assert named.stat().st_ino == Path(ref.path).stat().st_ino  # a link, not a copy
    assert archive.name_for_settlement(ref, "12345678901", "settlement-report-R1.txt") == named
    with pytest.raises(ValueError, match="bad archive name"):
        archive.name_for_settlement(ref, "../etc", "x.txt")
