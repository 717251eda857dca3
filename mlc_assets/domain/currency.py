"""Which currency codes a settlement may carry: ISO 4217 currencies an ERP can book.

Three upper-case letters are not enough: ``XXX`` ("no currency"), ``XTS`` (testing), precious
metals, bond-market units and fund codes are valid ISO 4217 entries, but no Amazon marketplace
settles in them and neither Workday nor Deltek books a journal in them. A file carrying one is
refused before anything is posted, with the code named.
"""

from __future__ import annotations

# ISO 4217 active currency codes (list one, 2025), less the non-currency X-codes and the fund
# codes: XAG XAU XPD XPT (metals), XBA XBB XBC XBD (bond units), XDR (SDR), XSU (Sucre),
# XUA (ADB unit), XTS (testing), XXX (no currency), BOV CHE CHW CLF COU MXV USN UYI UYW (funds).
ISO_4217_CURRENCIES = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP
    GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS
    KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR
    MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF
    SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD
    TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG ZWL
    """.split()
)


def is_booking_currency(code: str) -> bool:
    """Whether ``code`` is an ISO 4217 currency a journal can be booked in."""
    return code in ISO_4217_CURRENCIES
