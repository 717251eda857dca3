"""Finances API client: v0 event groups/events and 2024-06-19 transactions/summary.

Built on ``SpapiHttp`` (auth, shared buckets, typed errors, retries); this module adds what
is specific to Finances:

* paging (``NextToken`` PascalCase in v0, ``nextToken`` lowerCamel in 2024-06-19);
* the date rules enforced client-side so Amazon never answers "nothing": windows wider
  than 180 days are split, ``…Before`` is clamped to now − 2 minutes (plus a safety margin);
* the v0 deprecation: in ``auto`` mode, when Amazon says a v0 event operation is gone, the
  same group is read through ``listTransactions`` instead.

How "gone" looks is not documented. We treat as gone: HTTP 410, or 400/403/404 whose error
message says deprecated / no longer supported / unsupported / removed (a plain 404 or a
"Bad event group ID" 400 is *not* gone). The local sandbox answers a switched-off v0 event
operation with 410 ``{"errors":[{"code":"Unsupported","message":"This operation has been
deprecated and is no longer supported. Use listTransactions (2024-06-19)."}]}``.

Every page is returned raw (``FinancePage.body_bytes``) for content-addressed archiving.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from mlc_assets.clients.spapi.base import SpapiHttp
from mlc_assets.clients.spapi.errors import SpapiError
from mlc_assets.clients.spapi.finances_models import (
    FinancePage,
    FinancesApiVersion,
    FinancesMode,
    FinancesV0Unavailable,
    FinancialEventGroup,
    canonical_json,
)

log = logging.getLogger(__name__)

MAX_WINDOW = timedelta(days=180)
# "more than 2 minutes before the time of the request": a margin for clock skew and the
# time the request spends in our queue (bucket waits).
MIN_AGE = timedelta(minutes=2, seconds=30)
V0_PREFIX = "/finances/v0"
V2024_PREFIX = "/finances/2024-06-19"
_GONE_WORDS = re.compile(r"deprecat|no longer (supported|available)|unsupported|removed", re.I)


def iso(dt: datetime) -> str:
    """UTC ISO-8601 with a Z, second precision (what the SP-API docs show)."""
    if dt.tzinfo is None:
        raise ValueError(f"naive datetime {dt!r}: pass timezone-aware UTC datetimes")
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _aware(*values: datetime | None) -> None:
    for value in values:
        if value is not None and value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass timezone-aware UTC datetimes")


def is_v0_gone(exc: SpapiError) -> bool:
    """Whether an error means the v0 operation itself no longer exists (see module doc)."""
    if exc.status == 410:
        return True
    if exc.status in (400, 403, 404):
        text = " ".join(f"{e.code} {e.message} {e.details}" for e in exc.errors)
        return bool(_GONE_WORDS.search(text))
    return False


def split_window(
    after: datetime, before: datetime, size: timedelta = MAX_WINDOW
) -> list[tuple[datetime, datetime]]:
    """[after, before) cut into consecutive windows no wider than ``size``."""
    out = []
    cursor = after
    while cursor < before:
        end = min(cursor + size, before)
        out.append((cursor, end))
        cursor = end
    return out


class FinancesApi:
    """Finances operations for one seller. ``mode`` is ``AmazonSettings.finances_api``."""

    def __init__(
        self,
        transport: SpapiHttp,
        *,
        mode: FinancesMode = "auto",
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if mode not in ("auto", "v0", "2024-06-19"):
            raise ValueError(f"finances_api must be auto, v0 or 2024-06-19, not {mode!r}")
        self.transport = transport
        self.mode: FinancesMode = mode
        self._now = now
        # Set once v0 answered "gone" in auto mode; later groups go straight to 2024-06-19.
        self.v0_gone = False

    # ------------------------------------------------------------ plumbing

    def _latest(self) -> datetime:
        return self._now() - MIN_AGE

    def _pages(
        self, api: FinancesApiVersion, operation: str, path: str, params: dict[str, Any]
    ) -> Iterator[FinancePage]:
        token_name = "NextToken" if api == "v0" else "nextToken"
        base = {k: v for k, v in params.items() if v is not None}
        token: str | None = None
        seen: set[str] = set()
        while True:
            query = dict(base)
            if token:
                query[token_name] = token
            resp = self.transport.request(operation, "GET", path, params=query)
            data = resp.data if isinstance(resp.data, dict) else {}
            raw = getattr(resp, "content", None)
            body = raw if isinstance(raw, bytes | bytearray) else canonical_json(resp.data)
            unknown = FinancePage.unknown_lists_of(data) if api == "v0" else ()
            if unknown:
                log.warning(
                    "%s %s: unknown event lists kept raw: %s", operation, path, ", ".join(unknown)
                )
            page = FinancePage(
                api=api,
                operation=operation,
                params={k: str(v) for k, v in query.items()},
                body_bytes=bytes(body),
                parsed=data,
                request_id=resp.request_id,
                unknown_lists=unknown,
            )
            yield page
            token = page.next_token
            if not token:
                return
            if token in seen:  # a server bug would otherwise loop forever
                raise SpapiError(
                    f"next token repeated ({token[:12]}…); stopping to avoid an endless loop",
                    operation=operation,
                )
            seen.add(token)

    # ------------------------------------------------------------ v0

    def list_financial_event_groups(
        self,
        started_after: datetime,
        started_before: datetime | None = None,
        page_size: int = 100,
    ) -> Iterator[FinancePage]:
        """listFinancialEventGroups over any window (split into ≤180-day calls)."""
        _aware(started_after, started_before)
        if not 1 <= page_size <= 100:
            raise ValueError(f"page_size must be 1..100, got {page_size}")
        latest = self._latest()
        before = min(started_before or latest, latest)
        if started_after >= before:
            log.info("listFinancialEventGroups: empty window %s..%s", started_after, before)
            return
        for after, until in split_window(started_after, before):
            yield from self._pages(
                "v0",
                "listFinancialEventGroups",
                f"{V0_PREFIX}/financialEventGroups",
                {
                    "MaxResultsPerPage": page_size,
                    "FinancialEventGroupStartedAfter": iso(after),
                    "FinancialEventGroupStartedBefore": iso(until),
                },
            )

    def financial_event_groups(
        self, started_after: datetime, started_before: datetime | None = None
    ) -> tuple[list[FinancialEventGroup], list[FinancePage]]:
        """Parsed groups (deduplicated across split windows) and the pages they came from."""
        pages = list(self.list_financial_event_groups(started_after, started_before))
        by_id: dict[str, FinancialEventGroup] = {}
        for page in pages:
            for g in page.groups():
                by_id.setdefault(g.group_id, g)
        return list(by_id.values()), pages

    def list_financial_events_by_group(
        self,
        group_id: str,
        posted_after: datetime | None = None,
        posted_before: datetime | None = None,
        page_size: int = 100,
    ) -> Iterator[FinancePage]:
        """listFinancialEventsByGroupId (deprecated by Amazon; see ``group_pages``)."""
        _aware(posted_after, posted_before)
        if posted_before is not None and posted_after is None:
            raise ValueError("PostedBefore requires PostedAfter (Finances v0 rule)")
        if not group_id or "/" in group_id:
            raise ValueError(f"not a financial event group id: {group_id!r}")
        windows: list[tuple[datetime | None, datetime | None]] = [(None, None)]
        if posted_after is not None:
            before = min(posted_before or self._latest(), self._latest())
            # Wider than 180 days would return nothing: ask in consecutive windows instead.
            windows = list(split_window(posted_after, before))
        try:
            for after, until in windows:
                yield from self._pages(
                    "v0",
                    "listFinancialEventsByGroupId",
                    f"{V0_PREFIX}/financialEventGroups/{group_id}/financialEvents",
                    {
                        "MaxResultsPerPage": page_size,
                        "PostedAfter": iso(after) if after else None,
                        "PostedBefore": iso(until) if until else None,
                    },
                )
        except SpapiError as exc:
            if is_v0_gone(exc) and not isinstance(exc, FinancesV0Unavailable):
                raise FinancesV0Unavailable(
                    "v0 listFinancialEventsByGroupId is no longer available "
                    "(set finances_api to 'auto' or '2024-06-19')",
                    status=exc.status,
                    operation=exc.operation,
                    request_id=exc.request_id,
                    errors=exc.errors,
                ) from None
            raise

    # ------------------------------------------------------------ 2024-06-19

    def list_transactions(
        self,
        related_identifier_name: str | None = "FINANCIAL_EVENT_GROUP_ID",
        related_identifier_value: str | None = None,
        *,
        posted_after: datetime | None = None,
        posted_before: datetime | None = None,
        marketplace_id: str | None = None,
        transaction_status: str | None = None,
    ) -> Iterator[FinancePage]:
        """listTransactions. Filter by a related identifier (FINANCIAL_EVENT_GROUP_ID or
        ORDER_ID, the only filterable ones) or by a posted-date window (split ≤180 days)."""
        _aware(posted_after, posted_before)
        if related_identifier_name and not related_identifier_value:
            if posted_after is None:
                raise ValueError("give related_identifier_value or posted_after")
            related_identifier_name = None
        if related_identifier_name not in (None, "FINANCIAL_EVENT_GROUP_ID", "ORDER_ID"):
            raise ValueError(
                f"listTransactions filters only by FINANCIAL_EVENT_GROUP_ID or ORDER_ID, "
                f"not {related_identifier_name!r}"
            )
        common = {
            "marketplaceId": marketplace_id,
            "transactionStatus": transaction_status,
            "relatedIdentifierName": related_identifier_name,
            "relatedIdentifierValue": related_identifier_value if related_identifier_name else None,
        }
        path = f"{V2024_PREFIX}/transactions"
        if posted_after is None:
            yield from self._pages("2024-06-19", "listTransactions", path, common)
            return
        before = min(posted_before or self._latest(), self._latest())
        for after, until in split_window(posted_after, before):
            params = {**common, "postedAfter": iso(after), "postedBefore": iso(until)}
            yield from self._pages("2024-06-19", "listTransactions", path, params)

    def list_summary(self, settlement_id: str) -> Iterator[FinancePage]:
        """listSummary for one settlement (netProceeds + breakdowns; not wrapped in
        ``payload``)."""
        yield from self._pages(
            "2024-06-19",
            "listSummary",
            f"{V2024_PREFIX}/summary",
            {"relatedIdentifierName": "SETTLEMENT_ID", "relatedIdentifierValue": settlement_id},
        )

    # ------------------------------------------------------------ version choice

    def group_pages(self, group_id: str) -> tuple[FinancesApiVersion, list[FinancePage]]:
        """All event pages of one group through the configured API version.

        In ``auto`` mode v0 is tried first (it is what the settlement-era tooling matches
        on) and, if Amazon says it is gone, the group is read via listTransactions with
        FINANCIAL_EVENT_GROUP_ID; the answer says which version the pages are."""
        if self.mode == "2024-06-19" or (self.mode == "auto" and self.v0_gone):
            return "2024-06-19", list(self.list_transactions("FINANCIAL_EVENT_GROUP_ID", group_id))
        try:
            return "v0", list(self.list_financial_events_by_group(group_id))
        except FinancesV0Unavailable:
            if self.mode == "v0":
                raise
            log.warning("Finances v0 event operations are gone; using 2024-06-19 from now on")
            self.v0_gone = True
            return "2024-06-19", list(self.list_transactions("FINANCIAL_EVENT_GROUP_ID", group_id))
