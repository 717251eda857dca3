"""Settlement report vs Finances events: which group is the settlement, and do they agree?

Two questions, answered without I/O:
1. ``match_group``: the Finances group describing a settlement. v0 has no lookup between
   settlement-id and FinancialEventGroupId (docs/reference/amazon/NOTES.md §7), so we match on
   currency, period,
   closed total == deposit and transfer date ≈ deposit date. Anything but exactly one
   convincing candidate is returned as such, with every candidate's reasons — never a guess.
2. ``reconcile``: per-category totals of both sides, overall totals against the deposit,
   order-level differences and late events, as named findings a controller can act on.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from mlc_assets.domain.finance_events import FinancialEventGroup
from mlc_assets.domain.money import MONEY_DTYPE, ZERO, money_str
from mlc_assets.domain.settlement_schema import SettlementHeader

# ---------------------------------------------------------------- group matching


class GroupCandidate(BaseModel):
    model_config = ConfigDict(frozen=True)

    group_id: str
    accepted: bool
    reasons: tuple[str, ...]  # why it was rejected (empty when accepted)


class GroupMatch(BaseModel):
    model_config = ConfigDict(frozen=True)

    settlement_id: str
    status: Literal["matched", "ambiguous", "missing"]
    group: FinancialEventGroup | None = None
    candidates: tuple[GroupCandidate, ...] = ()

    @property
    def matched(self) -> bool:
        return self.status == "matched"

    def describe(self) -> str:
        if self.status == "matched" and self.group is not None:
            return f"settlement {self.settlement_id} ↔ group {self.group.group_id}"
        lines = [f"settlement {self.settlement_id}: group {self.status}"]
        for c in self.candidates:
            verdict = "fits" if c.accepted else "; ".join(c.reasons)
            lines.append(f"  {c.group_id}: {verdict}")
        if not self.candidates:
            lines.append("  no group in the same currency overlaps the settlement period")
        return "\n".join(lines)


def _near(a: datetime | None, b: datetime, tol: timedelta) -> bool:
    return a is not None and abs(a - b) <= tol


def match_group(
    header: SettlementHeader,
    groups: Iterable[FinancialEventGroup],
    *,
    period_tolerance: timedelta = timedelta(hours=24),
    deposit_tolerance: timedelta = timedelta(days=5),
) -> GroupMatch:
    """The one group that is this settlement, or a result saying why there is not one.

    Candidates are groups in the settlement's currency whose period overlaps (or lies
    within tolerance of) the settlement's period; each is checked on every criterion so a
    reviewer sees all reasons at once."""
    candidates: list[tuple[FinancialEventGroup, GroupCandidate]] = []
    for g in groups:
        if g.original_currency and g.original_currency != header.currency:
            continue
        g_start = g.start or g.end
        g_end = g.end or g.start
        if g_start is None or g_end is None:
            continue
        if g_start > header.end + period_tolerance or g_end < header.start - period_tolerance:
            continue
        reasons: list[str] = []
        if not _near(g.start, header.start, period_tolerance):
            reasons.append(f"start {g.start} is not within {period_tolerance} of {header.start}")
        if not _near(g.end, header.end, period_tolerance):
            reasons.append(f"end {g.end} is not within {period_tolerance} of {header.end}")
        if not g.closed:
            reasons.append(f"group is {g.processing_status or 'of unknown status'}, not Closed")
        if g.original_total != header.total_amount:
            reasons.append(
                f"OriginalTotal {g.original_total} != settlement total {header.total_amount}"
            )
        if not _near(g.fund_transfer_date, header.deposit_date, deposit_tolerance):
            reasons.append(
                f"FundTransferDate {g.fund_transfer_date} is not within {deposit_tolerance} "
                f"of deposit date {header.deposit_date}"
            )
        candidates.append(
            (g, GroupCandidate(group_id=g.group_id, accepted=not reasons, reasons=tuple(reasons)))
        )
    accepted = [g for g, c in candidates if c.accepted]
    listed = tuple(c for _, c in candidates)
    if len(accepted) == 1:
        return GroupMatch(
            settlement_id=header.settlement_id,
            status="matched",
            group=accepted[0],
            candidates=listed,
        )
    status: Literal["ambiguous", "missing"] = "ambiguous" if accepted else "missing"
    return GroupMatch(settlement_id=header.settlement_id, status=status, candidates=listed)


# ---------------------------------------------------------------- reconciliation


class Finding(BaseModel):
    """One named difference. ``code`` is stable (checks and tests key on it)."""

    model_config = ConfigDict(frozen=True)

    code: Literal[
        "no_group",
        "ambiguous_group",
        "category_difference",
        "report_vs_deposit",
        "events_vs_deposit",
        "missing_in_events",
        "extra_in_events",
        "order_amount_difference",
        "late_events",
    ]
    severity: Literal["error", "warning"]
    message: str


CATEGORY_FRAME_SCHEMA: dict[str, pl.DataType] = {
    "category": pl.Utf8(),
    "report": MONEY_DTYPE,
    "events": MONEY_DTYPE,
    "difference": MONEY_DTYPE,  # events - report
    "within_tolerance": pl.Boolean(),
}


class Reconciliation(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    settlement_id: str | None = None
    group_id: str | None = None
    tolerance: Decimal
    categories: pl.DataFrame  # CATEGORY_FRAME_SCHEMA
    report_total: Decimal
    events_total: Decimal
    deposit: Decimal | None = None
    late_events: pl.DataFrame = Field(default_factory=pl.DataFrame)
    findings: tuple[Finding, ...] = ()

    @property
    def ok(self) -> bool:
        """No error-level finding: the settlement may be journalled."""
        return not any(f.severity == "error" for f in self.findings)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(f.code for f in self.findings)

    def markdown(self) -> str:
        """For Dagster metadata: status, category table, findings."""
        status = "✅ reconciled" if self.ok else "❌ NOT reconciled"
        if self.ok and self.findings:
            status += " (with warnings)"
        head = [f"**{status}**"]
        if self.settlement_id:
            head.append(f"settlement `{self.settlement_id}`")
        if self.group_id:
            head.append(f"group `{self.group_id}`")
        out = [" · ".join(head), ""]
        out.append("| category | report | events | difference | ok |")
        out.append("|---|---:|---:|---:|:-:|")
        for row in self.categories.iter_rows(named=True):
            out.append(
                f"| {row['category']} | {money_str(row['report'])} | {money_str(row['events'])}"
                f" | {money_str(row['difference'])} | {'✓' if row['within_tolerance'] else '✗'} |"
            )
        out.append(
            f"| **total** | {money_str(self.report_total)} | {money_str(self.events_total)} | "
            f"{money_str(self.events_total - self.report_total)} | |"
        )
        if self.deposit is not None:
            out += ["", f"Deposit (total-amount): {money_str(self.deposit)}"]
        if self.findings:
            out += ["", "Findings:"]
            out += [f"- **{f.code}** ({f.severity}): {f.message}" for f in self.findings]
        return "\n".join(out)


def _totals_dict(totals: pl.DataFrame | dict[str, Decimal]) -> dict[str, Decimal]:
    if isinstance(totals, pl.DataFrame):
        return {str(r["category"]): Decimal(r["amount"]) for r in totals.iter_rows(named=True)}
    return {str(k): Decimal(v) for k, v in totals.items()}


_HAS_ORDER = pl.col("order_id").is_not_null() & (pl.col("order_id") != "")


def _category_totals(lines: pl.LazyFrame) -> pl.LazyFrame:
    return (
        lines.group_by("category")
        .agg(pl.col("amount").sum().cast(MONEY_DTYPE))
        .with_columns(pl.col("category").cast(pl.Utf8))
        .sort("category")
    )


def _order_totals(lines: pl.LazyFrame, categories: Iterable[str] | None = None) -> pl.LazyFrame:
    keep = _HAS_ORDER if categories is None else _HAS_ORDER & pl.col("category").is_in(categories)
    return lines.filter(keep).group_by("order_id").agg(pl.col("amount").sum().cast(MONEY_DTYPE))


def _order_findings(report: pl.DataFrame, events: pl.DataFrame, limit: int) -> list[Finding]:
    joined = report.rename({"amount": "report"}).join(
        events.rename({"amount": "events"}), on="order_id", how="full", coalesce=True
    )
    out: list[Finding] = []

    def listing(frame: pl.DataFrame, col: str) -> str:
        rows = frame.sort("order_id").head(limit).iter_rows(named=True)
        text = ", ".join(f"{r['order_id']} ({money_str(r[col])})" for r in rows)
        return text + (f" … and {frame.height - limit} more" if frame.height > limit else "")

    missing = joined.filter(pl.col("events").is_null())
    if missing.height:
        out.append(
            Finding(
                code="missing_in_events",
                severity="error",
                message=(
                    f"{missing.height} order(s) in the report have no Finances events: "
                    + listing(missing, "report")
                ),
            )
        )
    extra = joined.filter(pl.col("report").is_null())
    if extra.height:
        out.append(
            Finding(
                code="extra_in_events",
                severity="error",
                message=(
                    f"{extra.height} order(s) have Finances events but no report lines: "
                    + listing(extra, "events")
                ),
            )
        )
    differ = joined.filter(
        pl.col("report").is_not_null()
        & pl.col("events").is_not_null()
        & (pl.col("report") != pl.col("events"))
    )
    if differ.height:
        rows = differ.sort("order_id").head(limit).iter_rows(named=True)
        text = ", ".join(
            f"{r['order_id']} report {money_str(r['report'])} vs events {money_str(r['events'])}"
            for r in rows
        )
        out.append(
            Finding(
                code="order_amount_difference",
                severity="error",
                message=(f"{differ.height} order(s) differ: {text}"),
            )
        )
    return out


def reconcile(
    report_category_totals: pl.DataFrame | dict[str, Decimal],
    event_category_totals: pl.DataFrame | dict[str, Decimal],
    tolerance: Decimal = Decimal("0.00"),
    *,
    deposit: Decimal | None = None,
    settlement_id: str | None = None,
    group_id: str | None = None,
    report_order_totals: pl.DataFrame | None = None,
    event_order_totals: pl.DataFrame | None = None,
    late_events: pl.DataFrame | None = None,
    late_policy: Literal["error", "warning"] = "error",
    group_match: GroupMatch | None = None,
    listing_limit: int = 10,
) -> Reconciliation:
    """Compare both sides per category (frames with ``category``/``amount`` or dicts).

    Late events default to an error: they are money Amazon attributes to the group after it
    closed, so a human should confirm where they belong before anything is posted."""
    rep = _totals_dict(report_category_totals)
    evt = _totals_dict(event_category_totals)
    cats = sorted(set(rep) | set(evt))
    rows = []
    findings: list[Finding] = []
    if group_match is not None and not group_match.matched:
        code: Literal["no_group", "ambiguous_group"] = (
            "no_group" if group_match.status == "missing" else "ambiguous_group"
        )
        findings.append(Finding(code=code, severity="error", message=group_match.describe()))
    for cat in cats:
        r, e = rep.get(cat, ZERO), evt.get(cat, ZERO)
        diff = e - r
        ok = abs(diff) <= tolerance
        rows.append(
            {"category": cat, "report": r, "events": e, "difference": diff, "within_tolerance": ok}
        )
        if not ok:
            findings.append(
                Finding(
                    code="category_difference",
                    severity="error",
                    message=(
                        f"{cat}: report {money_str(r)}, events {money_str(e)}, "
                        f"difference {money_str(diff)}"
                    ),
                )
            )
    report_total = sum(rep.values(), ZERO)
    events_total = sum(evt.values(), ZERO)
    if deposit is not None:
        if abs(report_total - deposit) > tolerance:
            findings.append(
                Finding(
                    code="report_vs_deposit",
                    severity="error",
                    message=(
                        f"report lines sum to {money_str(report_total)}, deposit is "
                        f"{money_str(deposit)}"
                    ),
                )
            )
        if abs(events_total - deposit) > tolerance:
            findings.append(
                Finding(
                    code="events_vs_deposit",
                    severity="error",
                    message=(
                        f"events sum to {money_str(events_total)}, deposit is {money_str(deposit)} "
                        f"(difference {money_str(events_total - deposit)})"
                    ),
                )
            )
    if report_order_totals is not None and event_order_totals is not None:
        findings += _order_findings(report_order_totals, event_order_totals, listing_limit)
    late = late_events if late_events is not None else pl.DataFrame()
    if late.height:
        refs = late.unique(subset=["event_ref"], keep="first", maintain_order=True)
        text = ", ".join(
            f"{r.get('event_family')} {r.get('order_id') or r.get('event_ref')} posted "
            f"{r.get('posted_date')} ({money_str(r['amount'])})"
            for r in refs.head(listing_limit).iter_rows(named=True)
        )
        findings.append(
            Finding(
                code="late_events",
                severity=late_policy,
                message=(f"{refs.height} event(s) posted after the group closed: {text}"),
            )
        )
    frame = pl.DataFrame(rows, schema=CATEGORY_FRAME_SCHEMA)
    return Reconciliation(
        settlement_id=settlement_id,
        group_id=group_id,
        tolerance=tolerance,
        categories=frame,
        report_total=report_total,
        events_total=events_total,
        deposit=deposit,
        late_events=late,
        findings=tuple(findings),
    )


def _order_categories(lines: pl.LazyFrame) -> pl.LazyFrame:
    return lines.select(pl.col("category").filter(_HAS_ORDER).drop_nulls().unique())


def reconcile_lines(
    report_lines: pl.DataFrame,
    event_lines: pl.DataFrame,
    *,
    deposit: Decimal | None = None,
    tolerance: Decimal = Decimal("0.00"),
    settlement_id: str | None = None,
    group_id: str | None = None,
    group_end: datetime | None = None,
    group_match: GroupMatch | None = None,
    late_policy: Literal["error", "warning"] = "error",
) -> Reconciliation:
    """Convenience over ``reconcile`` for classified frames (both with ``category``,
    ``amount``, ``order_id``; events also ``posted_date``)."""
    late = None
    if group_end is not None:
        late = event_lines.filter(pl.col("posted_date") > pl.lit(group_end))
    # Lazy over the three columns used: no filtered copy of a million-line frame, and each
    # side's aggregations run together (collect_all) instead of one pass after another.
    sides = [f.lazy().select("category", "order_id", "amount") for f in (report_lines, event_lines)]
    rep_totals, evt_totals, rep_cats, evt_cats = pl.collect_all(
        [_category_totals(side) for side in sides] + [_order_categories(side) for side in sides]
    )
    # Order-level comparison only where both sides carry order ids for a category: v0
    # AdjustmentEvents (reimbursements) have no AmazonOrderId although the report line has
    # one, and comparing them would report orders that are not missing at all.
    comparable = sorted(
        set(rep_cats["category"].cast(pl.Utf8).to_list())
        & set(evt_cats["category"].cast(pl.Utf8).to_list())
    )
    rep_orders, evt_orders = pl.collect_all([_order_totals(side, comparable) for side in sides])
    return reconcile(
        rep_totals,
        evt_totals,
        tolerance,
        deposit=deposit,
        settlement_id=settlement_id,
        group_id=group_id,
        report_order_totals=rep_orders,
        event_order_totals=evt_orders,
        late_events=late,
        late_policy=late_policy,
        group_match=group_match,
    )
