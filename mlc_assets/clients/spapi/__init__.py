"""Amazon Selling Partner API client: LWA auth, shared rate limits, Reports API.

No Dagster, no DuckDB, no GL rules here (see docs/architecture.md, layers).
"""

from mlc_assets.clients.spapi.auth import LwaAuth
from mlc_assets.clients.spapi.base import SpapiHttp, SpapiResponse
from mlc_assets.clients.spapi.client import SpapiClient
from mlc_assets.clients.spapi.endpoints import (
    MARKETPLACES,
    Marketplace,
    Region,
    endpoint_for,
    marketplace,
)
from mlc_assets.clients.spapi.errors import (
    DownloadUrlExpired,
    DownloadUrlRejected,
    ReportNotRequestableError,
    ReportProcessingError,
    ReportTimeoutError,
    SpapiAuthenticationError,
    SpapiConnectionError,
    SpapiError,
    SpapiInvalidInput,
    SpapiNotFound,
    SpapiServerError,
    SpapiThrottled,
    SpapiTokenExpired,
    SpapiUnauthorized,
    TruncatedDownload,
)
from mlc_assets.clients.spapi.models import (
    DownloadedReport,
    ProcessingStatus,
    Report,
    ReportDocument,
)
from mlc_assets.clients.spapi.reports import SETTLEMENT_REPORT_TYPES, ReportsApi
from mlc_assets.clients.spapi.throttle import RATE_LIMITS, BucketRegistry, RateLimit

__all__ = [
    "MARKETPLACES",
    "RATE_LIMITS",
    "SETTLEMENT_REPORT_TYPES",
    "BucketRegistry",
    "DownloadUrlExpired",
    "DownloadUrlRejected",
    "DownloadedReport",
    "LwaAuth",
    "Marketplace",
    "ProcessingStatus",
    "RateLimit",
    "Region",
    "Report",
    "ReportDocument",
    "ReportNotRequestableError",
    "ReportProcessingError",
    "ReportTimeoutError",
    "ReportsApi",
    "SpapiAuthenticationError",
    "SpapiClient",
    "SpapiConnectionError",
    "SpapiError",
    "SpapiHttp",
    "SpapiInvalidInput",
    "SpapiNotFound",
    "SpapiResponse",
    "SpapiServerError",
    "SpapiThrottled",
    "SpapiTokenExpired",
    "SpapiUnauthorized",
    "TruncatedDownload",
    "endpoint_for",
    "marketplace",
]
