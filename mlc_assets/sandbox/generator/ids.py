"""The simulated seller's constants and the ids Amazon gives orders, shipments and documents."""

from __future__ import annotations

import base64
import hashlib
import random
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from mlc_assets.sandbox.ledger import (
    Marketplace,
)

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
SETTLEMENT_DAYS = 14
DEPOSIT_LAG = timedelta(days=2)

MARKETPLACES: dict[str, Marketplace] = {
    "US": Marketplace("ATVPDKIKX0DER", "Amazon.com", "US", "USD", "na", "US"),
    "DE": Marketplace("A1PA6795UKMFR9", "Amazon.de", "DE", "EUR", "eu", "DE"),
    "UK": Marketplace("A1F83G8C2ARO7P", "Amazon.co.uk", "UK", "GBP", "eu", "UK"),
    "FR": Marketplace("A13V1IB3VIYZZH", "Amazon.fr", "FR", "EUR", "eu", "FR"),
}
DEFAULT_MARKETPLACES = ("US", "DE", "UK")

# Order-id prefixes as they appear on each marketplace (3-7-7 digits).
_ORDER_PREFIX = {"US": ("111", "112", "113", "114"), "DE": ("302", "303", "304", "305")}
_ORDER_PREFIX["UK"] = ("202", "203", "204", "026")
_ORDER_PREFIX["FR"] = ("402", "403", "404", "171")

_TAX = {  # (rate range, facilitator collects?) per country
    "US": (Decimal("0.0625"), Decimal("0.0950")),
    "DE": (Decimal("0.19"), Decimal("0.19")),
    "UK": (Decimal("0.20"), Decimal("0.20")),
    "FR": (Decimal("0.20"), Decimal("0.20")),
}
_PROMO_NAMES = {
    "US": "Core Free Shipping Promotion",
    "DE": "Versandkostenfrei für Prime",  # non-ASCII on purpose: DE files are ISO-8859-1
    "UK": "Free Delivery Promotion",
    "FR": "Livraison gratuite à partir",
}
_SUBSCRIPTION = {"USD": Decimal("-39.99"), "EUR": Decimal("-39.00"), "GBP": Decimal("-25.00")}

# Report-side triple → Finances v0 (list, type) for order/refund components.
_ITEM_PRICE = "ItemPrice"
_FEES = "ItemFees"
_WITHHELD = "ItemWithheldTax"


def _q(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def _money(rng: random.Random, low: str, high: str) -> Decimal:
    lo, hi = int(Decimal(low) * 100), int(Decimal(high) * 100)
    return Decimal(rng.randint(lo, hi)).scaleb(-2)


@dataclass(frozen=True)
class _Product:
    sku: str
    price: Decimal
    fba_fee: Decimal  # negative, per unit


def _digits(rng: random.Random, n: int) -> str:
    return str(rng.randint(10 ** (n - 1), 10**n - 1))


def _order_id(rng: random.Random, country: str) -> str:
    return f"{rng.choice(_ORDER_PREFIX[country])}-{_digits(rng, 7)}-{_digits(rng, 7)}"


def _shipment_id(rng: random.Random) -> str:
    alphabet = "BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789"
    return "D" + "".join(rng.choice(alphabet) for _ in range(8))


def _group_id(seed: int, settlement_id: str) -> str:
    digest = hashlib.sha256(f"group:{seed}:{settlement_id}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")  # 43 chars


def _document_id(seed: int, settlement_id: str, region: str) -> str:
    digest = hashlib.sha256(f"doc:{seed}:{settlement_id}".encode()).digest()
    doc_uuid = uuid.UUID(bytes=digest[:16])
    return f"amzn1.spdoc.1.4.{region}.{doc_uuid}.T{digest[16:20].hex().upper()}.{digest[20]:03d}"
