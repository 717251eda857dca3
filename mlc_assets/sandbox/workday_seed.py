"""The sandbox tenant's demo credentials and reference data (public: anyone can try the
connector with them; they are secrets nowhere)."""

from __future__ import annotations

# ---- demo credentials (sandbox only; documented so anyone can try the connector) ----------
DEMO_TENANT = "mlc_sandbox"
DEMO_USERNAME = "ISU_MLC"
DEMO_PASSWORD = "mlc-sandbox-isu-password"  # noqa: S105 - public sandbox credential
DEMO_READONLY_USERNAME = "ISU_MLC_READONLY"  # authenticates, lacks the submit permissions
DEMO_CLIENT_ID = "mlc-sandbox-api-client"
DEMO_CLIENT_SECRET = "mlc-sandbox-client-secret"  # noqa: S105 - public sandbox credential
DEMO_REFRESH_TOKEN = "mlc-sandbox-refresh-token"  # noqa: S105 - public sandbox credential

DEFAULT_ACCOUNTS = (
    "1210 1220 1250 2100 2200 2205 2206 2210 4000 4010 4050 4060 4090 6100 6110 6120 6130 6140 6190"
).split()
DEFAULT_ACCOUNT_SET = "Standard"
DEFAULT_COMPANIES = {
    "COMPANY-1": "USD",
    "US01": "USD",
    "CA01": "CAD",
    "DE01": "EUR",
    "UK01": "GBP",
}
INACTIVE_COMPANIES = {"US99_CLOSED": "USD"}
DEFAULT_SPEND_CATEGORIES = (
    "SC_MARKETPLACE_FEES SC_FULFILMENT SC_ADVERTISING SC_SERVICE_FEES SC_SHIPPING SC_OTHER"
    # the spend categories of the shipped default mapping
    " SC_Amazon_Fees SC_Amazon_FBA SC_Amazon_DST SC_Advertising"
).split()
INACTIVE_SPEND_CATEGORIES = ("SC_RETIRED",)
DEFAULT_COST_CENTERS = (
    "CC_ECOMMERCE",
    "CC_MARKETING",
    "CC_OPERATIONS",
    # the cost centers of the shipped default mapping
    "CC100",
    "CC110",
    "CC120",
    "CC200",
)
DEFAULT_JOURNAL_SOURCES = ("Integration", "Amazon_Settlement", "Manual")
DEFAULT_SUPPLIERS = {"AMAZON": "Amazon Services LLC", "SUP-AMAZON-SERVICES": "Amazon Services"}
INACTIVE_SUPPLIERS = {"OLD_SUPPLIER": "Retired supplier"}
WRITE_OPERATIONS = frozenset({"Submit_Accounting_Journal", "Submit_Supplier_Invoice"})
