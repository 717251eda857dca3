"""The connector's own path for one settlement file, as the assets run it, in one process.

parse (domain.settlement_report) → land header and lines and read them back
(storage.reports, the ``amazon_settlement_report`` asset's code) → classify the
lines with the GL mapping → reconcile → build the journal → store it and read it back
(storage.journals, the ``journal_entries`` asset's code).

What differs from a Dagster run, on purpose: the frames stay in memory between stages
instead of being read back from the warehouse by the next asset, and the Finances side of
the reconciliation is the report's own classified lines (a perfectly matching event set:
the category and per-order comparisons still run over every line of both sides). Fetching
Finances events is measured by the backfill benchmark, not here.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

from mlc_assets.domain.journal import build_journal
from mlc_assets.domain.mapping import GlMapping, classify_lines, load_mapping
from mlc_assets.domain.reconciliation import reconcile_lines
from mlc_assets.domain.settlement_report import parse_settlement_report
from mlc_assets.storage.journals import read_journal, store_journal
from mlc_assets.storage.reports import store_report
from mlc_assets.storage.warehouse import Warehouse


@dataclass(frozen=True)
class PathResult:
    """What the path produced (checked by the caller) and seconds per stage."""

    settlement_id: str
    lines: int
    total_amount: str
    currency: str
    reconciled: bool
    journal_entries: int
    journal_lines: int
    landed_lines: int
    stages: dict[str, float]
    peak_rss_mb_after: dict[str, float]


def run_connector_path(
    data: bytes,
    warehouse: Warehouse,
    *,
    file_name: str,
    charset: str | None = None,
    mapping: GlMapping | None = None,
    sha256: str = "",
) -> PathResult:
    clock = _Stages()
    parsed = parse_settlement_report(data, file_name=file_name, charset=charset)
    header = parsed.header
    sid = header.settlement_id
    clock.lap("parse")
    landed = store_report(warehouse, parsed, [file_name], sha256)
    clock.lap("land_lines")
    gl = mapping or load_mapping()
    gl_source = "bench mapping" if mapping else "default_mapping.yaml (shipped)"
    classified = classify_lines(parsed.lines, gl, currency=header.currency)
    clock.lap("classify")
    recon = reconcile_lines(classified, classified, deposit=header.total_amount, settlement_id=sid)
    clock.lap("reconcile")
    journal = build_journal(header, classified, gl)
    clock.lap("journal")
    journal_lines = store_journal(warehouse, journal, mapping_source=gl_source)
    back = read_journal(warehouse, sid)  # the asset's checks read back what was committed
    if back != journal:
        raise RuntimeError(f"settlement {sid}: the stored journal does not read back equal")
    clock.lap("land_journal")
    return PathResult(
        settlement_id=sid,
        lines=parsed.lines.height,
        total_amount=f"{header.total_amount:.2f}",
        currency=header.currency,
        reconciled=bool(recon.ok),
        journal_entries=len(journal.entries),
        journal_lines=journal_lines,
        landed_lines=landed.lines_landed,
        stages=clock.laps,
        peak_rss_mb_after=clock.peaks,
    )


class _Stages:
    """Seconds per stage, and the process's peak RSS (MB) when each stage ended."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self.peaks: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self._last, 3)
        self.peaks[name] = round(_peak_rss_mb(), 1)
        self._last = now


def _peak_rss_mb() -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:  # pragma: no cover - not Linux
        pass
    return 0.0  # pragma: no cover


def run_file(
    path: Path, workdir: Path, *, charset: str | None = None, mapping: GlMapping | None = None
) -> PathResult:
    """The path on a file (read included), into a fresh warehouse under ``workdir``."""
    data = path.read_bytes()
    warehouse = Warehouse(workdir / f"bench-{path.stem}.duckdb")
    if warehouse.path.exists():
        warehouse.path.unlink()
    return run_connector_path(
        data,
        warehouse,
        file_name=path.name,
        charset=charset,
        mapping=mapping,
        sha256=hashlib.sha256(data).hexdigest(),
    )
