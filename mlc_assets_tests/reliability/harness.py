"""Drive ``mlc demo`` as a separate process and audit what the ERP sandboxes hold afterwards.

The reliability tests treat the connector as a black box: a subprocess that may be killed at
any moment, rerun, and then checked against each ERP *through that ERP's own API* (the
sandbox apps are started again on the state files the demo left in the data home).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import httpx
from pydantic import SecretStr

from mlc_assets.clients.deltek.auth import DeltekCredentials
from mlc_assets.clients.deltek.client import DeltekClient
from mlc_assets.clients.workday.client import WorkdayClient
from mlc_assets.clients.workday.models import WorkdayClientConfig
from mlc_assets.domain.journal import Journal
from mlc_assets.domain.mapping import CLEARING, PAYABLE
from mlc_assets.sandbox import deltek_app, workday_app
from mlc_assets.sandbox.erp_servers import sandbox_periods
from mlc_assets.sandbox.faults import FaultPlan
from mlc_assets.sandbox.server import BackgroundServer
from mlc_assets.services.deltek_posting import entry_batch

ZERO = Decimal("0")
REPO = Path(__file__).resolve().parents[2]


@dataclass
class DemoRun:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    killed: bool = False
    # Faults each sandbox says it fired, from its /_sandbox/stats, last read while it ran.
    faults_fired: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The per-settlement summary ``--json`` printed (empty if the process was killed)."""
        text = self.stdout.strip()
        if not text:
            return []
        return list(json.loads(text.splitlines()[-1], parse_float=Decimal)["settlements"])


def demo_command(
    data_home: Path,
    *,
    settlements: int,
    seed: int,
    chaos: str | None,
    speed: float,
    settlement_days: int = 14,
) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "mlc_assets.cli.main",
        "demo",
        "--json",
        "--data-home",
        str(data_home),
        "--settlements",
        str(settlements),
        "--seed",
        str(seed),
        "--speed",
        str(speed),
        "--settlement-days",
        str(settlement_days),
    ]
    if chaos:
        cmd += ["--chaos", chaos]
    return cmd


def _env() -> dict[str, str]:
    # The demo pins its own MLC_* settings; anything inherited could point it elsewhere.
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLC_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass(frozen=True)
class KillPoint:
    """Where a run is SIGKILLed: once a sandbox's own counter reaches ``at``.

    Kill points follow the run's progress, not the wall clock, so a kill lands at the same
    step on a quiet machine and on a loaded one. ``counter`` is a key of the sandbox's
    ``/_sandbox/stats`` (Workday ``op:<operation>`` counts a request as it arrives, before the
    commit; Deltek ``route:<name>`` likewise; SP-API ``downloads``).
    """

    system: str  # "spapi" | "workday" | "deltek"
    counter: str
    at: int

    def __str__(self) -> str:
        return f"{self.system}.{self.counter}>={self.at}"


# How often the harness reads the sandboxes' counters while a run goes on.
POLL_SECONDS = 0.02


def run_demo(
    data_home: Path,
    *,
    settlements: int,
    seed: int = 7,
    chaos: str | None = None,
    speed: float = 400.0,
    timeout: float = 900.0,
    kill_at: KillPoint | None = None,
    settlement_days: int = 14,
) -> DemoRun:
    """Run ``mlc demo --json`` to completion, or SIGKILL it once ``kill_at`` is reached."""
    cmd = demo_command(
        data_home,
        settlements=settlements,
        seed=seed,
        chaos=chaos,
        speed=speed,
        settlement_days=settlement_days,
    )
    out_file = data_home.parent / f"{data_home.name}.stdout"
    err_file = data_home.parent / f"{data_home.name}.stderr"
    started = time.monotonic()
    with out_file.open("wb") as out, err_file.open("wb") as err:
        proc = subprocess.Popen(cmd, cwd=REPO, env=_env(), stdout=out, stderr=err)
        killed = False
        fired: dict[str, dict[str, int]] = {}
        next_fault_read = started
        while proc.poll() is None:
            now = time.monotonic()
            if now >= started + timeout:
                proc.kill()
                proc.wait()
                raise subprocess.TimeoutExpired(cmd, timeout)
            if kill_at is not None and _counter(data_home, proc.pid, kill_at) >= kill_at.at:
                # SIGKILL: no cleanup handler, no atexit, exactly like a crashed host.
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                killed = True
                break
            if now >= next_fault_read:
                fired.update(_faults_fired(data_home, proc.pid))
                next_fault_read = now + 1.0
            time.sleep(POLL_SECONDS)
    return DemoRun(
        returncode=proc.returncode,
        stdout=out_file.read_text(errors="replace"),
        stderr=err_file.read_text(errors="replace"),
        seconds=time.monotonic() - started,
        killed=killed,
        faults_fired=fired,
    )


def _stats_urls(data_home: Path, pid: int) -> dict[str, str]:
    """The running demo's sandbox stats URLs (none before it is up or from an older run)."""
    try:
        state = json.loads((data_home / "state" / "sandbox.json").read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    if state.get("pid") != pid:
        return {}  # the previous run's file: its servers are gone
    ep = state.get("endpoints", {})
    urls = {
        "spapi": ep.get("sandbox_admin", "") + "/stats",
        "workday": ep.get("workday", "") + "/_sandbox/stats",
        "deltek": ep.get("deltek", "").removesuffix(deltek_app.DEFAULT_PREFIX) + "/_sandbox/stats",
    }
    return {system: url for system, url in urls.items() if url.startswith("http")}


def _stats(url: str) -> dict[str, Any]:
    try:
        answer = httpx.get(url, timeout=2.0).json()
    except (httpx.HTTPError, ValueError):
        return {}
    return answer if isinstance(answer, dict) else {}


def _counter(data_home: Path, pid: int, point: KillPoint) -> int:
    """The sandbox counter a kill point watches (0 while the sandbox is not up)."""
    url = _stats_urls(data_home, pid).get(point.system)
    if url is None:
        return 0
    stats = _stats(url)
    # The ERP sandboxes nest their counters under "stats"; SP-API's are top-level or per operation.
    for table in (stats.get("stats"), stats, stats.get("requests")):
        if isinstance(table, dict) and isinstance(table.get(point.counter), int):
            return int(table[point.counter])
    return 0


def _faults_fired(data_home: Path, pid: int) -> dict[str, dict[str, int]]:
    """Ask the running demo's sandboxes what they injected so far (nothing if not up yet)."""
    out: dict[str, dict[str, int]] = {}
    for system, url in _stats_urls(data_home, pid).items():
        stats = _stats(url)
        if stats:
            fired = stats.get("faults_fired") or {}
            out[system] = {str(k): int(v) for k, v in fired.items()}
    return out


def chaos_fault_count(spec: str, runs_with_chaos: int = 1) -> dict[str, str]:
    """What the spec asks for per fault: a count, or a probability (not a count)."""
    plan = FaultPlan.parse(spec)
    return {
        name: (str(arm.count) if arm.count is not None else f"p={arm.probability}")
        for name, arm in plan._arms.items()
    }


def transient_retries(stderr: str) -> int:
    """Retries the connector logged (each one is a fault it absorbed)."""
    return sum(1 for line in stderr.splitlines() if "transient failure, retry" in line)


# ---- what the connector meant to post --------------------------------------------------------
def expected_journals(data_home: Path) -> dict[str, Journal]:
    """The journals the connector built, from the warehouse (read-only: the demo is over)."""
    con = duckdb.connect(str(data_home / "warehouse.duckdb"), read_only=True)
    try:
        rows = con.execute(
            "SELECT settlement_id, journal_json FROM journals WHERE journal_json IS NOT NULL"
        ).fetchall()
    finally:
        con.close()
    return {sid: Journal.model_validate_json(js) for sid, js in rows}


# ---- what the ERPs hold ----------------------------------------------------------------------
@dataclass
class ErpAudit:
    """Duplicates, losses and amount mismatches across both ERPs, per settlement."""

    settlements: int = 0
    documents: Counter[str] = field(default_factory=Counter)  # target -> documents found
    duplicates: list[str] = field(default_factory=list)
    losses: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    strays: list[str] = field(default_factory=list)  # documents no journal asks for

    def as_dict(self) -> dict[str, Any]:
        return {
            "settlements": self.settlements,
            "documents": dict(self.documents),
            "duplicates": len(self.duplicates),
            "losses": len(self.losses),
            "mismatches": len(self.mismatches),
            "strays": len(self.strays),
            "detail": {
                "duplicates": self.duplicates,
                "losses": self.losses,
                "mismatches": self.mismatches,
                "strays": self.strays,
            },
        }


@contextmanager
def erp_clients(data_home: Path) -> Iterator[tuple[WorkdayClient, DeltekClient, str, str]]:
    """Both ERP sandboxes, serving the state the demo left, and the connector's real clients."""
    state = data_home / "sandbox"
    wd_app = workday_app.build_workday_app(state_file=state / "workday.json")
    dk_app = deltek_app.build_deltek_app(
        state_file=state / "deltek.json", periods=sandbox_periods()
    )
    with BackgroundServer(wd_app) as wd, BackgroundServer(dk_app) as dk:
        workday = WorkdayClient(
            WorkdayClientConfig(
                base_url=wd.url,
                tenant=workday_app.DEMO_TENANT,
                username=workday_app.DEMO_USERNAME,
                password=SecretStr(workday_app.DEMO_PASSWORD),
            )
        )
        deltek = DeltekClient(
            dk.url + deltek_app.DEFAULT_PREFIX,
            DeltekCredentials(
                username=deltek_app.DEMO_USERNAME,
                password=SecretStr(deltek_app.DEMO_PASSWORD),
                database=deltek_app.DEMO_DATABASE,
                client_id=deltek_app.DEMO_CLIENT_ID,
                client_secret=SecretStr(deltek_app.DEMO_CLIENT_SECRET),
            ),
        )
        try:
            yield workday, deltek, wd.url, dk.url
        finally:
            deltek.close()
            close = getattr(workday, "close", None)
            if close is not None:
                close()


def _net_by_account(lines: list[tuple[str, Decimal, Decimal]]) -> dict[str, Decimal]:
    net: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for account, debit, credit in lines:
        net[account] += debit - credit
    return {a: v for a, v in net.items() if v != ZERO}


def _clearing_accounts(journal: Journal, target: str) -> tuple[set[str], set[str]]:
    clearing: set[str] = set()
    payable: set[str] = set()
    for entry in journal.entries:
        for ln in entry.lines:
            ref = ln.workday if target == "workday" else ln.deltek
            if ref is None:
                continue
            code = ref.ledger_account if target == "workday" else ref.account  # type: ignore[union-attr]
            if ln.account_key == CLEARING:
                clearing.add(code)
            elif ln.account_key == PAYABLE:
                payable.add(code)
    return clearing, payable


def audit_erps(data_home: Path, settlement_ids: list[str]) -> ErpAudit:
    """Read every settlement's documents back through each ERP's own API and compare them with
    the journal: exactly one document per reference, same net amount per account, the deposit
    on the clearing line, and no document for the settlement under any other reference."""
    journals = expected_journals(data_home)
    audit = ErpAudit(settlements=len(settlement_ids))
    with erp_clients(data_home) as (workday, deltek, wd_url, dk_url):
        wd_all = httpx.get(f"{wd_url}/_sandbox/journals", timeout=30).json()["journals"]
        dk_all = httpx.get(f"{dk_url}/_sandbox/batches", timeout=30).json()
        wd_by_ref = Counter(j["accounting_journal_id"] for j in wd_all)
        dk_by_batch = Counter(b["batch"] for b in dk_all if b["trans_type"] == "JE")
        wanted_wd: set[str] = set()
        wanted_dk: set[str] = set()
        for sid in settlement_ids:
            journal = journals.get(sid)
            if journal is None:
                audit.losses.append(f"{sid}: no journal in the warehouse")
                continue
            wd_clear, wd_pay = _clearing_accounts(journal, "workday")
            dk_clear, dk_pay = _clearing_accounts(journal, "deltek")
            wd_deposit = ZERO
            dk_deposit = ZERO
            for entry in journal.entries:
                lines = entry.postable_lines()
                ref = entry.reference
                batch = entry_batch(journal, entry).batch
                wanted_wd.add(ref)
                wanted_dk.add(batch)
                # Workday: one journal per Accounting_Journal_ID.
                if wd_by_ref[ref] > 1:
                    audit.duplicates.append(f"workday {ref}: {wd_by_ref[ref]} journals")
                record = workday.find_journal(ref)
                if record is None:
                    audit.losses.append(f"workday {ref}: not found")
                else:
                    audit.documents["workday"] += 1
                    want = _net_by_account(
                        [(ln.workday.ledger_account, ln.debit, ln.credit) for ln in lines]  # type: ignore[union-attr]
                    )
                    got = _net_by_account(
                        [(str(ln.account), ln.debit, ln.credit) for ln in record.lines]
                    )
                    if want != got:
                        audit.mismatches.append(f"workday {ref}: {got} != journal {want}")
                    wd_deposit += sum((v for a, v in got.items() if a in wd_clear), ZERO)
                    wd_deposit += sum((v for a, v in got.items() if a in wd_pay), ZERO)
                # Deltek: one file per batch name, posted under one posting sequence.
                if dk_by_batch[batch] > 1:
                    audit.duplicates.append(f"deltek {batch}: {dk_by_batch[batch]} files")
                found = deltek.find_batch(batch, "JE")
                if found is None or not found.posted:
                    audit.losses.append(
                        f"deltek {batch}: {'not found' if found is None else 'not posted'}"
                    )
                else:
                    audit.documents["deltek"] += 1
                    want = _net_by_account(
                        [(ln.deltek.account, ln.debit, ln.credit) for ln in lines]  # type: ignore[union-attr]
                    )
                    got = _net_by_account([(ln.account, ln.debit, ln.credit) for ln in found.lines])
                    if want != got:
                        audit.mismatches.append(f"deltek {batch}: {got} != journal {want}")
                    dk_deposit += sum((v for a, v in got.items() if a in dk_clear), ZERO)
                    dk_deposit += sum((v for a, v in got.items() if a in dk_pay), ZERO)
            # The bank side (clearing debit, or payable credit for a negative settlement).
            if journal.clearing_total != journal.deposit:
                audit.mismatches.append(
                    f"{sid}: journal clearing {journal.clearing_total} != deposit {journal.deposit}"
                )
            for target, deposit in (("workday", wd_deposit), ("deltek", dk_deposit)):
                if deposit != journal.deposit:
                    audit.mismatches.append(
                        f"{target} {sid}: clearing side {deposit} != deposit {journal.deposit}"
                    )
        for sid in settlement_ids:
            clean = "".join(ch for ch in sid if ch.isalnum())
            for ref in wd_by_ref:
                if sid in ref and ref not in wanted_wd:
                    audit.strays.append(f"workday {ref}")
            for batch in dk_by_batch:
                if batch.startswith(f"AMZ{clean}") and batch not in wanted_dk:
                    audit.strays.append(f"deltek {batch}")
    return audit


def write_figures(name: str, figures: dict[str, Any]) -> Path:
    """Merge one test's figures into ``test-artifacts/exactly_once.json``."""
    out = REPO / "test-artifacts" / "exactly_once.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {}
    if out.exists():
        try:
            data = json.loads(out.read_text())
        except json.JSONDecodeError:
            data = {}
    data[name] = figures
    out.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
    return out
