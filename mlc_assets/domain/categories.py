"""The category vocabulary shared by the settlement-report side and the Finances side.

Reconciliation compares the two sides per category, and the GL mapping maps categories to
accounts, so both sides must classify into exactly this set.
"""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    PRINCIPAL = "principal"
    SHIPPING = "shipping"
    TAX = "tax"
    FACILITATOR_TAX = "facilitator_tax"
    PROMOTIONS = "promotions"
    REFERRAL_FEES = "referral_fees"
    FBA_FEES = "fba_fees"
    REFUNDS = "refunds"
    SERVICE_FEES = "service_fees"
    ADVERTISING = "advertising"
    REIMBURSEMENTS = "reimbursements"
    RESERVES = "reserves"
    OTHER = "other"
