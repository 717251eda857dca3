"""Deltek's wire format: exact-money JSON, its dates, the PostTransFile answer, ledger and
data-entry rows to records (no HTTP here)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

import httpx

from mlc_assets.clients.deltek.errors import (
    API,
    DeltekError,
    DeltekPostingError,
    DeltekResponseError,
    scrub,
)
from mlc_assets.clients.deltek.models import (
    BatchLineRecord,
    BatchRecord,
    DeltekInvoiceBatch,
    DeltekJournalBatch,
    DeltekProject,
    PostResult,
    TransType,
)
from mlc_assets.domain.money import ZERO, to_money

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=120.0, write=30.0, pool=10.0)
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
