"""Deltek Vantagepoint REST client: reference data, periods, DataEntry files, posting, ledger.

Source tags follow docs/reference/deltek/NOTES.md: [DOC] Deltek-documented, [3P] seen
in third-party code against real tenants, [INF] inferred. Things marked [INF] are the first
to check against a real tenant.

Why writes are not simply retried: Deltek has no idempotency key
(docs/reference/deltek/NOTES.md §5). A write is retried here only when the answer proves it was
not processed (connection refused, 429, 502/503/504); any other failure after sending raises
``DeltekOutcomeUnknownError``, and the exactly-once poster (services/exactly_once.py) asks
``find_batch`` whether the file exists (unposted in DataEntry, or posted in PSALedger) before
anything else. The client never looks a file up on its own.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx

from mlc_assets.clients.deltek.auth import DeltekCredentials, TokenManager
from mlc_assets.clients.deltek.bodies import in_body, je_body
from mlc_assets.clients.deltek.errors import (
    API,
    DeltekAuthError,
    DeltekOutcomeUnknownError,
    DeltekResponseError,
    DeltekTransientError,
    DeltekValidationError,
    classify,
    summarise_body,
)
from mlc_assets.clients.deltek.models import (
    AccountingPeriod,
    BatchRecord,
    DeltekAccount,
    DeltekInvoiceBatch,
    DeltekJournalBatch,
    DeltekOrganization,
    DeltekProject,
    PostResult,
    TransType,
)
from mlc_assets.clients.deltek.periods import PeriodPolicy, open_period, period_for_day
from mlc_assets.clients.deltek.wire import (
    _dec,
    _detail_line,
    _ledger_line,
    _parse_date,
    _parse_post,
    _project,
    _reading,
    _record_from_request,
    _s,
    dumps_exact,
)
from mlc_assets.clients.retry import NOT_PROCESSED_STATUS, RetryPolicy

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=120.0, write=30.0, pool=10.0)
_LEDGER_MAX_ROWS = 10_000  # PSALedger needs q.maxrows, not limit [3P: GoVP-query]


class DeltekClient:
    """One Vantagepoint tenant. ``base_url`` is the customer's API root exactly as given
    (e.g. ``https://acme.deltekfirst.com/Acme/api``); it is never rebuilt [INF:
    docs/reference/deltek/NOTES.md §1]."""

    def __init__(
        self,
        base_url: str,
        credentials: DeltekCredentials,
        *,
        company: str | None = None,
        currency: str = "USD",
        closed_period_policy: PeriodPolicy = "fail",
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        http: httpx.Client | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.company = company
        self.currency = currency
        self.closed_period_policy: PeriodPolicy = closed_period_policy
        self._retry = retry or RetryPolicy()
        self._owns_http = http is None
        self._http = http or httpx.Client(
            timeout=timeout, headers={"User-Agent": "ml-connector/0.1"}
        )
        self._creds = credentials
        self.tokens = TokenManager(
            self._http, f"{self.base_url}/token", credentials, retry=self._retry
        )

    @classmethod
    def from_settings(cls, settings: Any, **kwargs: Any) -> DeltekClient:
        """Build from ``mlc_assets.config.DeltekSettings``; names every missing field."""
        required = ("base_url", "username", "password", "database", "client_id", "client_secret")
        missing = [f for f in required if not getattr(settings, f, None)]
        if missing:
            raise ValueError(
                f"Deltek settings missing: {', '.join('deltek.' + m for m in missing)}"
            )
        creds = DeltekCredentials(
            username=settings.username,
            password=settings.password,
            database=settings.database,
            client_id=settings.client_id,
            client_secret=settings.client_secret,
        )
        kwargs.setdefault("closed_period_policy", settings.closed_period_policy)
        return cls(settings.base_url, creds, **kwargs)

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> DeltekClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"DeltekClient({self.base_url!r}, user={self._creds.username!r})"

    # ---- transport ----------------------------------------------------------------------
    def _send(self, method: str, path: str, token: str, what: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if "content" in kw:
            headers["Content-Type"] = "application/json"  # [DOC: DPS-Req]
        try:
            resp = self._http.request(method, f"{self.base_url}{path}", headers=headers, **kw)
        except httpx.TransportError as exc:
            raise DeltekTransientError(
                f"Deltek {what} failed: {type(exc).__name__}: {exc}", api=API
            ) from exc
        log.debug("deltek %s %s -> %s", method, path, resp.status_code)
        return resp

    def _call(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: dict[str, Any] | None = None,
        body: Any = None,
        batch: str = "",
        ok: tuple[int, ...] = (200, 201),
    ) -> httpx.Response:
        """One attempt (no retry) with the 401 rule: refresh once, retry once [INF]."""
        kw: dict[str, Any] = {}
        if params:
            kw["params"] = params
        if body is not None:
            kw["content"] = dumps_exact(body).encode("utf-8")
        token = self.tokens.access_token()
        resp = self._send(method, path, token, what, **kw)
        if resp.status_code == 401:
            token = self.tokens.on_unauthorized(token)
            resp = self._send(method, path, token, what, **kw)
            if resp.status_code == 401:
                raise DeltekAuthError(
                    f"Deltek {what} failed: HTTP 401 even with a fresh token "
                    f"({summarise_body(resp, self.tokens.secrets())})",
                    status=401,
                    api=API,
                )
        if resp.status_code in ok:
            return resp
        raise classify(resp, what=what, secrets=self.tokens.secrets(), batch=batch)

    def _write(self, method: str, path: str, *, what: str, body: Any, batch: str) -> httpx.Response:
        """One write attempt. A failure that does not prove the request unprocessed becomes
        ``DeltekOutcomeUnknownError``: the file may exist now."""
        try:
            return self._call(method, path, what=what, body=body, batch=batch)
        except DeltekTransientError as exc:
            if exc.status in NOT_PROCESSED_STATUS or isinstance(
                exc.__cause__, httpx.ConnectError | httpx.ConnectTimeout
            ):
                raise
            raise DeltekOutcomeUnknownError(
                f"{exc}; the {what} may have been committed", status=exc.status, api=API
            ) from exc

    def _read(self, path: str, *, what: str, params: dict[str, Any] | None = None) -> Any:
        """GET with retries; ``None`` for an unknown key (404 with a JSON body; the 404-vs-[]
        behaviour is undocumented, so both mean absent [INF])."""

        def attempt() -> Any:
            resp = self._call("GET", path, what=what, params=params, ok=(200, 404))
            if resp.status_code == 404:
                if "json" not in resp.headers.get("content-type", ""):
                    # A route 404 (wrong base URL) is not "absent": say so.
                    raise classify(resp, what=what, secrets=self.tokens.secrets())
                return None
            return self._json(resp, what)

        return self._retry.call(attempt)

    def _json(self, resp: httpx.Response, what: str) -> Any:
        try:
            return json.loads(resp.text, parse_float=Decimal)
        except (ValueError, RecursionError):  # RecursionError: absurdly nested arrays
            raise DeltekResponseError(
                f"Deltek {what}: HTTP {resp.status_code} body is not JSON: "
                f"{summarise_body(resp, self.tokens.secrets())}",
                status=resp.status_code,
                api=API,
            ) from None

    @staticmethod
    def _rows(data: Any, what: str) -> list[dict[str, Any]]:
        if data is None:
            return []
        if isinstance(data, dict):  # single record; arrays are documented [DOC]
            data = [data]
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise DeltekResponseError(f"Deltek {what}: expected an array of records", api=API)
        return data

    def _paged(
        self, path: str, *, what: str, params: dict[str, Any] | None = None, page_size: int = 500
    ) -> Iterator[dict[str, Any]]:
        """page/pageSize until a short page; no total count exists [DOC: DPS-Page; INF]."""
        page = 1
        while True:
            q = dict(params or {}, page=page, pageSize=page_size)
            rows = self._rows(self._read(path, what=what, params=q), what)
            yield from rows
            if len(rows) < page_size:
                return
            page += 1

    # ---- reference data ---------------------------------------------------------------------
    def list_periods(self) -> list[AccountingPeriod]:
        """``GET /Settings/Period`` [DOC: PM-Periods]. Closed = ``ActiveCompanyClosed == "Y"``
        (the API user's active company) [INF]."""
        rows = self._rows(self._read("/Settings/Period", what="period list"), "period list")
        out = []
        for r in rows:
            try:
                out.append(
                    AccountingPeriod(
                        period=int(r["Period"]),
                        label=_s(r.get("FmtPeriod")),
                        start=_parse_date(r["AccountPdStart"], "AccountPdStart"),
                        end=_parse_date(r["AccountPdEnd"], "AccountPdEnd"),
                        closed=_s(r.get("ActiveCompanyClosed")).upper() == "Y",
                    )
                )
            except (KeyError, ValueError, TypeError, ArithmeticError) as exc:
                raise DeltekResponseError(
                    f"Deltek period list: period row not understood: {type(exc).__name__}: "
                    f"{str(exc)[:200]}",
                    api=API,
                ) from None
        return sorted(out, key=lambda p: p.start)

    def active_period(self) -> int | None:
        rows = self._rows(self._read("/Settings/ActivePeriod", what="active period"), "period")
        with _reading("active period"):
            return int(rows[0]["Period"]) if rows else None

    def set_active_period(self, period: int) -> None:
        """``PUT /Settings/ActivePeriod/{p}`` [DOC: PM-SetActivePeriod]; one integration
        does this before posting [3P: Rail-XeroCR-DAG], whether required is unknown."""
        self._retry.call(
            lambda: self._call("PUT", f"/Settings/ActivePeriod/{period}", what="set period")
        )

    def resolve_period(self, day: date, policy: PeriodPolicy | None = None) -> AccountingPeriod:
        """The period a transaction dated ``day`` goes to (see ``periods.period_for_day``)."""
        return period_for_day(self.list_periods(), day, policy or self.closed_period_policy)

    def get_project(self, wbs1: str) -> DeltekProject | None:
        """``GET /project/{wbs1}`` [DOC: PM-Project]; 404 or [] both mean unknown [INF]."""
        rows = self._rows(self._read(f"/project/{quote(wbs1, safe='')}", what="project"), "project")
        return _project(rows[0]) if rows else None

    def list_projects(
        self, levels: tuple[str, ...] = ("wbs1", "wbs2", "wbs3")
    ) -> list[DeltekProject]:
        """Projects, phases and tasks via ``wbstype`` [3P: GoVP-projects]."""
        out = []
        for level in levels:
            params = {"wbstype": level}
            out.extend(
                _project(r) for r in self._paged("/project", what="project list", params=params)
            )
        return out

    def list_accounts(self) -> list[DeltekAccount]:
        """Chart of accounts. Path ``/Accounts`` is [INF]: no Deltek documentation found;
        third-party comments name ``POST /Accounts`` (docs/reference/deltek/NOTES.md §7)."""
        return [
            DeltekAccount(
                account=_s(r.get("Account")),
                name=_s(r.get("Name")),
                type=_s(r.get("Type")),
                status=_s(r.get("Status")),
            )
            for r in self._paged("/Accounts", what="account list")
        ]

    def list_organizations(self) -> list[DeltekOrganization]:
        """``/organization`` (the single-record form is [DOC: DPS-Config]; list is [INF])."""
        return [
            DeltekOrganization(
                org=_s(r.get("Org")), name=_s(r.get("Name")), status=_s(r.get("Status"))
            )
            for r in self._paged("/organization", what="organization list")
        ]

    # ---- existing files ------------------------------------------------------------------------
    def find_batch(self, batch: str, trans_type: TransType = "JE") -> BatchRecord | None:
        """Whether Deltek holds a file named ``batch``: posted (``PSALedger``, [3P]) first,
        then unposted (``DataEntry/{je|in}Control``, [INF] by analogy). Both are checked
        because a crash between create and post leaves an unposted file
        (docs/reference/deltek/NOTES.md §5)."""
        with _reading(f"{trans_type} batch lookup", self.tokens.secrets()):
            return self._find_batch(batch, trans_type)

    def _find_batch(self, batch: str, trans_type: TransType) -> BatchRecord | None:
        posted = self._ledger_rows(trans_type, batch)
        if posted:
            seqs = sorted({int(r["PostSeq"]) for r in posted if _s(r.get("PostSeq"))})
            if len(seqs) > 1:
                log.error("Deltek batch %s appears under several posting sequences %s", batch, seqs)
            return BatchRecord(
                batch=batch,
                trans_type=trans_type,
                posted=True,
                period=int(posted[0]["Period"]) if _s(posted[0].get("Period")) else None,
                posting_sequence=seqs[0] if seqs else None,
                sequences=max(len(seqs), 1),
                description=_s(posted[0].get("Desc1")),
                lines=[_ledger_line(r, trans_type) for r in posted],
            )
        prefix = trans_type.lower()
        key = quote(batch, safe="")
        control = self._rows(
            self._read(f"/DataEntry/{prefix}Control/{key}", what=f"{trans_type} file lookup"),
            "control",
        )
        control = [c for c in control if _s(c.get("Batch")) == batch]
        if not control:
            return None
        c = control[0]
        details = self._rows(
            self._read(f"/DataEntry/{prefix}Detail/{key}", what=f"{trans_type} detail lookup"),
            "detail",
        )
        posted_flag = _s(c.get("Posted")).upper() == "Y"
        return BatchRecord(
            batch=batch,
            trans_type=trans_type,
            posted=posted_flag,
            period=int(c["Period"]) if _s(c.get("Period")) else None,
            posting_sequence=int(c["PostSeq"]) if _s(c.get("PostSeq")) else None,
            description=_s(c.get("Description")),
            lines=[_detail_line(d, trans_type) for d in details],
        )

    def _ledger_rows(self, trans_type: TransType, batch: str) -> list[dict[str, Any]]:
        params = {
            "filterHash[0][name]": "Batch",
            "filterHash[0][value]": batch,
            "filterHash[0][opp]": "=",  # SQL-style operators [3P: Rail-XeroCR]
            "q.maxrows": _LEDGER_MAX_ROWS,
        }
        rows = self._rows(
            self._read(
                f"/PSALedger/{trans_type}", what=f"{trans_type} ledger lookup", params=params
            ),
            "ledger",
        )
        if len(rows) >= _LEDGER_MAX_ROWS:
            raise DeltekResponseError(
                f"Deltek ledger lookup for batch {batch} hit q.maxrows={_LEDGER_MAX_ROWS}; "
                f"the answer may be truncated"
            )
        # A tenant that ignores filterHash must not make another batch look like ours.
        return [r for r in rows if _s(r.get("Batch")) == batch]

    # ---- writing files ---------------------------------------------------------------------------
    def write_batch(self, batch: DeltekJournalBatch, *, check_balance: bool = True) -> BatchRecord:
        """Create the JE file (batch mode, ``POST /DataEntry/jeControl`` [DOC: PM-JECtl-create]).

        The period is ``batch.period`` or resolved from ``posting_date`` under the client's
        closed-period policy. Unbalanced batches are refused before any call (a file posts
        only if it balances [DOC: H-JE]) unless ``check_balance=False``.
        """
        if check_balance and not batch.is_balanced:
            raise DeltekValidationError(
                f"journal batch {batch.batch} is not balanced: debits {batch.total_debits} "
                f"!= credits {batch.total_credits}"
            )
        period = self._period_for(batch.period, batch.posting_date)
        batch = batch.model_copy(update={"period": period})
        return self._write_file(
            "JE",
            batch.batch,
            je_body(batch, creator=self._creds.username.upper(), company=self.company),
            batch,
        )

    def write_invoice_batch(self, invoice: DeltekInvoiceBatch) -> BatchRecord:
        """Create an AR invoice file (``POST /DataEntry/inControl`` [DOC: PM-INCtl]); post it
        with ``post_batch(..., trans_type="IN")`` [INF from PM-Post]."""
        period = self._period_for(invoice.period, invoice.posting_date)
        invoice = invoice.model_copy(update={"period": period})
        return self._write_file(
            "IN",
            invoice.batch,
            in_body(invoice, creator=self._creds.username.upper(), company=self.company),
            invoice,
        )

    def _period_for(self, period: int | None, day: date) -> int:
        if period is None:
            return self.resolve_period(day).period
        return open_period(self.list_periods(), period)

    def _write_file(
        self,
        trans_type: TransType,
        name: str,
        body: dict[str, Any],
        expected: DeltekJournalBatch | DeltekInvoiceBatch,
    ) -> BatchRecord:
        path = f"/DataEntry/{trans_type.lower()}Control"

        def attempt() -> BatchRecord:
            resp = self._write(
                "POST", path, what=f"{trans_type} file create", body=body, batch=name
            )
            rows = self._rows(self._json(resp, "file create"), "file create")
            control = rows[0] if rows else {}
            for field in ("DiffDebitsTotal", "DiffCreditsTotal", "DiffTotal"):
                if _s(control.get(field)) and _dec(control[field], field) != 0:
                    # Control totals vs detail disagree [INF: check before posting].
                    raise DeltekValidationError(
                        f"Deltek accepted {trans_type} file {name} but reports {field}="
                        f"{control[field]}; it will not post as is"
                    )
            return _record_from_request(expected, trans_type)

        return self._retry.write_retrying()(attempt)

    # ---- posting ---------------------------------------------------------------------------------
    def post_batch(
        self,
        batch: str,
        *,
        period: int,
        description: str = "",
        trans_type: TransType = "JE",
        company: str | None = None,
    ) -> PostResult:
        """``PUT /DataEntry/PostTransFile`` [DOC: PM-Post]. Retried only when not processed;
        whether a lost answer posted the file is the poster's read-back to find out
        (docs/reference/deltek/NOTES.md §4.3)."""
        parms: dict[str, Any] = {
            "batch": batch,
            "description": description or batch,
            "period": str(period),
            "transtype": trans_type,
        }
        if company or self.company:
            parms["clientcompany"] = company or self.company

        def attempt() -> PostResult:
            resp = self._write(
                "PUT",
                "/DataEntry/PostTransFile",
                what="posting",
                body={"parms": parms},
                batch=batch,
            )
            with _reading("posting", self.tokens.secrets()):
                return _parse_post(resp.text, batch, trans_type)

        return self._retry.write_retrying()(attempt)


__all__ = ["DEFAULT_TIMEOUT", "DeltekClient"]
