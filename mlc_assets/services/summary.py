"""One line per settlement: what landed, whether it reconciled, what was posted where.

Read from the warehouse only, so the CLI can show it after any run, including runs made
from the Dagster UI.
"""

from __future__ import annotations

from typing import Any

from mlc_assets.config import Settings
from mlc_assets.storage.layout import DataHome
from mlc_assets.storage.warehouse import Warehouse


def _by_settlement(warehouse: Warehouse, sql: str) -> dict[str, dict[str, Any]]:
    frame = warehouse.query(sql)
    if frame.is_empty():
        return {}
    return {row["settlement_id"]: row for row in frame.iter_rows(named=True)}


def settlement_summaries(
    settings: Settings,
    *,
    failures: dict[str, str] | None = None,
    partition_keys: list[str] | None = None,
) -> list[dict[str, Any]]:
    warehouse = Warehouse(DataHome(settings.data_home).warehouse)
    failures = failures or {}
    reports = _by_settlement(
        warehouse,
        "SELECT settlement_id, marketplace, currency, total_amount, line_count, "
        'start, "end" FROM settlement_reports',
    )
    recon = _by_settlement(
        warehouse,
        "SELECT settlement_id, status, detail FROM reconciliation_status",
    )
    journals = _by_settlement(
        warehouse,
        "SELECT settlement_id, count(DISTINCT reference) AS entries, "
        "string_agg(DISTINCT reference, ' ') AS refs FROM journal_lines GROUP BY settlement_id",
    )
    # The latest outcome per document: a rerun shows "already_posted", not history.
    posted = warehouse.query(
        "WITH latest AS (SELECT settlement_id, target, reference, "
        'arg_max(remote_id, "at") AS remote_id, arg_max(action, "at") AS action '
        "FROM posting_log WHERE action IN ('submitted', 'adopted', 'already_posted') "
        "GROUP BY settlement_id, target, reference), "
        # A document whose last step failed (e.g. its read-back differs) shows as failed,
        # never as the "submitted" that came before the failure.
        'last AS (SELECT settlement_id, target, reference, arg_max(action, "at") AS step '
        "FROM posting_log WHERE action <> 'intent' GROUP BY settlement_id, target, reference) "
        "SELECT settlement_id, target, string_agg(remote_id, ' ') AS ids, "
        "string_agg(DISTINCT CASE WHEN step = 'failed' THEN 'failed' ELSE action END, ',') "
        "AS actions FROM latest JOIN last USING (settlement_id, target, reference) "
        "GROUP BY settlement_id, target"
    )
    posted_map: dict[tuple[str, str], dict[str, Any]] = {}
    if not posted.is_empty():
        for row in posted.iter_rows(named=True):
            posted_map[(row["settlement_id"], row["target"])] = row

    keys = partition_keys or sorted(reports)
    rows: list[dict[str, Any]] = []
    for sid in keys:
        rep = reports.get(sid, {})
        rec = recon.get(sid)
        jr = journals.get(sid)
        row: dict[str, Any] = {
            "settlement_id": sid,
            "marketplace": rep.get("marketplace") or "",
            "currency": rep.get("currency", ""),
            "period": (f"{rep['start'].date()}..{rep['end'].date()}" if rep.get("start") else ""),
            "deposit": (
                f"{rep['total_amount']:.2f} {rep['currency']}" if rep.get("currency") else ""
            ),
            "lines": rep.get("line_count", ""),
            "reconciled": rec["status"] if rec else "",
            "journal": jr["refs"] if jr else "",
        }
        for target in ("workday", "deltek"):
            hit = posted_map.get((sid, target))
            row[target] = hit["ids"] if hit else ""
            row[f"{target}_actions"] = hit["actions"] if hit else ""
        if sid in failures:
            row["status"] = "failed"
            row["error"] = failures[sid]
        else:
            row["status"] = "ok"
        rows.append(row)
    return rows
