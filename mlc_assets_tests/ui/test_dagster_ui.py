"""The Dagster UI as an operator uses it, driven by Playwright in Debian's Chromium.

One end-to-end test (its steps share one deployment and must run in order, so they are not
separate tests that pytest-xdist could split across workers):

1. Automation → settlement_sensor: pause the sensor, then "Preview tick result" evaluates
   the real sensor against the sandbox and lists the settlements it would add. The sensor is
   paused before the daemon starts because its first tick would otherwise launch a run for
   every settlement at once; the test wants exactly one run it chose itself.
2. Lineage → "Materialize all…" → "Add a partition" for each previewed settlement ID (the
   UI's own way to add dynamic partitions).
3. The global asset graph (groups expanded) shows every asset of the code location.
4. The partitions view of amazon_settlement_report lists the settlement IDs.
5. With the daemon running: materialize ONE settlement through the launch dialog, wait for
   the run to succeed, see its asset checks as passed in the UI.
6. Re-execute that run from the run page: it succeeds and adds no 'submitted' row to the
   warehouse's posting_log (exactly-once posting).

Screenshots of every step go to ``test-artifacts/ui/``.
"""

from __future__ import annotations

import re
import time
from typing import Any

import duckdb
import pytest
from playwright.sync_api import expect

from mlc_assets_tests.ui.conftest import ARTIFACTS, DagsterDeployment

pytestmark = [pytest.mark.ui, pytest.mark.timeout(600)]

SETTLEMENT_ID = re.compile(r"^\d{11}$")
RUN_TIMEOUT = 300.0
TERMINAL = {"SUCCESS", "FAILURE", "CANCELED"}


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def asset_names(ui: DagsterDeployment) -> list[str]:
    data = ui.graphql("{ assetNodes { assetKey { path } } }")
    return sorted("/".join(n["assetKey"]["path"]) for n in data["assetNodes"])


def asset_checks(ui: DagsterDeployment) -> dict[str, list[str]]:
    data = ui.graphql(
        "{ assetNodes { assetKey { path } assetChecksOrError { __typename "
        "... on AssetChecks { checks { name } } } } }"
    )
    out: dict[str, list[str]] = {}
    for node in data["assetNodes"]:
        checks = node["assetChecksOrError"].get("checks") or []
        if checks:
            out["/".join(node["assetKey"]["path"])] = [c["name"] for c in checks]
    return out


def run_ids(ui: DagsterDeployment) -> set[str]:
    data = ui.graphql("{ runsOrError { ... on Runs { results { runId } } } }")
    return {r["runId"] for r in data["runsOrError"]["results"]}


def wait_new_run(ui: DagsterDeployment, known: set[str], timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        new = run_ids(ui) - known
        if new:
            assert len(new) == 1, f"expected one new run, got {sorted(new)}"
            return new.pop()
        time.sleep(1.0)
    raise AssertionError(f"no run was launched within {timeout:.0f}s")


def wait_run_done(ui: DagsterDeployment, run_id: str) -> dict[str, Any]:
    query = """
    query ($id: ID!) { runOrError(runId: $id) { __typename ... on Run {
        runId status tags { key value }
    } } }
    """
    deadline = time.monotonic() + RUN_TIMEOUT
    run: dict[str, Any] = {}
    while time.monotonic() < deadline:
        run = ui.graphql(query, {"id": run_id})["runOrError"]
        if run.get("status") in TERMINAL:
            return run
        time.sleep(2.0)
    raise AssertionError(f"run {run_id} not finished after {RUN_TIMEOUT:.0f}s: {run}")


def failure_summary(ui: DagsterDeployment, run_id: str) -> str:
    data = ui.graphql(
        """
        query ($id: ID!) { logsForRun(runId: $id) { __typename ... on EventConnection {
            events { __typename ... on MessageEvent { message stepKey }
                     ... on ExecutionStepFailureEvent { error { message } } } } } }
        """,
        {"id": run_id},
    )
    events = data["logsForRun"].get("events", [])
    failures = [
        f"{e.get('stepKey')}: {(e.get('error') or {}).get('message', e.get('message'))}"
        for e in events
        if e["__typename"] in ("ExecutionStepFailureEvent", "RunFailureEvent")
    ]
    return "\n".join(failures) or "no failure events"


def check_results(ui: DagsterDeployment, run_id: str) -> dict[str, str]:
    """Every asset check evaluated in the run, by '<asset>:<check>', with its status."""
    data = ui.graphql(
        """
        query ($id: ID!) { logsForRun(runId: $id) { __typename ... on EventConnection {
            events { __typename ... on AssetCheckEvaluationEvent { evaluation {
                assetKey { path } checkName success } } } } } }
        """,
        {"id": run_id},
    )
    out: dict[str, str] = {}
    for event in data["logsForRun"].get("events", []):
        if event["__typename"] == "AssetCheckEvaluationEvent":
            ev = event["evaluation"]
            key = f"{'/'.join(ev['assetKey']['path'])}:{ev['checkName']}"
            out[key] = "passed" if ev["success"] else "failed"
    return out


def posting_actions(ui: DagsterDeployment, settlement_id: str) -> dict[str, int]:
    """posting_log row counts by action for one settlement (empty if nothing was posted)."""
    if not ui.warehouse.exists():
        return {}
    con = duckdb.connect(str(ui.warehouse), read_only=True)
    try:
        tables = {
            r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        }
        if "posting_log" not in tables:
            return {}
        rows = con.execute(
            "SELECT action, count(*) FROM posting_log WHERE settlement_id = ? GROUP BY action",
            [settlement_id],
        ).fetchall()
    finally:
        con.close()
    return {str(action): int(n) for action, n in rows}


# --- steps ----------------------------------------------------------------------------------


def pause_sensor_and_preview(page: Any, ui: DagsterDeployment) -> list[str]:
    page.goto(f"{ui.url}/automation")
    page.get_by_role("link", name="settlement_sensor").first.click()
    page.wait_for_url(re.compile(r"/sensors/settlement_sensor"))
    toggle = page.get_by_role("checkbox").first
    toggle.wait_for(state="attached")
    # RUNNING by default (the switch renders before the sensor's state has loaded).
    expect(toggle).to_be_checked()
    # The switch's <input> is visually hidden; its label is what a person clicks.
    page.locator(f"label[for='{toggle.get_attribute('id')}']").click()
    expect(toggle).not_to_be_checked()
    page.get_by_role("button", name="Preview tick result").click()
    preview = page.get_by_role("dialog").filter(has_text="Preview tick result")
    preview.get_by_role("button", name="Continue").click()
    # Evaluating the sensor starts the sandbox and lands every report: allow for a cold start.
    table = preview.get_by_role("table").filter(has_text="Partition definition")
    table.wait_for(timeout=120_000)
    shot(page, "01-sensor-preview")
    cells = table.locator("tbody tr td:first-child").all_inner_texts()
    ids = [c.strip() for c in cells]
    preview.get_by_role("button", name="Close").click()
    return ids


def add_partitions_from_launch_dialog(page: Any, ui: DagsterDeployment, ids: list[str]) -> None:
    page.goto(f"{ui.url}/asset-groups")
    page.locator("button", has_text="Materialize all").click()
    launch = page.get_by_role("dialog").filter(has_text="Launch runs to materialize")
    for sid in ids:
        launch.get_by_text("Add a partition").click()
        add = page.get_by_role("dialog").filter(has_text="Add a partition for settlement_id")
        add.get_by_role("textbox").fill(sid)
        add.get_by_role("button", name="Save").click()
        add.wait_for(state="hidden")
    shot(page, "02-partitions-added")
    launch.get_by_role("button", name="Cancel").click()
    launch.wait_for(state="hidden")


def assert_asset_graph_shows(page: Any, ui: DagsterDeployment, names: list[str]) -> None:
    page.goto(f"{ui.url}/asset-groups")
    page.get_by_role("button", name="Hide navigation").click()
    # Groups start collapsed; the graph's settings menu expands them all at once.
    page.locator('button:has([aria-label="settings"])').last.click()
    page.get_by_role("menuitem", name="Expand all groups").click()
    page.keyboard.press("Escape")
    for name in names:
        node = page.get_by_text(name, exact=True).first
        node.wait_for(state="visible")
    shot(page, "03-asset-graph")


def assert_partitions_listed(page: Any, ui: DagsterDeployment, ids: list[str]) -> None:
    page.goto(f"{ui.url}/assets/amazon_settlement_report?view=partitions")
    for sid in ids:
        page.get_by_text(sid, exact=True).first.wait_for(state="visible")
    shot(page, "04-partitions")


def launch_one_partition(page: Any, ui: DagsterDeployment, settlement_id: str) -> None:
    page.goto(f"{ui.url}/asset-groups")
    page.locator("button", has_text="Materialize all").click()
    launch = page.get_by_role("dialog").filter(has_text="Launch runs to materialize")
    launch.get_by_text("Select a partition or create one").click()
    page.get_by_role("menuitem", name=settlement_id).click()
    # Close the picker by clicking the dialog's title (Escape would close the dialog).
    launch.get_by_text("Launch runs to materialize").click()
    launch.get_by_text("1 partition", exact=True).wait_for()
    shot(page, "05-launch-one-partition")
    launch.get_by_role("button", name="Launch 1 run").click()
    launch.wait_for(state="hidden")


def show_run(page: Any, ui: DagsterDeployment, run_id: str, name: str) -> None:
    """The run's page, screenshotted once its event log has rendered (pass or fail)."""
    page.goto(f"{ui.url}/runs/{run_id}")
    page.get_by_text(re.compile(r"^(RUN_SUCCESS|RUN_FAILURE|RUN_CANCELED)$")).first.wait_for()
    shot(page, name)


def assert_checks_passed_in_ui(
    page: Any, ui: DagsterDeployment, asset: str, checks: list[str], settlement: str | None
) -> None:
    """The asset's Checks tab: every check listed as Succeeded, its latest result Passed."""
    page.goto(f"{ui.url}/assets/{asset}?view=checks")
    expect(page.get_by_text("Succeeded", exact=True)).to_have_count(len(checks))
    for check in checks:
        page.get_by_text(check, exact=True).first.click()
        expect(page).to_have_url(re.compile(rf"checkDetail={re.escape(check)}(&|$)"))
        expect(page.get_by_text("Passed", exact=True)).to_be_visible()
        if settlement is not None:
            # The result says which settlement it is about (it read "Partition —" before).
            expect(page.get_by_text(f"settlement {settlement}").first).to_be_visible()
        shot(page, f"07-checks-{asset}-{check}")


@pytest.mark.ui
def test_operator_materializes_one_settlement_from_the_ui(
    dagster_ui: DagsterDeployment, browser_page: Any
) -> None:
    page = browser_page
    ui = dagster_ui
    names = asset_names(ui)
    assert {
        "amazon_settlement_report",
        "amazon_financial_events",
        "reconciled_settlement",
        "journal_entries",
    } <= set(names), names
    posting_assets = [n for n in names if n.endswith("_posting")]

    # 1. The sensor, paused, previewed.
    ids = pause_sensor_and_preview(page, ui)
    assert ids, "the sensor preview listed no settlements"
    assert all(SETTLEMENT_ID.match(sid) for sid in ids), ids
    assert len(set(ids)) == len(ids), f"a settlement was listed twice: {ids}"

    # 2.-4. Partitions added, graph and partitions view.
    add_partitions_from_launch_dialog(page, ui, ids)
    assert_asset_graph_shows(page, ui, names)
    assert_partitions_listed(page, ui, ids)

    # 5. One settlement materialized from the UI.
    ui.start_daemon()
    settlement = sorted(ids)[0]
    known = run_ids(ui)
    launch_one_partition(page, ui, settlement)
    run_id = wait_new_run(ui, known)
    run = wait_run_done(ui, run_id)
    show_run(page, ui, run_id, "06-run")
    assert run["status"] == "SUCCESS", failure_summary(ui, run_id)
    page.get_by_text("Success", exact=True).first.wait_for()
    tags = {t["key"]: t["value"] for t in run["tags"]}
    assert tags.get("dagster/partition") == settlement, tags

    expected_checks = asset_checks(ui)
    results = check_results(ui, run_id)
    wanted = {f"{a}:{c}" for a, checks in expected_checks.items() for c in checks}
    assert wanted, "the code location defines no asset checks"
    assert set(results) == wanted, (sorted(results), sorted(wanted))
    assert set(results.values()) == {"passed"}, results
    for asset, checks in expected_checks.items():
        # Reference data is per ERP, not per settlement.
        about = None if asset.endswith("_reference_data") else settlement
        assert_checks_passed_in_ui(page, ui, asset, checks, about)

    posted = posting_actions(ui, settlement)
    if posting_assets:
        assert posted.get("submitted", 0) + posted.get("adopted", 0) > 0, posted

    # 6. Re-execute the same run from its page: nothing new is posted.
    known = run_ids(ui)
    page.goto(f"{ui.url}/runs/{run_id}")
    page.get_by_role("button", name="Re-execute all (*)").click()
    rerun_id = wait_new_run(ui, known)
    rerun = wait_run_done(ui, rerun_id)
    show_run(page, ui, rerun_id, "08-rerun")
    assert rerun["status"] == "SUCCESS", failure_summary(ui, rerun_id)
    page.get_by_text("Success", exact=True).first.wait_for()
    rerun_tags = {t["key"]: t["value"] for t in rerun["tags"]}
    assert rerun_tags.get("dagster/partition") == settlement, rerun_tags
    after = posting_actions(ui, settlement)
    assert after.get("submitted", 0) == posted.get("submitted", 0), (posted, after)
    if posting_assets:
        # The rerun found each document already posted (and said so) instead of posting.
        assert after.get("already_posted", 0) > posted.get("already_posted", 0), (posted, after)
