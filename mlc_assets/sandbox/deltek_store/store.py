"""What the Deltek sandbox tenant holds: files in data entry, the posted ledger, periods."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from mlc_assets.sandbox.deltek_store.records import (
    DEFAULT_ACCOUNTS,
    DEFAULT_ORGS,
    MAX_BATCH,
    MAX_REFNO,
    TIERS,
    SandboxRejection,
    _jsonable,
    _money,
    _revive,
    default_projects,
    deltek_date,
    monthly_periods,
)


@dataclass
class DeltekStore:
    """Everything the sandbox tenant knows. Thread-safe; persisted to ``state_file`` if set."""

    periods: list[dict[str, Any]] = field(default_factory=list)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    projects: list[dict[str, Any]] = field(default_factory=list)
    orgs: list[dict[str, Any]] = field(default_factory=list)
    active_period: int | None = None
    company: str = "A0"
    # (TransType, Batch) -> {"control": {...}, "master": [...], "detail": [...]}; unposted only.
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Posted file headers (kept for the admin dump and duplicate detection).
    posted_files: dict[str, dict[str, Any]] = field(default_factory=dict)
    # TransType -> posted ledger rows (what GET /PSALedger/{TransType} returns).
    ledger: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    next_post_seq: int = 101
    strict_balance_on_create: bool = True
    state_file: Path | None = None

    def __post_init__(self) -> None:
        self.lock = threading.RLock()
        if self.state_file is not None and Path(self.state_file).exists():
            self._load(Path(self.state_file))

    # ---- persistence -------------------------------------------------------------------
    _PERSISTED = (
        "periods",
        "accounts",
        "projects",
        "orgs",
        "active_period",
        "company",
        "files",
        "posted_files",
        "ledger",
        "next_post_seq",
    )

    def _load(self, path: Path) -> None:
        data = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
        for name in self._PERSISTED:
            if name in data:
                setattr(self, name, data[name])
        # Money was stored as strings; bring it back as Decimal so responses carry numbers.
        self.files = _revive(self.files)
        self.posted_files = _revive(self.posted_files)
        self.ledger = _revive(self.ledger)

    def save(self) -> None:
        if self.state_file is None:
            return
        path = Path(self.state_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {name: _jsonable(getattr(self, name)) for name in self._PERSISTED}
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(payload, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)

    # ---- periods -----------------------------------------------------------------------
    def period_rows(self) -> list[dict[str, Any]]:
        """Rows as GET /Settings/Period returns them [DOC: PM-Periods]."""
        rows = []
        for p in self.periods:
            start = date.fromisoformat(p["start"])
            fy = start.year
            rows.append(
                {
                    "Period": p["period"],
                    "FmtPeriod": f"{p['period'] % 100}/{p['period'] // 100}",
                    "AccountPdStart": deltek_date(p["start"]),
                    "AccountPdEnd": deltek_date(p["end"]),
                    "FYStart": deltek_date(f"{fy}-01-01"),
                    "FYEnd": deltek_date(f"{fy}-12-31"),
                    "ActiveCompanyClosed": "Y" if p["closed"] else "N",
                    "AllCompaniesClosed": "Y" if p["closed"] else "N",
                    "ApplytoAllCompanies": "",
                }
            )
        return rows

    def period(self, number: int) -> dict[str, Any] | None:
        return next((p for p in self.periods if p["period"] == number), None)

    def set_closed(self, number: int, closed: bool) -> None:
        with self.lock:
            p = self.period(number)
            if p is None:
                raise SandboxRejection(f"Period {number} does not exist.", status=404)
            p["closed"] = closed
            self.save()

    def _require_open_period(self, raw: Any) -> int:
        try:
            number = int(str(raw))
        except ValueError as exc:
            raise SandboxRejection(f"Period '{raw}' is not a valid period.") from exc
        p = self.period(number)
        if p is None:
            raise SandboxRejection(f"Period {number} is not set up.")
        if p["closed"]:
            # [DOC: H-Periods] a role without "Allow Processing in Closed/Prior Periods"
            # cannot enter or post there; the wording of the message is [INF].
            raise SandboxRejection(
                f"Period {number} is closed. Transactions cannot be entered or posted "
                f"in a closed period."
            )
        return number

    # ---- reference data ----------------------------------------------------------------
    def project_row(self, wbs1: str, wbs2: str = " ", wbs3: str = " ") -> dict[str, Any] | None:
        key = (wbs1.strip(), wbs2.strip(), wbs3.strip())
        for row in self.projects:
            if (row["WBS1"].strip(), row["WBS2"].strip(), row["WBS3"].strip()) == key:
                return row
        return None

    def _check_line_refs(self, line: dict[str, Any], where: str) -> str:
        """Account and project must exist and be active [DOC field semantics; rules INF].

        Returns the Org the ledger row inherits from the project (Org is not sent on
        create in any Deltek example; the detail GET returns it) [INF].
        """
        account = str(line.get("Account") or "").strip()
        acct = self.accounts.get(account)
        if acct is None:
            raise SandboxRejection(f"{where}: Account '{account}' is not valid.")
        if acct.get("Status", "A") != "A":
            raise SandboxRejection(f"{where}: Account '{account}' is inactive.")
        org = str(line.get("Org") or "").strip()
        if org and not any(o["Org"] == org for o in self.orgs):
            raise SandboxRejection(f"{where}: Organization '{org}' is not valid.")
        wbs1 = str(line.get("WBS1") or "").strip()
        if not wbs1:
            return org
        wbs2 = str(line.get("WBS2") or "").strip()
        wbs3 = str(line.get("WBS3") or "").strip()
        top = self.project_row(wbs1)
        if top is None:
            raise SandboxRejection(f"{where}: Project '{wbs1}' is not valid.")
        target = self.project_row(wbs1, wbs2, wbs3)
        if target is None:
            raise SandboxRejection(f"{where}: Phase/Task '{wbs1}/{wbs2}/{wbs3}' is not valid.")
        if target["Status"] != "A":
            raise SandboxRejection(f"{where}: Project '{wbs1}' is not active.")
        if target["SubLevel"] == "Y":
            # [INF from SubLevel]: charges go to the lowest level of the WBS.
            raise SandboxRejection(
                f"{where}: '{wbs1}/{wbs2}/{wbs3}' has phases or tasks; charge the lowest level."
            )
        if org and org != target["Org"]:
            # A project line takes the project's Org [INF from PM-JEDetail]; a different
            # explicit Org is refused rather than silently replaced.
            raise SandboxRejection(
                f"{where}: Organization '{org}' does not match project '{wbs1}' "
                f"organization '{target['Org']}'."
            )
        return str(target["Org"])

    # ---- transaction files -------------------------------------------------------------
    @staticmethod
    def key(trans_type: str, batch: str) -> str:
        return f"{trans_type}|{batch}"

    def batch_exists(self, trans_type: str, batch: str) -> bool:
        k = self.key(trans_type, batch)
        return k in self.files or k in self.posted_files

    def create_file(self, trans_type: str, body: dict[str, Any]) -> dict[str, Any]:
        """Validate and store a DataEntry control with its master and detail rows."""
        master_key, detail_key, doc_key = TIERS[trans_type]
        batch = str(body.get("Batch") or "").strip()
        if not batch:
            raise SandboxRejection("Batch is required.")
        if len(batch) > MAX_BATCH:
            raise SandboxRejection(f"Batch '{batch}' is longer than {MAX_BATCH} characters.")
        masters = body.get(master_key) or []
        details = body.get(detail_key) or []
        if not isinstance(masters, list) or not isinstance(details, list):
            raise SandboxRejection(f"{master_key} and {detail_key} must be arrays.")
        if not details:
            raise SandboxRejection(f"Batch '{batch}' has no {detail_key} rows.")
        with self.lock:
            if self.batch_exists(trans_type, batch):
                # Duplicate-batch behaviour is not documented [INF]: refuse with a clear text.
                raise SandboxRejection(f"Batch '{batch}' already exists.")
            period = self._require_open_period(body.get("Period"))
            docs = set()
            for i, m in enumerate(masters):
                doc = str(m.get(doc_key) or "").strip()
                if not doc:
                    raise SandboxRejection(f"{master_key}[{i}]: {doc_key} is required.")
                if len(doc) > MAX_REFNO:
                    raise SandboxRejection(
                        f"{master_key}[{i}]: {doc_key} '{doc}' is longer than {MAX_REFNO}."
                    )
                docs.add(doc)
            pkeys: set[str] = set()
            debits = credits = Decimal("0")
            stored_details = []
            for i, d in enumerate(details):
                where = f"{detail_key}[{i}]"
                doc = str(d.get(doc_key) or "").strip()
                if doc not in docs:
                    raise SandboxRejection(f"{where}: {doc_key} '{doc}' has no {master_key} row.")
                pkey = str(d.get("PKey") or "").strip()
                if not pkey:
                    raise SandboxRejection(f"{where}: PKey is required.")
                if pkey in pkeys:
                    raise SandboxRejection(f"{where}: PKey '{pkey}' is not unique.")
                pkeys.add(pkey)
                org = self._check_line_refs(d, where)
                row = dict(d)
                row["Org"] = org
                if trans_type == "JE":
                    dr = _money(d.get("DebitAmount"), f"{where}.DebitAmount")
                    cr = _money(d.get("CreditAmount"), f"{where}.CreditAmount")
                    if dr < 0 or cr < 0 or (dr > 0) == (cr > 0):
                        # [DOC: H-JE] debit and credit are separate non-negative columns;
                        # exactly one per line is docs/reference/deltek/NOTES.md §10 guidance [INF].
                        raise SandboxRejection(
                            f"{where}: enter exactly one of DebitAmount or CreditAmount "
                            f"(got {dr} / {cr})."
                        )
                    debits += dr
                    credits += cr
                    row["DebitAmount"], row["CreditAmount"] = dr, cr
                else:
                    amount = _money(d.get("Amount"), f"{where}.Amount")
                    row["Amount"] = amount
                    debits += amount
                stored_details.append(row)
            control = {k: v for k, v in body.items() if k not in (master_key, detail_key)}
            control.update({"Batch": batch, "Period": period, "Posted": "N"})
            control.setdefault("Company", self.company)
            if trans_type == "JE":
                total = _money(body.get("Total"), "Total") if "Total" in body else debits
                credits_total = (
                    _money(body.get("CreditsTotal"), "CreditsTotal")
                    if "CreditsTotal" in body
                    else credits
                )
                if self.strict_balance_on_create and debits != credits:
                    # [DOC: H-JE] a file posts only if it balances. Refusing already at create
                    # is the sandbox being strict [INF]; posting refuses regardless.
                    raise SandboxRejection(
                        f"Batch '{batch}' is out of balance: debits {debits} do not equal "
                        f"credits {credits}.",
                        detail=f"DiffDebitsTotal={debits - credits}",
                    )
                control.update(
                    {
                        "Total": total,
                        "CreditsTotal": credits_total,
                        "SumDebitsTotal": debits,
                        "SumCreditsTotal": credits,
                        "DiffDebitsTotal": total - debits,
                        "DiffCreditsTotal": credits_total - credits,
                    }
                )
            else:
                total = _money(body.get("Total"), "Total") if "Total" in body else debits
                if total != debits:
                    # [3P: Rail-QBO-CR] Vantagepoint rejects a file whose control Total
                    # does not equal its detail; applied to IN as well [INF].
                    raise SandboxRejection(
                        f"Batch '{batch}' is out of balance: control Total {total} does not "
                        f"equal the detail amounts {debits}."
                    )
                control.update({"Total": total, "SumTotal": debits, "DiffTotal": total - debits})
            self.files[self.key(trans_type, batch)] = {
                "control": control,
                "master": [dict(m) for m in masters],
                "detail": stored_details,
            }
            self.save()
            return control

    def get_file(self, trans_type: str, batch: str) -> dict[str, Any] | None:
        return self.files.get(self.key(trans_type, batch))

    def delete_file(self, trans_type: str, batch: str) -> bool:
        with self.lock:
            gone = self.files.pop(self.key(trans_type, batch), None) is not None
            if gone:
                self.save()
            return gone

    def post_file(self, trans_type: str, batch: str, period_raw: Any) -> dict[str, Any]:
        """Move a balanced file in an open period to the ledger; returns the post summary."""
        with self.lock:
            f = self.files.get(self.key(trans_type, batch))
            if f is None:
                if self.key(trans_type, batch) in self.posted_files:
                    raise SandboxRejection(f"Batch '{batch}' has already been posted.")
                raise SandboxRejection(f"Batch '{batch}' was not found.", status=404)
            control = f["control"]
            # Whether posting uses parms.period or the file's Period is undocumented [INF]:
            # use parms.period when given, else the file's.
            period = self._require_open_period(
                period_raw if period_raw not in (None, "") else control["Period"]
            )
            _, _, doc_key = TIERS[trans_type]
            if trans_type == "JE":
                debits = sum(
                    (_money(d["DebitAmount"], "DebitAmount") for d in f["detail"]), Decimal("0")
                )
                credits = sum(
                    (_money(d["CreditAmount"], "CreditAmount") for d in f["detail"]), Decimal("0")
                )
                if debits != credits:
                    raise SandboxRejection(  # [DOC: H-JE] unbalanced files never post.
                        f"Batch '{batch}' is out of balance: debits {debits} do not equal "
                        f"credits {credits}."
                    )
            seq = self.next_post_seq
            self.next_post_seq += 1
            masters = {m[doc_key]: m for m in f["master"]}
            rows = self.ledger.setdefault(trans_type, [])
            for d in f["detail"]:
                m = masters.get(d[doc_key], {})
                if trans_type == "JE":
                    # Signed Amount, debit + / credit - [DOC: DPS-ReadJE shows -400; sign INF].
                    amount = _money(d["DebitAmount"], "Debit") - _money(d["CreditAmount"], "Cr")
                else:
                    amount = _money(d["Amount"], "Amount")
                rows.append(
                    {
                        # Column names per [3P: GoVP-gl, Rail-QBO-JEexport].
                        "Batch": batch,
                        "Period": period,
                        "PostSeq": seq,
                        "PKey": d["PKey"],
                        "WBS1": d.get("WBS1") or "",
                        "WBS2": d.get("WBS2") or "",
                        "WBS3": d.get("WBS3") or "",
                        "Account": d["Account"],
                        "Org": d.get("Org") or "",
                        "TransType": trans_type,
                        "SubType": "",
                        "RefNo": d.get("RefNo") or "",
                        "Invoice": d.get("Invoice") or "",
                        "TransDate": m.get("TransDate") or control.get("EndDate") or "",
                        "Desc1": m.get("Description") or m.get("TransComment") or "",
                        "Desc2": d.get("Description") or "",
                        "Amount": amount,
                        "TransactionAmount": amount,
                    }
                )
            del self.files[self.key(trans_type, batch)]
            posted_control = dict(control, Posted="Y", PostSeq=seq, PostPeriod=period)
            self.posted_files[self.key(trans_type, batch)] = posted_control
            self.save()
            return {
                "type": trans_type,
                "batch": batch,
                "period": period,
                "postseq": seq,
                "count": len(f["detail"]),
                "description": str(control.get("Description") or batch),
            }

    def dump_batches(self) -> list[dict[str, Any]]:
        """Admin view: every file, posted or not, with its lines."""
        out = []
        with self.lock:
            for k, f in self.files.items():
                tt, batch = k.split("|", 1)
                out.append(
                    {
                        "trans_type": tt,
                        "batch": batch,
                        "posted": False,
                        "post_seq": None,
                        "period": f["control"]["Period"],
                        "lines": _jsonable(f["detail"]),
                    }
                )
            for k, c in self.posted_files.items():
                tt, batch = k.split("|", 1)
                rows = [r for r in self.ledger.get(tt, []) if r["Batch"] == batch]
                out.append(
                    {
                        "trans_type": tt,
                        "batch": batch,
                        "posted": True,
                        "post_seq": c["PostSeq"],
                        "period": c["PostPeriod"],
                        "lines": _jsonable(rows),
                    }
                )
        return out


def seeded_store(
    *,
    periods: list[dict[str, Any]] | None = None,
    accounts: tuple[tuple[str, str, int], ...] = DEFAULT_ACCOUNTS,
    projects: list[dict[str, Any]] | None = None,
    state_file: Path | None = None,
    strict_balance_on_create: bool = True,
) -> DeltekStore:
    """A store with the demo chart of accounts, project and periods (unless a state file
    already holds a tenant, in which case that wins)."""
    if periods is None:
        # Jan 2026 .. Dec 2026 with January closed: settlements spanning a close are normal.
        periods = monthly_periods(202601, 12, closed={202601})
    store = DeltekStore(
        periods=periods,
        accounts={
            code: {"Account": code, "Name": name, "Type": typ, "Status": "A", "Detail": "N"}
            for code, name, typ in accounts
        },
        projects=projects if projects is not None else default_projects(),
        orgs=[{"Org": o, "Name": n, "Status": "A"} for o, n in DEFAULT_ORGS],
        active_period=next((p["period"] for p in periods if not p["closed"]), None),
        strict_balance_on_create=strict_balance_on_create,
        state_file=state_file,
    )
    return store
