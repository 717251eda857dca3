"""Settings from the environment (prefix ``MLC_``, nested with ``__``) or a ``.env`` file.

With no Amazon credentials configured the connector runs against the built-in sandbox,
so a new user can try everything before connecting real accounts. Secrets are
``SecretStr`` so they never print in reprs, logs or Dagster metadata.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class AmazonSettings(BaseModel):
    lwa_client_id: str | None = None
    lwa_client_secret: SecretStr | None = None
    refresh_token: SecretStr | None = None
    region: Literal["na", "eu", "fe"] = "na"
    marketplace_ids: list[str] = Field(default_factory=lambda: ["ATVPDKIKX0DER"])
    # Overrides; production defaults come from the region.
    endpoint: str | None = None
    lwa_endpoint: str = "https://api.amazon.com/auth/o2/token"
    report_type: str = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
    # Finances v0 event operations are deprecated; "auto" falls back to 2024-06-19.
    finances_api: Literal["auto", "v0", "2024-06-19"] = "auto"

    @property
    def configured(self) -> bool:
        return bool(self.lwa_client_id and self.lwa_client_secret and self.refresh_token)


class WorkdaySettings(BaseModel):
    host: str | None = None  # e.g. https://wd2-impl-services1.workday.com
    tenant: str | None = None
    version: str = "v46.1"
    isu_username: str | None = None  # without @tenant
    isu_password: SecretStr | None = None
    oauth_client_id: str | None = None
    oauth_client_secret: SecretStr | None = None
    oauth_refresh_token: SecretStr | None = None
    wsdl_path: str | None = None
    posting_mode: Literal["accounting_journal", "supplier_invoice", "both"] = "accounting_journal"
    company: str = "COMPANY-1"
    # Journals book in the company whose currency they carry (e.g. a German subsidiary).
    company_by_currency: dict[str, str] = Field(
        default_factory=lambda: {"EUR": "DE01", "GBP": "UK01"}
    )
    supplier_id: str = "AMAZON"
    auto_complete: bool = True

    @property
    def configured(self) -> bool:
        return bool(self.host and self.tenant and (self.isu_username or self.oauth_client_id))


class DeltekSettings(BaseModel):
    base_url: str | None = None  # full tenant URL, e.g. https://acme.deltekfirst.com/acme/api
    database: str | None = None
    username: str | None = None
    password: SecretStr | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    posting_mode: Literal["journal_entry", "ar_invoice"] = "journal_entry"
    closed_period_policy: Literal["fail", "next_open"] = "fail"

    @property
    def configured(self) -> bool:
        return bool(self.base_url and self.username and self.password)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MLC_", env_nested_delimiter="__", env_file=".env", extra="ignore"
    )

    data_home: Path = Path(".mlc")
    # Which ERPs to post to; only configured targets become assets.
    targets: list[Literal["workday", "deltek"]] = Field(
        default_factory=lambda: ["workday", "deltek"]
    )
    mapping_file: Path | None = None
    # "auto": the sandbox when Amazon credentials are absent.
    sandbox: Literal["auto", "on", "off"] = "auto"
    # Sandbox time acceleration: rates multiplied, lifetimes divided.
    sandbox_speed: float = 200.0
    sandbox_seed: int = 7
    sandbox_settlements: int = 6
    sandbox_settlement_days: int = 14

    amazon: AmazonSettings = Field(default_factory=AmazonSettings)
    workday: WorkdaySettings = Field(default_factory=WorkdaySettings)
    deltek: DeltekSettings = Field(default_factory=DeltekSettings)

    @property
    def use_sandbox(self) -> bool:
        if self.sandbox == "auto":
            return not self.amazon.configured
        return self.sandbox == "on"
