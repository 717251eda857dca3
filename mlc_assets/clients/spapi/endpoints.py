"""SP-API regions, hosts and marketplaces (docs/reference/amazon/NOTES.md §1-2).

Key on the marketplace ID, never the country code (the UK is "UK" on one Amazon page and
"GB" on another).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Region(StrEnum):
    NA = "na"
    EU = "eu"
    FE = "fe"


LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"  # noqa: S105 (a URL)

PRODUCTION_HOSTS: dict[Region, str] = {
    Region.NA: "https://sellingpartnerapi-na.amazon.com",
    Region.EU: "https://sellingpartnerapi-eu.amazon.com",
    Region.FE: "https://sellingpartnerapi-fe.amazon.com",
}

SANDBOX_HOSTS: dict[Region, str] = {
    Region.NA: "https://sandbox.sellingpartnerapi-na.amazon.com",
    Region.EU: "https://sandbox.sellingpartnerapi-eu.amazon.com",
    Region.FE: "https://sandbox.sellingpartnerapi-fe.amazon.com",
}


@dataclass(frozen=True)
class Marketplace:
    marketplace_id: str
    country: str
    region: Region
    currency: str


def _m(mid: str, country: str, region: Region, currency: str) -> tuple[str, Marketplace]:
    return mid, Marketplace(mid, country, region, currency)


MARKETPLACES: dict[str, Marketplace] = dict(
    [
        _m("ATVPDKIKX0DER", "US", Region.NA, "USD"),
        _m("A2EUQ1WTGCTBG2", "CA", Region.NA, "CAD"),
        _m("A1AM78C64UM0Y8", "MX", Region.NA, "MXN"),
        _m("A2Q3Y263D00KWC", "BR", Region.NA, "BRL"),
        _m("A1F83G8C2ARO7P", "GB", Region.EU, "GBP"),
        _m("A1PA6795UKMFR9", "DE", Region.EU, "EUR"),
        _m("A13V1IB3VIYZZH", "FR", Region.EU, "EUR"),
        _m("APJ6JRA9NG5V4", "IT", Region.EU, "EUR"),
        _m("A1RKKUPIHCS9HS", "ES", Region.EU, "EUR"),
        _m("A1805IZSGTT6HS", "NL", Region.EU, "EUR"),
        _m("AMEN7PMS3EDWL", "BE", Region.EU, "EUR"),
        _m("A28R8C7NBKEWEA", "IE", Region.EU, "EUR"),
        _m("A2NODRKZP88ZB9", "SE", Region.EU, "SEK"),
        _m("A1C3SOZRARQ6R3", "PL", Region.EU, "PLN"),
        _m("A33AVAJ2PDY3EV", "TR", Region.EU, "TRY"),
        _m("ARBP9OOSHTCHU", "EG", Region.EU, "EGP"),
        _m("A17E79C6D8DWNP", "SA", Region.EU, "SAR"),
        _m("A2VIGQ35RCS4UG", "AE", Region.EU, "AED"),
        _m("A21TJRUUN4KGV", "IN", Region.EU, "INR"),
        _m("AE08WJ6YKNBMC", "ZA", Region.EU, "ZAR"),
        _m("A1VC38T7YXB528", "JP", Region.FE, "JPY"),
        _m("A39IBJ37TRP1C6", "AU", Region.FE, "AUD"),
        _m("A19VAU5U5O7RUS", "SG", Region.FE, "SGD"),
    ]
)


def _region(region: Region | str) -> Region:
    try:
        return Region(str(region).lower())
    except ValueError:
        raise ValueError(
            f"unknown SP-API region {region!r}; expected one of {[r.value for r in Region]}"
        ) from None


def endpoint_for(region: Region | str, sandbox: bool = False) -> str:
    """Base URL of the SP-API (Amazon's static sandbox when ``sandbox``)."""
    table = SANDBOX_HOSTS if sandbox else PRODUCTION_HOSTS
    return table[_region(region)]


def marketplace(marketplace_id: str) -> Marketplace:
    try:
        return MARKETPLACES[marketplace_id]
    except KeyError:
        raise ValueError(f"unknown Amazon marketplace id {marketplace_id!r}") from None


def region_of(marketplace_ids: list[str] | tuple[str, ...]) -> Region:
    """The one region serving all these marketplaces (a call cannot span regions)."""
    regions = {marketplace(m).region for m in marketplace_ids}
    if len(regions) != 1:
        raise ValueError(
            f"marketplaces {list(marketplace_ids)} span regions {sorted(regions)}; "
            "use one client per region"
        )
    return regions.pop()
