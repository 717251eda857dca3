"""Reading Amazon's JSON as it comes: either key casing, money objects, timestamps."""

from __future__ import annotations

import reprlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from mlc_assets.domain.finance_events.schema import (
    _CURRENCY_CODE,
    _KNOWN_FOLDED,
    _MONEY_LIMIT,
    FinanceEventError,
)
from mlc_assets.domain.money import CENT

# ---------------------------------------------------------------- case-tolerant access


def pick(obj: Mapping[str, Any] | None, name: str) -> Any:
    """Field by name, tolerating PascalCase/lowerCamel drift (e.g. CurrencyAmount vs
    currencyAmount): Amazon mixes both within one v0 response."""
    if not obj or not isinstance(obj, Mapping):
        return None
    if name in obj:
        return obj[name]
    for variant in (name[:1].lower() + name[1:], name[:1].upper() + name[1:]):
        if variant in obj:
            return obj[variant]
    folded = name.casefold()
    for key, value in obj.items():
        if isinstance(key, str) and key.casefold() == folded:
            return value
    return None


def _show(value: Any) -> str:
    """Short, type-revealing rendering of bad input for a message (payloads can be huge)."""
    return f"{type(value).__name__} {reprlib.repr(value)}"


def _object(value: Any, what: str, *, page: str, ref: str | None = None) -> Mapping[str, Any]:
    """An optional JSON object; absent is empty, any other type stops the page."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return value
    raise FinanceEventError(f"{what}: expected an object, got {_show(value)}", page=page, ref=ref)


def _array(value: Any, what: str, *, page: str, ref: str | None = None) -> Sequence[Any]:
    """An optional JSON array; absent is empty, any other type stops the page."""
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return value
    raise FinanceEventError(f"{what}: expected a list, got {_show(value)}", page=page, ref=ref)


def _text(value: Any, what: str, *, page: str, ref: str | None = None) -> str | None:
    """An optional identifier/label; numbers are accepted as their text, objects are not."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    raise FinanceEventError(f"{what}: expected a string, got {_show(value)}", page=page, ref=ref)


def holds_money(value: Any) -> bool:
    """Whether a value has a Currency amount anywhere inside (iterative: input may be deep)."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping):
            if pick(node, "CurrencyAmount") is not None:
                return True
            stack.extend(node.values())
        elif isinstance(node, list | tuple):
            stack.extend(node)
    return False


def _refuse_unread_money(
    obj: Mapping[str, Any], read: Iterable[str], *, page: str, ref: str
) -> None:
    """A field holding money that no rule reads would vanish from the ledger: stop instead."""
    folded = {name.casefold() for name in read}
    seen: dict[str, Any] = {}
    for key, value in obj.items():
        name = str(key).casefold()
        if name not in folded and holds_money(value):
            raise FinanceEventError(
                f"field {key!r} holds money this flattener does not read", page=page, ref=ref
            )
        # Field names are read case-tolerantly, so two that differ only in case would be
        # one field: the other's money would vanish unseen.
        if name in seen and (holds_money(value) or holds_money(obj[seen[name]])):
            raise FinanceEventError(
                f"fields {seen[name]!r} and {key!r} differ only in case and hold money; "
                "which one counts is unknown",
                page=page,
                ref=ref,
            )
        seen[name] = key


def parse_money(obj: Any, *, page: str, ref: str) -> tuple[Decimal, str] | None:
    """A Currency object → (exact two-place Decimal, currency code); None when absent."""
    if obj is None:
        return None
    if not isinstance(obj, Mapping):
        raise FinanceEventError(f"expected a Currency object, got {_show(obj)}", page=page, ref=ref)
    raw = pick(obj, "CurrencyAmount")
    code = pick(obj, "CurrencyCode")
    if len({str(k) for k in obj if str(k).casefold() == "currencyamount"}) > 1:
        raise FinanceEventError(
            f"Currency object has CurrencyAmount twice (names differing only in case): "
            f"{_show(obj)}",
            page=page,
            ref=ref,
        )
    if raw is None:
        # An empty object is "no amount"; a currency without an amount is a hole in the data.
        if obj:
            raise FinanceEventError(
                f"Currency object without CurrencyAmount: {_show(obj)}", page=page, ref=ref
            )
        return None
    if isinstance(raw, float):
        raise FinanceEventError(
            "amount parsed as float; parse JSON with parse_float=Decimal", page=page, ref=ref
        )
    if isinstance(raw, bool) or not isinstance(raw, int | Decimal | str):
        raise FinanceEventError(f"not an amount: {_show(raw)}", page=page, ref=ref)
    try:
        value = Decimal(raw.strip() if isinstance(raw, str) else raw)
    except ArithmeticError as exc:
        raise FinanceEventError(f"not an amount: {_show(raw)}", page=page, ref=ref) from exc
    if not value.is_finite():
        raise FinanceEventError(f"not a finite amount: {_show(raw)}", page=page, ref=ref)
    if abs(value) >= _MONEY_LIMIT:
        raise FinanceEventError(f"amount {_show(raw)} exceeds DECIMAL(18,2)", page=page, ref=ref)
    money = value.quantize(CENT)
    if money != value:
        # Rounding here would silently move money; stop and say where.
        raise FinanceEventError(
            f"amount {_show(raw)} has more than two decimals", page=page, ref=ref
        )
    if not isinstance(code, str) or not _CURRENCY_CODE.fullmatch(code.strip().upper()):
        raise FinanceEventError(
            f"amount {money} without an ISO 4217 CurrencyCode (got {_show(code)})",
            page=page,
            ref=ref,
        )
    return money, code.strip().upper()


def parse_timestamp(value: Any, *, page: str, ref: str) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise FinanceEventError(f"not an ISO-8601 date: {_show(value)}", page=page, ref=ref)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:  # OverflowError: year 1 or 9999 moved to UTC
        raise FinanceEventError(
            f"not an ISO-8601 date: {_show(value)}", page=page, ref=ref
        ) from exc


def unknown_event_lists(financial_events: Mapping[str, Any] | None) -> list[str]:
    """Event list keys that the v0 model snapshot does not define (reported, not dropped)."""
    if not isinstance(financial_events, Mapping):
        return []
    return sorted(str(k) for k in financial_events if str(k).casefold() not in _KNOWN_FOLDED)


def family_of(list_name: str) -> str:
    """``ShipmentEventList`` → ``Shipment`` (also the 2024-06-19 transactionType)."""
    for suffix in ("EventList", "List"):
        if list_name.endswith(suffix):
            return list_name[: -len(suffix)]
    return list_name
