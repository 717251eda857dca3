"""What the Finances client hands back: raw pages, kept byte-for-byte, plus their parse.

The asset archives every page content-addressed (``sha256``) before flattening, so an
auditor can trace each event line to the bytes Amazon sent and a partition can be replayed
without calling Amazon again. Parsing is deliberately thin (dicts with Decimal numbers);
the domain layer owns the interpretation.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any, Literal

from mlc_assets.clients.errors import PermanentApiError
from mlc_assets.clients.spapi.errors import SpapiError
from mlc_assets.domain.finance_events import (
    FinancialEventGroup,
    groups_from_pages,
    pick,
    unknown_event_lists,
)

FinancesApiVersion = Literal["v0", "2024-06-19"]
FinancesMode = Literal["auto", "v0", "2024-06-19"]

__all__ = [
    "FinancePage",
    "FinancesApiVersion",
    "FinancesMode",
    "FinancesV0Unavailable",
    "FinancialEventGroup",
    "canonical_json",
    "groups_from_pages",
]


def canonical_json(data: Any) -> bytes:
    """Stable bytes for a parsed body, used only when the transport did not keep the raw
    bytes: sorted keys, Decimals written as exact strings (never through float)."""

    def default(o: Any) -> Any:
        if isinstance(o, Decimal):
            return str(o)
        raise TypeError(f"cannot serialise {type(o).__name__}")

    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=default).encode()


@dataclass(frozen=True)
class FinancePage:
    """One HTTP page of a Finances operation."""

    api: FinancesApiVersion
    operation: str
    params: dict[str, str]
    body_bytes: bytes = field(repr=False)
    parsed: Mapping[str, Any] = field(repr=False)
    request_id: str | None = None
    # v0 event list keys the model snapshot does not define: kept in ``parsed``, flattened
    # generically, and reported here so the asset can surface them (never silently lost).
    unknown_lists: tuple[str, ...] = ()

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.body_bytes).hexdigest()

    @property
    def next_token(self) -> str | None:
        # v0: payload.NextToken; listTransactions: payload.nextToken; listSummary (not
        # wrapped in payload): nextToken. ``pick`` tolerates either casing.
        if self.api == "v0" or self.operation == "listTransactions":
            token = pick(pick(self.parsed, "payload"), "nextToken")
        else:
            token = pick(self.parsed, "nextToken")
        return str(token) if token else None

    @property
    def financial_events(self) -> Mapping[str, Any]:
        return pick(pick(self.parsed, "payload"), "FinancialEvents") or {}

    def groups(self) -> list[FinancialEventGroup]:
        return groups_from_pages([self])

    @staticmethod
    def unknown_lists_of(parsed: Mapping[str, Any]) -> tuple[str, ...]:
        events = pick(pick(parsed, "payload"), "FinancialEvents")
        return tuple(unknown_event_lists(events))


class FinancesV0Unavailable(SpapiError, PermanentApiError):
    """Amazon answered that a v0 event operation is gone (deprecated and removed)."""
