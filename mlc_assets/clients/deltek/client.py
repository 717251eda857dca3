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
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import quote

import httpx

from mlc_assets.clients.deltek.auth import DeltekCredentials, TokenManager
from mlc_assets.clients.deltek.errors import (
    API,
    DeltekAuthError,
    DeltekClosedPeriodError,
    DeltekError,
    DeltekOutcomeUnknownError,
    DeltekPeriodNotFoundError,
    DeltekPostingError,
    DeltekResponseError,
    DeltekTransientError,
    DeltekValidationError,
    classify,
    scrub,
    summarise_body,
)
from mlc_assets.clients.deltek.models import (
    REF_MAX_LEN,
    AccountingPeriod,
    BatchLineRecord,
    BatchRecord,
    DeltekAccount,
    DeltekInvoiceBatch,
    DeltekJournalBatch,
    DeltekOrganization,
    DeltekProject,
    PostResult,
    TransType,
)
from mlc_assets.clients.retry import NOT_PROCESSED_STATUS, RetryPolicy
from mlc_assets.domain.money import ZERO, to_money

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=120.0, write=30.0, pool=10.0)
PeriodPolicy = Literal["fail", "next_open"]
_LEDGER_MAX_ROWS = 10_000  # PSALedger needs q.maxrows, not limit [3P: GoVP-query]


# ---- JSON with exact money --------------------------------------------------------------
_DEC = "\x00DEC:"
_DEC_RE = re.compile(r'"\\u0000DEC:(-?[0-9]+(?:\.[0-9]+)?)"')


def _mark(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{_DEC}{value:f}"
    if isinstance(value, dict):
        return {k: _mark(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mark(v) for v in value]
    return value


def dumps_exact(value: Any) -> str:
    """JSON with Decimals as exact JSON numbers (as Deltek's Postman examples send money
    [DOC]); never through float."""
    return _DEC_RE.sub(lambda m: m.group(1), json.dumps(_mark(value)))


def deltek_datetime(day: date) -> str:
    """``YYYY-MM-DDTHH:MM:SS.mmm``, no zone [DOC: PM-JECtl-create]."""
    return f"{day.isoformat()}T00:00:00.000"


def _parse_date(value: Any, field: str) -> date:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise DeltekResponseError(f"Deltek returned a bad {field}: {value!r}", api=API) from None


def _s(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _dec(value: Any, field: str) -> Decimal:
    if value is None or value == "":
        return ZERO
    if isinstance(value, float):  # only if a caller bypassed parse_float
        value = repr(value)
    try:
        return to_money(value)
    except (ValueError, TypeError, ArithmeticError):  # ArithmeticError: 1e400 and the like
        raise DeltekResponseError(f"Deltek returned a bad amount in {field}: {value!r}") from None


# ---- PostTransFile response ---------------------------------------------------------------
_PAIR_RE = re.compile(r'"(\w+)"\s*:\s*"((?:[^"\\]|\\.)*)"')
_MSG_RE = re.compile(r"(\d+)\s+of\s+(\d+)\s+records?\s+posted", re.IGNORECASE)


def decode_post_response(text: str) -> dict[str, str]:
    """The post answer is a JSON string holding JSON, and Deltek's own example lacks a comma
    [DOC: PM-Post]; decode twice, then fall back to reading ``"key": "value"`` pairs."""
    value: Any = text
    for _ in range(3):
        if not isinstance(value, str):
            break
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            break
    if isinstance(value, dict):
        return {str(k): _s(v) for k, v in value.items()}
    if isinstance(value, str):
        try:
            pairs = {k: json.loads(f'"{v}"') for k, v in _PAIR_RE.findall(value)}
        except ValueError:  # an escape JSON does not know (\q): not a readable answer
            pairs = {}
        if pairs:
            return pairs
    raise DeltekResponseError(
        f"Deltek PostTransFile answer is not understood: {str(text)[:200]!r}", api=API
    )


@contextmanager
def _reading(what: str, secrets: Iterable[str] = ()) -> Iterator[None]:
    """Turn a record that is not the documented shape into a DeltekResponseError naming the
    endpoint (instead of a KeyError/ValueError/TypeError from deep in the parsing)."""
    try:
        yield
    except DeltekError as exc:
        if isinstance(exc, DeltekResponseError):
            # The message may quote the answer, and an answer can echo a credential.
            text = str(exc) if what in str(exc) else f"Deltek {what}: {exc}"
            raise DeltekResponseError(scrub(text, secrets), status=exc.status, api=API) from None
        raise
    except (KeyError, IndexError, ValueError, TypeError, AttributeError, ArithmeticError) as exc:
        detail = scrub(f"{type(exc).__name__}: {exc}", secrets)[:200]
        raise DeltekResponseError(
            f"Deltek {what}: answer not understood ({detail})", api=API
        ) from None


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
        """The period a transaction dated ``day`` goes to. A closed period is refused
        (``DeltekClosedPeriodError`` names it) unless ``policy="next_open"``, which moves to
        the first open period after it [3P: period-by-date; INF: the policy]."""
        policy = policy or self.closed_period_policy
        periods = self.list_periods()
        match = next((p for p in periods if p.contains(day)), None)
        if match is None:
            raise DeltekPeriodNotFoundError(
                f"no Deltek accounting period covers {day.isoformat()} "
                f"(periods known: {periods[0].period if periods else '-'}.."
                f"{periods[-1].period if periods else '-'})"
            )
        if not match.closed:
            return match
        if policy != "next_open":
            raise DeltekClosedPeriodError(match.period)
        nxt = next((p for p in periods if p.start > match.start and not p.closed), None)
        if nxt is None:
            raise DeltekPeriodNotFoundError(
                f"Deltek period {match.period} is closed and no open period follows it"
            )
        log.info("Deltek period %s is closed; using next open period %s", match.period, nxt.period)
        return nxt

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
        return self._write_file("JE", batch.batch, self._je_body(batch), batch)

    def write_invoice_batch(self, invoice: DeltekInvoiceBatch) -> BatchRecord:
        """Create an AR invoice file (``POST /DataEntry/inControl`` [DOC: PM-INCtl]); post it
        with ``post_batch(..., trans_type="IN")`` [INF from PM-Post]."""
        period = self._period_for(invoice.period, invoice.posting_date)
        invoice = invoice.model_copy(update={"period": period})
        return self._write_file("IN", invoice.batch, self._in_body(invoice), invoice)

    def _period_for(self, period: int | None, day: date) -> int:
        if period is None:
            return self.resolve_period(day).period
        known = {p.period: p for p in self.list_periods()}
        p = known.get(period)
        if p is None:
            raise DeltekPeriodNotFoundError(f"Deltek accounting period {period} is not set up")
        if p.closed:
            raise DeltekClosedPeriodError(period)
        return period

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

    def _je_body(self, b: DeltekJournalBatch) -> dict[str, Any]:
        """Body shape of Deltek's own example [DOC: PM-JECtl-create]; values are ours."""
        groups: dict[date, list[int]] = {}
        for i, ln in enumerate(b.lines):
            groups.setdefault(ln.transaction_date or b.posting_date, []).append(i)
        ref = b.document_ref
        refs = {
            d: ref if len(groups) == 1 else f"{ref[: REF_MAX_LEN - 3]}-{n:02d}"
            for n, d in enumerate(sorted(groups), start=1)
        }
        masters = [
            {
                "Batch": b.batch,
                "RefNo": refs[d],
                "TransDate": deltek_datetime(d),
                "Description": b.description,
                "Type": "3",  # as in every Deltek example; meaning not found [INF]
                "UpdateBilled": "N",
                "Posted": "N",
                "Seq": n,
                "CurrencyCode": b.currency,
                "CurrencyExchangeOverrideMethod": "N",
                "CurrencyExchangeOverrideRate": 0,
                "Status": "N",  # In Progress [DOC]
            }
            for n, d in enumerate(sorted(groups), start=1)
        ]
        details = []
        for seq, ln in enumerate(b.lines, start=1):
            has_project = bool(ln.wbs1.strip())
            detail: dict[str, Any] = {
                "Batch": b.batch,
                "RefNo": refs[ln.transaction_date or b.posting_date],
                "PKey": f"{b.batch}L{seq}",  # client-chosen unique line key [DOC]
                "Seq": seq,
                "Description": ln.description,
                "WBS1": ln.wbs1,
                # " " for "none" under a project, as Deltek's example does [DOC; INF].
                "WBS2": ln.wbs2 or (" " if has_project else ""),
                "WBS3": ln.wbs3 or (" " if has_project else ""),
                "Account": ln.account,
                "DebitAmount": ln.debit,
                "CreditAmount": ln.credit,
                "SuppressBill": "N",
                "LinkCompany": "",
                "CurrencyExchangeOverrideRate": 0,
            }
            if ln.org:
                # No Deltek example sends Org on create (it comes from the project), but
                # lines without a project may need one; sent only when the caller set it [INF].
                detail["Org"] = ln.org
            details.append(detail)
        body: dict[str, Any] = {
            "Batch": b.batch,
            "Description": b.description,
            "Recurring": "N",
            "EndDate": deltek_datetime(b.posting_date),
            "DefaultCurrencyCode": b.currency,
            "Total": b.total_debits,
            "CreditsTotal": b.total_credits,
            "AllowTaxEntries": "N",
            "Selected": "N",
            "Posted": "N",
            "Creator": self._creds.username.upper(),
            "Period": b.period,
            "jeMaster": masters,
            "jeDetail": details,
        }
        company = b.company or self.company
        if company:
            body["Company"] = company
        return body

    def _in_body(self, inv: DeltekInvoiceBatch) -> dict[str, Any]:
        """AR invoice file [DOC field names: PM-INCtl; InvoiceSection meaning INF]."""
        body: dict[str, Any] = {
            "Batch": inv.batch,
            "Description": inv.description,
            "Recurring": "N",
            "EndDate": deltek_datetime(inv.posting_date),
            "Total": inv.total,
            "RetTotal": 0,
            "Selected": "N",
            "Posted": "N",
            "Creator": self._creds.username.upper(),
            "Period": inv.period,
            "inMaster": [
                {
                    "Batch": inv.batch,
                    "Invoice": inv.invoice,
                    "WBS1": inv.wbs1,
                    "WBS2": inv.wbs2 or " ",
                    "WBS3": inv.wbs3 or " ",
                    "TransDate": deltek_datetime(inv.posting_date),
                    "DueDate": deltek_datetime(inv.due_date) if inv.due_date else "",
                    "TransComment": inv.description,
                    "Seq": 1,
                    "CurrencyExchangeOverrideMethod": "N",
                    "Status": "N",
                }
            ],
            "inDetail": [
                {
                    "Batch": inv.batch,
                    "Invoice": inv.invoice,
                    "WBS1": ln.wbs1 if ln.wbs1 is not None else inv.wbs1,
                    "WBS2": (ln.wbs2 if ln.wbs2 is not None else inv.wbs2) or " ",
                    "WBS3": (ln.wbs3 if ln.wbs3 is not None else inv.wbs3) or " ",
                    "PKey": f"{inv.batch}L{seq}",
                    "Seq": seq,
                    "Description": ln.description,
                    "InvoiceSection": ln.invoice_section,
                    "TaxCode": ln.tax_code,
                    "Account": ln.account,
                    "Amount": ln.amount,
                    "RetAmount": 0,
                    "TaxBasis": 0,
                    "Retainer": "N",
                }
                for seq, ln in enumerate(inv.lines, start=1)
            ],
        }
        company = inv.company or self.company
        if company:
            body["Company"] = company
        return body

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


def _parse_post(text: str, batch: str, trans_type: TransType) -> PostResult:
    data = decode_post_response(text)
    lists = {
        k: data.get(k, "").split("|")
        for k in ("typeList", "batchList", "retList", "periodList", "postseqList")
    }
    batches = lists["batchList"]
    if batch not in batches:
        raise DeltekPostingError(
            f"Deltek posting answer does not mention batch {batch}: {data.get('msg', '')[:200]}",
            batch=batch,
        )
    i = batches.index(batch)

    def pick(key: str) -> str:
        values = lists[key]
        return values[i].strip() if i < len(values) else ""

    msg = data.get("msg", "")
    msgs = msg.split("[CRLF]")
    own_msg = next((m for m in msgs if batch in m), msgs[i] if i < len(msgs) else msg)
    counts = _MSG_RE.search(own_msg)
    posted_n, total_n = (int(counts.group(1)), int(counts.group(2))) if counts else (None, None)
    # retList values other than "1" are undocumented: treat them as failure [INF].
    if pick("retList") != "1" or (counts and posted_n != total_n):
        raise DeltekPostingError(f"Deltek did not post batch {batch}: {own_msg[:300]}", batch=batch)
    try:
        return PostResult(
            batch=batch,
            trans_type=trans_type,
            period=int(pick("periodList")),
            posting_sequence=int(pick("postseqList")),
            records_posted=posted_n,
            records_total=total_n,
            message=own_msg.strip(),
        )
    except ValueError:
        raise DeltekPostingError(
            f"Deltek posting answer for batch {batch} lacks a period or posting sequence: "
            f"{own_msg[:200]}",
            batch=batch,
        ) from None


def _project(r: dict[str, Any]) -> DeltekProject:
    return DeltekProject(
        wbs1=_s(r.get("WBS1")),
        wbs2=_s(r.get("WBS2")),
        wbs3=_s(r.get("WBS3")),
        name=_s(r.get("Name")),
        status=_s(r.get("Status")),
        charge_type=_s(r.get("ChargeType")),
        sub_level=_s(r.get("SubLevel")).upper() == "Y",
        org=_s(r.get("Org")),
    )


def _ledger_line(r: dict[str, Any], trans_type: TransType) -> BatchLineRecord:
    amount = _dec(r.get("Amount"), "Amount")
    # Signed Amount, debit + / credit - [DOC: DPS-ReadJE shows negatives; sign INF].
    return BatchLineRecord(
        account=_s(r.get("Account")),
        wbs1=_s(r.get("WBS1")),
        wbs2=_s(r.get("WBS2")),
        wbs3=_s(r.get("WBS3")),
        org=_s(r.get("Org")),
        debit=amount if trans_type == "JE" and amount > 0 else ZERO,
        credit=-amount if trans_type == "JE" and amount < 0 else ZERO,
        amount=amount,
        description=_s(r.get("Desc2")) or _s(r.get("Desc1")),
        pkey=_s(r.get("PKey")),
        ref_no=_s(r.get("RefNo")),
        invoice=_s(r.get("Invoice")),
    )


def _detail_line(d: dict[str, Any], trans_type: TransType) -> BatchLineRecord:
    if trans_type == "JE":
        debit = _dec(d.get("DebitAmount"), "DebitAmount")
        credit = _dec(d.get("CreditAmount"), "CreditAmount")
        amount = debit - credit
    else:
        amount = _dec(d.get("Amount"), "Amount")
        debit = credit = ZERO
    return BatchLineRecord(
        account=_s(d.get("Account")),
        wbs1=_s(d.get("WBS1")),
        wbs2=_s(d.get("WBS2")),
        wbs3=_s(d.get("WBS3")),
        org=_s(d.get("Org")),
        debit=debit,
        credit=credit,
        amount=amount,
        description=_s(d.get("Description")),
        pkey=_s(d.get("PKey")),
        ref_no=_s(d.get("RefNo")),
        invoice=_s(d.get("Invoice")),
    )


def _record_from_request(
    expected: DeltekJournalBatch | DeltekInvoiceBatch, trans_type: TransType
) -> BatchRecord:
    if isinstance(expected, DeltekJournalBatch):
        lines = [
            BatchLineRecord(
                account=ln.account,
                wbs1=ln.wbs1,
                wbs2=ln.wbs2,
                wbs3=ln.wbs3,
                org=ln.org,
                debit=ln.debit,
                credit=ln.credit,
                amount=ln.debit - ln.credit,
                description=ln.description,
                pkey=f"{expected.batch}L{i}",
            )
            for i, ln in enumerate(expected.lines, start=1)
        ]
    else:
        lines = [
            BatchLineRecord(
                account=ln.account,
                wbs1=ln.wbs1 if ln.wbs1 is not None else expected.wbs1,
                wbs2=ln.wbs2 if ln.wbs2 is not None else expected.wbs2,
                wbs3=ln.wbs3 if ln.wbs3 is not None else expected.wbs3,
                amount=ln.amount,
                description=ln.description,
                pkey=f"{expected.batch}L{i}",
                invoice=expected.invoice,
            )
            for i, ln in enumerate(expected.lines, start=1)
        ]
    return BatchRecord(
        batch=expected.batch,
        trans_type=trans_type,
        posted=False,
        period=expected.period,
        description=expected.description,
        lines=lines,
    )


__all__ = [
    "DEFAULT_TIMEOUT",
    "DeltekClient",
    "DeltekError",
    "decode_post_response",
    "dumps_exact",
]
