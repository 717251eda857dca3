"""Request and response models of the Workday client (not the connector's domain journal).

Money is ``Decimal`` throughout. Field names follow Workday's where that helps a reader map
them onto the SOAP payload (``reference`` = ``Accounting_Journal_ID`` / ``Supplier_Invoice_ID``).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

if TYPE_CHECKING:
    from mlc_assets.config import WorkdaySettings

MAX_JOURNAL_LINES = 1000  # Workday's documented limit per Submit_Accounting_Journal


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Worktag(_Model):
    """One typed worktag, e.g. ``Worktag(type="Cost_Center_Reference_ID", id="CC_ECOMMERCE")``."""

    type: str = Field(min_length=1)
    id: str = Field(min_length=1)


def _money(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError("amounts are positive; put credits in the credit column")
    if value.as_tuple().exponent < -6:  # type: ignore[operator]
        raise ValueError("Workday accepts at most 6 decimal places")
    return value


class JournalLine(_Model):
    account: str = Field(min_length=1, description="Ledger_Account_ID within the account set")
    debit: Decimal = Decimal("0")
    credit: Decimal = Decimal("0")
    memo: str | None = None
    external_reference_id: str | None = None
    worktags: tuple[Worktag, ...] = ()

    _amounts = field_validator("debit", "credit")(_money)

    @model_validator(mode="after")
    def _one_side(self) -> JournalLine:
        if self.debit and self.credit:
            raise ValueError(f"line on account {self.account} has both a debit and a credit")
        types = [w.type for w in self.worktags]
        if len(types) != len(set(types)):
            raise ValueError(f"line on account {self.account}: only one worktag per type")
        return self


class WorkdayJournal(_Model):
    """What ``Submit_Accounting_Journal`` is asked to create."""

    reference: str = Field(min_length=1, max_length=100, description="Accounting_Journal_ID")
    company: str = Field(min_length=1, description="Company_Reference_ID")
    currency: str = Field(min_length=3, max_length=3)
    accounting_date: date
    lines: tuple[JournalLine, ...] = Field(min_length=1, max_length=MAX_JOURNAL_LINES)
    memo: str | None = None
    external_reference_id: str | None = None  # defaults to ``reference``
    journal_source: str | None = None  # defaults to the client's configured source
    account_set: str | None = None  # defaults to the client's configured account set
    ledger_type: str = "Actuals"

    @property
    def total_debits(self) -> Decimal:
        return sum((line.debit for line in self.lines), Decimal("0"))

    @property
    def total_credits(self) -> Decimal:
        return sum((line.credit for line in self.lines), Decimal("0"))


class SupplierInvoiceLine(_Model):
    spend_category: str = Field(min_length=1, description="Spend_Category_ID")
    amount: Decimal
    description: str | None = None
    memo: str | None = None
    worktags: tuple[Worktag, ...] = ()


class WorkdaySupplierInvoice(_Model):
    """What ``Submit_Supplier_Invoice`` is asked to create (Amazon as the supplier)."""

    reference: str = Field(min_length=1, max_length=100, description="Supplier_Invoice_ID")
    company: str = Field(min_length=1)
    currency: str = Field(min_length=3, max_length=3)
    invoice_date: date
    suppliers_invoice_number: str = Field(min_length=1, description="the settlement reference")
    lines: tuple[SupplierInvoiceLine, ...] = Field(min_length=1)
    supplier_id: str | None = None  # defaults to the client's configured supplier
    memo: str | None = None
    control_amount_total: Decimal | None = None  # defaults to the sum of the lines

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0"))


class SubmitResult(_Model):
    """Workday's answer to a submit: the new document's IDs."""

    wid: str | None
    reference_id: str
    descriptor: str | None = None
    status: Literal["submitted", "draft"] = "submitted"
    warnings: tuple[str, ...] = ()


class JournalRecordLine(_Model):
    line_order: str | None = None
    account: str | None
    account_set: str | None = None
    debit: Decimal = Decimal("0")
    credit: Decimal = Decimal("0")
    memo: str | None = None
    worktags: tuple[Worktag, ...] = ()


class JournalRecord(_Model):
    """A journal as ``Get_Journals`` returns it, for adopting and verifying a posting."""

    wid: str | None
    reference_id: str | None
    journal_number: str | None = None
    status: str | None = None
    company: str | None = None
    currency: str | None = None
    accounting_date: date | None = None
    journal_source: str | None = None
    memo: str | None = None
    external_reference_id: str | None = None
    total_debits: Decimal | None = None
    total_credits: Decimal | None = None
    lines: tuple[JournalRecordLine, ...] = ()


class SupplierInvoiceRecordLine(_Model):
    line_order: str | None = None
    spend_category: str | None
    amount: Decimal = Decimal("0")
    description: str | None = None
    memo: str | None = None


class SupplierInvoiceRecord(_Model):
    wid: str | None
    reference_id: str | None
    invoice_number: str | None = None
    supplier_id: str | None = None
    company: str | None = None
    currency: str | None = None
    invoice_date: date | None = None
    control_amount_total: Decimal | None = None
    suppliers_invoice_number: str | None = None
    memo: str | None = None
    lines: tuple[SupplierInvoiceRecordLine, ...] = ()


class ReferenceItem(_Model):
    """One reference-data object (company, spend category, supplier)."""

    id: str
    name: str | None = None
    active: bool = True
    wid: str | None = None


class LedgerAccount(ReferenceItem):
    account_set: str
    account_type: str | None = None


class WorkdayClientConfig(BaseModel):
    """Everything the client needs to reach one tenant. Secrets stay ``SecretStr``."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(description="https://wdN-impl-services1.workday.com (no path)")
    tenant: str = Field(min_length=1)
    version: str = "v46.1"
    username: str | None = None  # ISU name, with or without @tenant
    password: SecretStr | None = None
    include_nonce: bool = False
    oauth_client_id: str | None = None
    oauth_client_secret: SecretStr | None = None
    oauth_refresh_token: SecretStr | None = None
    # "bundled" = the project's minimal WSDLs; "tenant" = {endpoint}?wsdl; else a file path or
    # URL of a Financial_Management WSDL (its Resource_Management sibling is looked up beside it).
    wsdl: str = "bundled"
    resource_management_wsdl: str | None = None
    account_set: str = "Standard"
    journal_source: str = "Integration"
    supplier_id: str = "AMAZON"
    auto_complete: bool = True
    submit: bool = True
    locked_in_workday: bool = True
    page_size: int = Field(default=100, ge=1, le=999)
    connect_timeout: float = 10.0
    read_timeout: float = 120.0
    # Keep zeep strict: lenient mode "recovers" non-XML error pages into nothing. Responses
    # with elements the WSDL lacks are still fine: they are read from the XML (responses.py).
    strict_parsing: bool = True

    @model_validator(mode="after")
    def _credentials(self) -> WorkdayClientConfig:
        oauth = self.oauth_client_id and self.oauth_client_secret and self.oauth_refresh_token
        if not oauth and not (self.username and self.password):
            raise ValueError(
                "Workday credentials missing: set username+password (ISU) or "
                "oauth_client_id+oauth_client_secret+oauth_refresh_token"
            )
        self.base_url = self.base_url.rstrip("/")
        return self

    @classmethod
    def from_settings(cls, settings: WorkdaySettings, **overrides: Any) -> WorkdayClientConfig:
        """Build from the connector's ``MLC_WORKDAY__*`` settings (host, tenant, ISU or OAuth)."""
        if not settings.host or not settings.tenant:
            raise ValueError("Workday is not configured: set MLC_WORKDAY__HOST and __TENANT")
        fields: dict[str, Any] = {
            "base_url": settings.host,
            "tenant": settings.tenant,
            "version": settings.version,
            "username": settings.isu_username,
            "password": settings.isu_password,
            "oauth_client_id": settings.oauth_client_id,
            "oauth_client_secret": settings.oauth_client_secret,
            "oauth_refresh_token": settings.oauth_refresh_token,
            "supplier_id": settings.supplier_id,
            "auto_complete": settings.auto_complete,
        }
        if settings.wsdl_path:
            fields["wsdl"] = settings.wsdl_path
        fields.update(overrides)
        return cls(**fields)

    def endpoint(self, service: str) -> str:
        return f"{self.base_url}/ccx/service/{self.tenant}/{service}/{self.version}"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/ccx/oauth2/{self.tenant}/token"
