"""Reports API 2021-06-30 stand-in, plus the pre-signed document host it hands out.

Behaviour follows the model and docs/reference/amazon/NOTES.md §5: settlement reports are generated
by "Amazon"
(one per simulated settlement) and can only be listed, never requested; listing pages with
an opaque ``nextToken`` that must be sent alone; documents are gzip files behind URLs that
expire after 5 minutes (÷ speed). The document host answers like S3 (XML errors, no SP-API
token), which is why it lives under its own ``/_s3`` prefix.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from mlc_assets.sandbox.ledger import SimSettlement
from mlc_assets.sandbox.report_render import content_type, gzip_document, render_v2
from mlc_assets.sandbox.spapi_app import SpApiContext, invalid_input, not_found, operation

BASE = "/reports/2021-06-30"
SETTLEMENT_V2 = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
# Amazon's internal numbers in the refusal message; 1118/1117 are documented
# (docs/reference/amazon/NOTES.md §5),
# 1116 for the XML type is an assumption.
SETTLEMENT_TYPE_NUMBERS = {
    SETTLEMENT_V2: 1118,
    "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE": 1117,
    "GET_V2_SETTLEMENT_REPORT_DATA_XML": 1116,
}
STATUSES = ("CANCELLED", "DONE", "FATAL", "IN_PROGRESS", "IN_QUEUE")
RETENTION = timedelta(days=90)


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


@dataclass
class _CreatedReport:
    report_id: str
    report_type: str
    marketplace_ids: list[str]
    created: datetime
    created_mono: float
    data_start: str | None
    data_end: str | None
    polls: int = 0
    document_id: str | None = None


@dataclass
class ReportsState:
    """Mutable per-server state: requested reports, documents, issued download URLs."""

    created: dict[str, _CreatedReport] = field(default_factory=dict)
    documents: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # id → (gzip, ctype)
    urls: dict[str, float] = field(default_factory=dict)  # signature → monotonic deadline
    key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    lock: threading.Lock = field(default_factory=threading.Lock)


def settlement_report(s: SimSettlement) -> dict[str, Any]:
    created = s.report_created
    return {
        "reportType": SETTLEMENT_V2,
        "processingEndTime": iso(created),
        "processingStatus": "DONE",
        "marketplaceIds": list(s.listed_under),
        "reportDocumentId": s.report_document_id,
        "reportId": s.report_id,
        "dataEndTime": iso(s.end),
        "createdTime": iso(created),
        "processingStartTime": iso(created - timedelta(minutes=3)),
        "dataStartTime": iso(s.start),
    }


def _stage(ctx: SpApiContext, report: _CreatedReport) -> int:
    elapsed = (time.monotonic() - report.created_mono) * ctx.speed
    by_time = 2 if elapsed >= 60 else 1 if elapsed >= 20 else 0
    return max(report.polls, by_time)


def _created_report_json(ctx: SpApiContext, state: ReportsState, r: _CreatedReport) -> dict:
    stage = _stage(ctx, r)
    body: dict[str, Any] = {
        "reportId": r.report_id,
        "reportType": r.report_type,
        "marketplaceIds": r.marketplace_ids,
        "createdTime": iso(r.created),
        "processingStatus": ("IN_QUEUE", "IN_PROGRESS", "DONE")[min(stage, 2)],
    }
    if r.data_start:
        body["dataStartTime"] = r.data_start
    if r.data_end:
        body["dataEndTime"] = r.data_end
    if stage >= 1:
        body["processingStartTime"] = iso(r.created + timedelta(seconds=20))
    if stage >= 2:
        body["processingEndTime"] = iso(r.created + timedelta(seconds=60))
        if r.document_id is None:
            r.document_id = f"amzn1.spdoc.1.4.na.{uuid.uuid4()}.T{secrets.token_hex(4).upper()}"
            text = (
                "report-type\tmarketplace-ids\tcreated-time\n"
                f"{r.report_type}\t{','.join(r.marketplace_ids)}\t{iso(r.created)}\n"
            )
            with state.lock:
                state.documents[r.document_id] = (
                    gzip_document(text.encode()),
                    "text/plain; charset=utf-8",
                )
        body["reportDocumentId"] = r.document_id
    return body


def _multi(request: Request, name: str) -> list[str] | None:
    """Array query parameters: swagger-2 CSV (``a,b``), also tolerating repeated keys."""
    values = request.query_params.getlist(name)
    if not values:
        return None
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def _parse_time(value: str, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"{name} is not a valid ISO 8601 date-time: {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _encode_token(query: dict[str, Any], offset: int) -> str:
    raw = json.dumps({"q": query, "o": offset}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_token(token: str) -> tuple[dict[str, Any], int]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        return dict(data["q"]), int(data["o"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError("nextToken is invalid or expired") from exc


def reports_routes(ctx: SpApiContext) -> list[BaseRoute]:
    state: ReportsState = ctx.extras.setdefault("reports", ReportsState())
    seller = ctx.seller

    def listing(query: dict[str, Any]) -> list[dict[str, Any]]:
        types = set(query["reportTypes"])
        statuses = set(query["processingStatuses"] or STATUSES)
        mps = set(query["marketplaceIds"] or [])
        since = datetime.fromisoformat(query["createdSince"])
        until = datetime.fromisoformat(query["createdUntil"])
        oldest_kept = ctx.now() - RETENTION
        out: list[tuple[datetime, dict[str, Any]]] = []
        for s in seller.settlements:
            if SETTLEMENT_V2 not in types or "DONE" not in statuses:
                break
            if mps and not mps.intersection(s.listed_under):
                continue
            if since <= s.report_created <= until and s.report_created >= oldest_kept:
                out.append((s.report_created, settlement_report(s)))
        for r in list(state.created.values()):
            body = _created_report_json(ctx, state, r)
            if r.report_type not in types or body["processingStatus"] not in statuses:
                continue
            if mps and not mps.intersection(r.marketplace_ids):
                continue
            if since <= r.created <= until:
                out.append((r.created, body))
        out.sort(key=lambda item: (item[0], item[1]["reportId"]), reverse=True)  # newest first
        return [body for _, body in out]

    @operation(ctx, "getReports")
    async def get_reports(request: Request) -> Response:
        params = request.query_params
        if "nextToken" in params:
            if len(params) > 1 or len(params.getlist("nextToken")) > 1:
                return invalid_input(
                    "When nextToken is provided, no other query parameters may be specified."
                )
            try:
                query, offset = _decode_token(params["nextToken"])
            except ValueError as exc:
                return invalid_input(str(exc))
        else:
            unknown = set(params) - {
                "reportTypes", "processingStatuses", "marketplaceIds", "pageSize",
                "createdSince", "createdUntil",
            }  # fmt: skip
            if unknown:
                return invalid_input(f"Unknown query parameter: {sorted(unknown)[0]}")
            types = _multi(request, "reportTypes")
            if not types:
                return invalid_input("reportTypes is required when nextToken is not provided.")
            if len(types) > 10:
                return invalid_input("reportTypes accepts at most 10 values.")
            statuses = _multi(request, "processingStatuses")
            bad = [s for s in statuses or [] if s not in STATUSES]
            if bad:
                return invalid_input(f"Invalid processingStatuses value: {bad[0]}")
            mps = _multi(request, "marketplaceIds")
            if mps is not None and not 1 <= len(mps) <= 10:
                return invalid_input("marketplaceIds accepts 1 to 10 values.")
            try:
                page_size = int(params.get("pageSize", "10"))
            except ValueError:
                return invalid_input("pageSize must be an integer.")
            if not 1 <= page_size <= 100:
                return invalid_input("pageSize must be between 1 and 100.")
            now = ctx.now()
            try:
                since = (
                    _parse_time(params["createdSince"], "createdSince")
                    if ("createdSince" in params)
                    else now - RETENTION
                )
                until = (
                    _parse_time(params["createdUntil"], "createdUntil")
                    if ("createdUntil" in params)
                    else now
                )
            except ValueError as exc:
                return invalid_input(str(exc))
            if since > until:
                return invalid_input("createdSince must be before createdUntil.")
            query = {
                "reportTypes": types,
                "processingStatuses": statuses,
                "marketplaceIds": mps,
                "pageSize": page_size,
                "createdSince": since.isoformat(),
                "createdUntil": until.isoformat(),
            }
            offset = 0
        reports = listing(query)
        page = reports[offset : offset + query["pageSize"]]
        if page and ctx.faults.take("dup_listing"):
            page = [*page, page[0]]
        body: dict[str, Any] = {"reports": page}
        if offset + query["pageSize"] < len(reports):
            body["nextToken"] = _encode_token(query, offset + query["pageSize"])
        return JSONResponse(body)

    @operation(ctx, "getReport")
    async def get_report(request: Request) -> Response:
        report_id = request.path_params["reportId"]
        s = seller.by_report_id(report_id)
        if s is not None:
            return JSONResponse(settlement_report(s))
        created = state.created.get(report_id)
        if created is None:
            return not_found(f"Report {report_id} not found.")
        body = _created_report_json(ctx, state, created)
        created.polls += 1
        return JSONResponse(body)

    @operation(ctx, "createReport")
    async def create_report(request: Request) -> Response:
        try:
            spec = json.loads(await request.body() or b"null")
        except ValueError:
            return invalid_input("The request body is not valid JSON.")
        if not isinstance(spec, dict):
            return invalid_input("The request body must be a CreateReportSpecification object.")
        report_type = spec.get("reportType")
        mps = spec.get("marketplaceIds")
        if not isinstance(report_type, str) or not report_type:
            return invalid_input("reportType is required.")
        if not isinstance(mps, list) or not 1 <= len(mps) <= 25:
            return invalid_input("marketplaceIds must be a list of 1 to 25 marketplace IDs.")
        if report_type in SETTLEMENT_TYPE_NUMBERS:
            number = SETTLEMENT_TYPE_NUMBERS[report_type]
            return invalid_input(f"Request for report type {number} is not allowed at this time")
        report_id = str(secrets.randbelow(9 * 10**10) + 10**10)
        state.created[report_id] = _CreatedReport(
            report_id=report_id,
            report_type=report_type,
            marketplace_ids=[str(m) for m in mps],
            created=ctx.now(),
            created_mono=time.monotonic(),
            data_start=spec.get("dataStartTime"),
            data_end=spec.get("dataEndTime"),
        )
        return JSONResponse({"reportId": report_id}, status_code=202)

    def _document(document_id: str) -> tuple[bytes, str] | None:
        with state.lock:
            cached = state.documents.get(document_id)
        if cached is not None:
            return cached
        s = seller.by_document_id(document_id)
        if s is None:
            return None
        doc = (gzip_document(render_v2(s)), content_type(s))
        with state.lock:
            state.documents[document_id] = doc
        return doc

    def _sign(document_id: str, amz_date: str, nonce: str, encoding: str) -> str:
        msg = f"{document_id}\n{amz_date}\n{nonce}\n{encoding}".encode()
        return hmac.new(state.key, msg, hashlib.sha256).hexdigest()

    @operation(ctx, "getReportDocument")
    async def get_report_document(request: Request) -> Response:
        document_id = request.path_params["reportDocumentId"]
        if _document(document_id) is None:
            return not_found(f"Report document {document_id} not found.")
        encoding = (
            "gzip"
            if request.query_params.get("enableContentEncodingUrlHeader", "").lower() == "true"
            else "identity"
        )
        ttl = ctx.url_ttl
        deadline = time.monotonic() + ttl
        if ctx.faults.take("expire_url"):
            deadline = time.monotonic() - 1.0
        amz_date = ctx.now().strftime("%Y%m%dT%H%M%SZ")
        nonce = secrets.token_hex(8)
        signature = _sign(document_id, amz_date, nonce, encoding)
        with state.lock:
            state.urls[signature] = deadline
        base = str(request.base_url).rstrip("/")
        url = (
            f"{base}/_s3/spapi-reports/{document_id}?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            f"&X-Amz-Date={amz_date}&X-Amz-Expires={max(1, round(ttl))}"
            f"&X-Amz-Nonce={nonce}&X-Amz-Encoding={encoding}"
            f"&X-Amz-SignedHeaders=host&X-Amz-Signature={signature}"
        )
        return JSONResponse(
            {"reportDocumentId": document_id, "url": url, "compressionAlgorithm": "GZIP"}
        )

    def _s3_error(status: int, code: str, message: str, extra: str = "") -> Response:
        request_id = secrets.token_hex(8).upper()
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{escape(message)}</Message>{extra}"
            f"<RequestId>{request_id}</RequestId>"
            f"<HostId>{base64.b64encode(secrets.token_bytes(48)).decode()}</HostId></Error>"
        )
        return Response(
            xml, status_code=status, media_type="application/xml",
            headers={"x-amz-request-id": request_id},
        )  # fmt: skip

    async def download(request: Request) -> Response:
        document_id = request.path_params["documentId"]
        q = request.query_params
        signature = q.get("X-Amz-Signature", "")
        expected = _sign(
            document_id, q.get("X-Amz-Date", ""), q.get("X-Amz-Nonce", ""),
            q.get("X-Amz-Encoding", ""),
        )  # fmt: skip
        with state.lock:
            deadline = state.urls.get(signature)
        if deadline is None or not hmac.compare_digest(signature, expected):
            return _s3_error(
                403, "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            )  # fmt: skip
        if time.monotonic() > deadline:
            return _s3_error(
                403, "AccessDenied", "Request has expired",
                f"<X-Amz-Expires>{escape(q.get('X-Amz-Expires', ''))}</X-Amz-Expires>"
                f"<ServerTime>{iso(ctx.now())}</ServerTime>",
            )  # fmt: skip
        doc = _document(document_id)
        if doc is None:
            return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
        data, ctype = doc
        if ctx.faults.take("truncate_gzip"):
            data = data[: max(1, len(data) // 2)]
        ctx.counters.count_download()
        headers = {"ETag": f'"{hashlib.md5(data).hexdigest()}"'}  # noqa: S324 (S3 ETag)
        if q.get("X-Amz-Encoding") == "gzip":
            headers["Content-Encoding"] = "gzip"
        return Response(data, media_type=None, headers={**headers, "Content-Type": ctype})

    return [
        Route(f"{BASE}/reports", get_reports, methods=["GET"]),
        Route(f"{BASE}/reports", create_report, methods=["POST"]),
        Route(f"{BASE}/reports/{{reportId}}", get_report, methods=["GET"]),
        Route(f"{BASE}/documents/{{reportDocumentId}}", get_report_document, methods=["GET"]),
        Route("/_s3/spapi-reports/{documentId:path}", download, methods=["GET"]),
    ]
