"""Fixtures for the posting-service tests: a real journal built from a sandbox settlement
(generator → V2 report bytes → parser → mapping → journal builder), and the warehouse and
raw archive in the test's own folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from mlc_assets.domain.journal import Journal, build_journal
from mlc_assets.domain.mapping import GlMapping, classify_lines, load_mapping
from mlc_assets.domain.settlement_report import parse_settlement_report
from mlc_assets.sandbox.generator import generate_seller
from mlc_assets.sandbox.ledger import SimSettlement
from mlc_assets.sandbox.report_render import render_v2
from mlc_assets.storage.archive import RawArchive
from mlc_assets.storage.warehouse import Warehouse


def sandbox_settlement(seed: int = 7, currency: str = "USD", index: int = 0) -> SimSettlement:
    seller = generate_seller(seed, 2)
    matches = [s for s in seller.settlements if s.currency == currency]
    return matches[index]


def journal_for(settlement: SimSettlement, mapping: GlMapping | None = None) -> Journal:
    gl = mapping or load_mapping()
    parsed = parse_settlement_report(
        render_v2(settlement), file_name=f"{settlement.settlement_id}.txt"
    )
    classified = classify_lines(parsed.lines, gl, currency=parsed.header.currency)
    return build_journal(parsed.header, classified, gl)


@pytest.fixture
def make_journal() -> Callable[..., Journal]:
    """``make_journal(seed=7, currency="USD", index=0)`` → the journal of a sandbox settlement."""

    def make(seed: int = 7, currency: str = "USD", index: int = 0) -> Journal:
        return journal_for(sandbox_settlement(seed, currency, index))

    return make


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    return Warehouse(tmp_path / "warehouse.duckdb")


@pytest.fixture
def archive(tmp_path: Path) -> RawArchive:
    return RawArchive(tmp_path / "raw")


def posting_actions(warehouse: Warehouse, reference: str | None = None) -> list[str]:
    """The posting log's actions in order (for one reference if given)."""
    where = "WHERE reference = ?" if reference else ""
    rows = warehouse.query(
        f'SELECT action FROM posting_log {where} ORDER BY "at"', [reference] if reference else []
    )
    return rows["action"].to_list() if rows.height else []


def count_action(warehouse: Warehouse, action: str) -> int:
    rows = warehouse.query("SELECT count(*) AS n FROM posting_log WHERE action = ?", [action])
    return int(rows["n"][0]) if rows.height else 0


__all__ = ["count_action", "journal_for", "pl", "posting_actions", "sandbox_settlement"]
