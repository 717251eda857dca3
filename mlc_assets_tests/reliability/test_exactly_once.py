"""Exactly-once under faults and crashes, end to end, as a user would run it.

``mlc demo`` runs as a subprocess against the built-in sandbox with faults armed in all three
sandboxes (SP-API, Workday, Deltek), or is SIGKILLed at seeded points of its progress (sandbox
counters, so the kill lands at the same step on a fast or a slow machine), and is then rerun.
Afterwards each ERP is read back through its own API: exactly one document per settlement
reference, amounts equal to the journal, the deposit on the clearing line, and
nothing posted under any other reference. Figures go to ``test-artifacts/exactly_once.json``.

The default size (2 settlements per marketplace = 6) keeps the suite short; the ``slow``
variants (``pytest -m slow``) run 17 per marketplace = 51 settlements with several kills.
Amazon lists only the last 90 days of reports, so the full-size seller closes a settlement
every 5 days (a seller requesting frequent disbursements) rather than every 14: 17 periods
of 14 days would reach back 238 days and most would never be listed.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import duckdb
import pytest

from mlc_assets_tests.reliability.harness import (
    DemoRun,
    KillPoint,
    audit_erps,
    chaos_fault_count,
    run_demo,
    transient_retries,
    write_figures,
)

FULL_SIZE_DAYS = 5  # 17 periods of 5 days fit in the 90-day listing window

CHAOS = (
    "429:0.1,500:1,reset:2,dup_listing:1,expire_token:1,"
    "workday.commit_drop:2,workday.503:1,workday.reset:1,"
    "deltek.commit_drop:2,deltek.html502:1,deltek.429:1"
)


def _posting_actions(data_home: Path) -> dict[str, int]:
    con = duckdb.connect(str(data_home / "warehouse.duckdb"), read_only=True)
    try:
        rows = con.execute(
            "SELECT target || ':' || action, count(*) FROM posting_log GROUP BY 1"
        ).fetchall()
    finally:
        con.close()
    return {k: int(v) for k, v in sorted(rows)}


def _assert_each_posted_or_failed_clearly(run: DemoRun) -> dict[str, int]:
    rows = run.rows
    assert rows, f"the demo printed no summary (rc={run.returncode}):\n{run.stderr[-3000:]}"
    outcome = {"posted": 0, "failed": 0}
    for row in rows:
        sid = row["settlement_id"]
        if row["status"] == "ok":
            assert row["workday"] and row["deltek"], f"{sid} ok but not posted: {row}"
            outcome["posted"] += 1
        else:
            assert row["status"] == "failed", row
            # A clear reason: which step failed and why, not an empty string or a bare class.
            error = str(row.get("error") or "")
            assert ":" in error and len(error) > 20, f"{sid} failed without a clear reason: {row}"
            outcome["failed"] += 1
    assert (run.returncode == 0) == (outcome["failed"] == 0), run.returncode
    return outcome


def _assert_clean_audit(data_home: Path, final: DemoRun, settlements: int) -> dict[str, Any]:
    rows = final.rows
    assert final.returncode == 0, [r for r in rows if r["status"] != "ok"] or final.stderr[-3000:]
    assert all(r["status"] == "ok" for r in rows)
    # The sandbox seller has three marketplaces: a settlement missing from the run is a loss.
    assert len(rows) == 3 * settlements, [r["settlement_id"] for r in rows]
    audit = audit_erps(data_home, [r["settlement_id"] for r in rows])
    figures = audit.as_dict()
    assert audit.duplicates == [], audit.duplicates
    assert audit.losses == [], audit.losses
    assert audit.mismatches == [], audit.mismatches
    assert audit.strays == [], audit.strays
    # Every settlement has a document in each ERP (at least one entry per journal).
    assert audit.documents["workday"] >= len(rows)
    assert audit.documents["deltek"] >= len(rows)
    return figures


def _chaos_then_clean(tmp_path: Path, settlements: int, days: int = 14) -> dict[str, Any]:
    home = tmp_path / "home"
    chaotic = run_demo(home, settlements=settlements, chaos=CHAOS, settlement_days=days)
    first = _assert_each_posted_or_failed_clearly(chaotic)
    # The chaos must have happened: each sandbox reports the faults it injected.
    assert chaotic.faults_fired.get("workday", {}).get("commit_drop", 0) >= 1, chaotic.faults_fired
    assert sum(chaotic.faults_fired.get("spapi", {}).values()) >= 1, chaotic.faults_fired
    assert sum(chaotic.faults_fired.get("deltek", {}).values()) >= 1, chaotic.faults_fired
    clean = run_demo(home, settlements=settlements, settlement_days=days)
    second = _assert_each_posted_or_failed_clearly(clean)
    figures = _assert_clean_audit(home, clean, settlements)
    # The rerun adopts or confirms what the chaotic run posted; it never submits it again.
    for row in clean.rows:
        if row["settlement_id"] in {
            r["settlement_id"] for r in chaotic.rows if r["status"] == "ok"
        }:
            assert "submitted" not in (row["workday_actions"] + row["deltek_actions"]), row
    return {
        "settlements": len(clean.rows),
        "runs": 2,
        "kills": 0,
        "chaos_spec": CHAOS,
        "faults_requested": chaos_fault_count(CHAOS),
        "faults_fired": chaotic.faults_fired,
        "faults_fired_total": sum(sum(v.values()) for v in chaotic.faults_fired.values()),
        "transient_retries_logged": transient_retries(chaotic.stderr),
        "chaos_run": first,
        "clean_run": second,
        "posting_log_actions": _posting_actions(home),
        "seconds": round(chaotic.seconds + clean.seconds, 1),
        **figures,
    }


# Progress points a run on a fresh data home passes (the first kill), and points every run
# passes again, posted or not (later kills: a rerun adopts, so it submits little or nothing).
# Each names a sandbox counter; "op:"/"route:" count a request as it arrives, mid-request.
FRESH_POINTS = (
    ("spapi", "downloads"),  # landing the reports
    ("workday", "op:Submit_Accounting_Journal"),  # mid-submit, before or after the commit
    ("workday", "journals_committed"),  # committed, the response not yet read
    ("deltek", "route:create"),  # batch written, not yet posted
    ("deltek", "route:post"),  # mid-post
)
RERUN_POINTS = (
    ("workday", "op:Get_Journals"),  # the lookup before every submit
    ("deltek", "route:ledger"),  # the lookup of every batch
)


def kill_points(rng: random.Random, kills: int, documents: int) -> list[KillPoint]:
    """Seeded kill points: the first on fresh-run progress, the rest on progress every run makes.

    ``at`` stays below the number of documents a run handles, so the run is still going when
    the counter is reached, whatever the machine's speed.
    """
    points = []
    for i in range(kills):
        system, counter = rng.choice(FRESH_POINTS if i == 0 else RERUN_POINTS)
        points.append(KillPoint(system, counter, rng.randint(1, documents - 1)))
    return points


def _kill_then_finish(
    tmp_path: Path, settlements: int, kills: int, seed: int, days: int = 14
) -> dict[str, Any]:
    home = tmp_path / "home"
    # Three marketplaces: at least one document per settlement in each ERP.
    points = kill_points(random.Random(seed), kills, documents=3 * settlements)
    runs = []
    for point in points:
        run = run_demo(home, settlements=settlements, kill_at=point, settlement_days=days)
        runs.append(run)
    # Every kill point lies before the end of its run: each run must have been killed there.
    assert all(run.killed for run in runs), [
        (str(p), r.returncode, r.stderr[-2000:])
        for p, r in zip(points, runs, strict=True)
        if not r.killed
    ]
    final = run_demo(home, settlements=settlements, settlement_days=days)
    figures = _assert_clean_audit(home, final, settlements)
    return {
        "settlements": len(final.rows),
        "runs": kills + 1,
        "kills": sum(run.killed for run in runs),
        "kill_points": [str(p) for p in points],
        "killed_after_s": [round(run.seconds, 1) for run in runs],
        "seed": seed,
        "posting_log_actions": _posting_actions(home),
        **figures,
    }


@pytest.mark.timeout(600)
def test_chaos_across_all_sandboxes_then_clean_rerun_posts_exactly_once(tmp_path: Path) -> None:
    write_figures("chaos_small", _chaos_then_clean(tmp_path, settlements=2))


@pytest.mark.timeout(600)
def test_sigkill_mid_run_then_rerun_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    write_figures(
        "sigkill_small",
        _kill_then_finish(tmp_path, settlements=2, kills=2, seed=11),
    )


@pytest.mark.slow
@pytest.mark.timeout(3600)
@pytest.mark.parametrize("settlements", [17])
def test_chaos_full_size(tmp_path: Path, settlements: int) -> None:
    figures = _chaos_then_clean(tmp_path, settlements=settlements, days=FULL_SIZE_DAYS)
    assert figures["settlements"] >= 50
    write_figures("chaos_full", figures)


@pytest.mark.slow
@pytest.mark.timeout(3600)
@pytest.mark.parametrize(("settlements", "kills"), [(17, 4)])
def test_sigkill_full_size(tmp_path: Path, settlements: int, kills: int) -> None:
    figures = _kill_then_finish(
        tmp_path,
        settlements=settlements,
        kills=kills,
        seed=23,
        days=FULL_SIZE_DAYS,
    )
    assert figures["settlements"] >= 50
    write_figures("sigkill_full", figures)
