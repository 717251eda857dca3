"""The Deltek client against the sandbox tenant: real sockets, real httpx, real faults."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import httpx
import pytest

from mlc_assets.clients.deltek import (
    DeltekClient,
    DeltekClosedPeriodError,
    DeltekDuplicateBatchError,
    DeltekInvoiceBatch,
    DeltekInvoiceLine,
    DeltekOutcomeUnknownError,
    DeltekPeriodNotFoundError,
    DeltekPostingError,
    DeltekResponseError,
    DeltekTransientError,
    DeltekValidationError,
    batch_name,
    decode_post_response,
)
from mlc_assets.clients.retry import RetryPolicy
from mlc_assets.sandbox.deltek_store import DEFAULT_ACCOUNTS, DEFAULT_ORGS, monthly_periods
from mlc_assets_tests.clients import deltek_fixtures as fx
from mlc_assets_tests.clients.deltek_fixtures import Tenant, settlement_batch

# Fixtures shared by the Deltek client tests (conftest.py is owned elsewhere).
start_tenant = fx.start_tenant
shared_tenant = fx.shared_tenant
tenant = fx.tenant
make_client = fx.make_client
client = fx.client

ONE_SHOT = RetryPolicy(attempts=1, initial_wait=0.01, max_wait=0.01, max_total=5)


# ---- write / post / find ------------------------------------------------------------------------
def test_write_post_find_round_trip(client: DeltekClient, tenant: Tenant) -> None:
    name = batch_name("12345678901")
    assert name == "AMZ12345678901"
    batch = settlement_batch(name)
    assert client.find_batch(name) is None

    written = client.write_batch(batch)
    assert written.period == 202606  # resolved from the posting date
    assert not written.posted

    unposted = client.find_batch(name)
    assert unposted is not None
    assert unposted.posted is False
    assert unposted.posting_sequence is None
    assert unposted.period == 202606
    assert unposted.total_debits == unposted.total_credits == Decimal("1000.00")
    assert unposted.differences(batch.model_copy(update={"period": 202606})) == []
    # Org comes from the project on the Deltek side [INF]; the clearing line has none.
    orgs = {ln.account: ln.org for ln in unposted.lines}
    assert orgs["4000.00"] == "A0.10.00"

    result = client.post_batch(name, period=202606, description=batch.description)
    assert result.batch == name
    assert result.period == 202606
    assert result.posting_sequence == 101
    assert (result.records_posted, result.records_total) == (3, 3)

    posted = client.find_batch(name)
    assert posted is not None
    assert posted.posted is True
    assert posted.posting_sequence == 101
    assert posted.period == 202606
    assert posted.differences(batch.model_copy(update={"period": 202606})) == []
    amounts = sorted(ln.amount for ln in posted.lines)
    assert amounts == [Decimal("-1000.00"), Decimal("150.25"), Decimal("849.75")]
    dump = {b["batch"]: b for b in tenant.batches()}
    assert dump[name]["posted"] is True and dump[name]["post_seq"] == 101


def test_verification_detects_different_amounts(client: DeltekClient) -> None:
    client.write_batch(settlement_batch("AMZ1"))
    found = client.find_batch("AMZ1")
    assert found is not None
    other = settlement_batch("AMZ1", sales="1000.01", fees="150.26")
    diffs = found.differences(other)
    assert any("missing in Deltek" in d and "1000.01" in d for d in diffs)
    assert any("unexpected in Deltek" in d and "1000.00" in d for d in diffs)


def test_unbalanced_batch_refused_locally(client: DeltekClient, tenant: Tenant) -> None:
    with pytest.raises(DeltekValidationError, match="not balanced"):
        client.write_batch(settlement_batch("AMZ2", unbalance="0.01"))
    assert tenant.stats()["stats"].get("route:create", 0) == 0


def test_unbalanced_batch_refused_by_deltek(client: DeltekClient, tenant: Tenant) -> None:
    with pytest.raises(DeltekValidationError) as info:
        client.write_batch(settlement_batch("AMZ2", unbalance="0.01"), check_balance=False)
    err = info.value
    assert err.status == 400
    assert not err.transient
    assert "out of balance" in err.deltek_message
    assert "850.76" in str(err) or "1000.01" in str(err)
    assert client.find_batch("AMZ2") is None


def test_unknown_account_is_validation_error(client: DeltekClient) -> None:
    batch = settlement_batch("AMZ3")
    bad_line = batch.lines[0].model_copy(update={"account": "9999.99"})
    bad = batch.model_copy(update={"lines": [bad_line, *batch.lines[1:]]})
    with pytest.raises(DeltekValidationError, match=r"Account '9999\.99' is not valid"):
        client.write_batch(bad)


def test_duplicate_batch_is_refused(client: DeltekClient) -> None:
    client.write_batch(settlement_batch("AMZ4"))
    with pytest.raises(DeltekDuplicateBatchError) as info:
        client.write_batch(settlement_batch("AMZ4"))
    assert info.value.batch == "AMZ4"
    assert "already exists" in str(info.value)


def test_duplicate_of_posted_batch_is_refused(client: DeltekClient) -> None:
    client.write_batch(settlement_batch("AMZ5"))
    client.post_batch("AMZ5", period=202606)
    with pytest.raises(DeltekDuplicateBatchError):
        client.write_batch(settlement_batch("AMZ5"))


# ---- periods ------------------------------------------------------------------------------------
def test_closed_period_is_refused_with_its_name(client: DeltekClient, tenant: Tenant) -> None:
    batch = settlement_batch("AMZ6", posting_date=date(2026, 1, 20))
    with pytest.raises(DeltekClosedPeriodError) as info:
        client.write_batch(batch)
    assert info.value.period == 202601
    assert "202601" in str(info.value) and "closed" in str(info.value)
    assert tenant.stats()["stats"].get("route:create", 0) == 0


def test_closed_period_next_open_moves_forward(
    make_client: Callable[..., DeltekClient],
) -> None:
    c = make_client(closed_period_policy="next_open")
    assert c.resolve_period(date(2026, 1, 20)).period == 202602
    written = c.write_batch(settlement_batch("AMZ7", posting_date=date(2026, 1, 20)))
    assert written.period == 202602
    result = c.post_batch("AMZ7", period=202602)
    assert result.period == 202602


def test_resolve_period_policy_argument_and_gaps(client: DeltekClient, tenant: Tenant) -> None:
    assert client.resolve_period(date(2026, 3, 31)).period == 202603
    assert client.resolve_period(date(2026, 1, 5), "next_open").period == 202602
    with pytest.raises(DeltekPeriodNotFoundError, match="2027-02-01"):
        client.resolve_period(date(2027, 2, 1))
    tenant.sandbox.store.set_closed(202612, True)
    with pytest.raises(DeltekPeriodNotFoundError, match="no open period follows"):
        client.resolve_period(date(2026, 12, 24), "next_open")


def test_explicit_closed_period_is_refused(client: DeltekClient) -> None:
    with pytest.raises(DeltekClosedPeriodError, match="202601"):
        client.write_batch(settlement_batch("AMZ8", period=202601))


def test_period_closed_between_write_and_post(client: DeltekClient, tenant: Tenant) -> None:
    client.write_batch(settlement_batch("AMZ9"))
    tenant.sandbox.store.set_closed(202606, True)
    with pytest.raises(DeltekClosedPeriodError) as info:
        client.post_batch("AMZ9", period=202606)
    assert info.value.period == 202606
    found = client.find_batch("AMZ9")
    assert found is not None and not found.posted


def test_list_periods(client: DeltekClient) -> None:
    periods = client.list_periods()
    assert [p.period for p in periods][:3] == [202601, 202602, 202603]
    assert periods[0].closed and not periods[1].closed
    assert periods[1].start == date(2026, 2, 1) and periods[1].end == date(2026, 2, 28)


# ---- faults -------------------------------------------------------------------------------------
def test_html_502_then_success(client: DeltekClient, tenant: Tenant) -> None:
    client.list_periods()
    tenant.arm("html502:2")
    client.write_batch(settlement_batch("AMZ10"))
    assert tenant.stats()["faults_fired"] == {"html502": 2}
    found = client.find_batch("AMZ10")
    assert found is not None and not found.posted


def test_html_502_surfaces_as_transient_with_summary(
    make_client: Callable[..., DeltekClient], tenant: Tenant
) -> None:
    c = make_client(retry=ONE_SHOT)
    c.list_periods()
    tenant.arm("html502:1")
    with pytest.raises(DeltekTransientError) as info:
        c.list_accounts()
    text = str(info.value)
    assert info.value.status == 502
    assert "502 - Web server received an invalid response" in text
    assert "<" not in text  # summarised, not raw HTML


def test_429_and_500_then_success(client: DeltekClient, tenant: Tenant) -> None:
    client.list_periods()
    tenant.arm("429:2,500:1")
    accounts = client.list_accounts()
    assert len(accounts) == len(DEFAULT_ACCOUNTS)
    assert tenant.stats()["faults_fired"] == {"429": 2, "500": 1}


def test_reset_then_success(client: DeltekClient, tenant: Tenant) -> None:
    client.list_periods()
    tenant.arm("reset:1")
    assert client.list_projects()
    assert tenant.stats()["faults_fired"] == {"reset": 1}


def test_slow_response_times_out_and_retries(
    start_tenant: Callable[..., Tenant], make_client: Callable[..., DeltekClient]
) -> None:
    t = start_tenant(slow_seconds=1.0)
    c = make_client(target=t, timeout=httpx.Timeout(5.0, read=0.3))
    c.list_periods()
    t.arm("slow:1")
    assert c.list_periods()
    assert t.stats()["faults_fired"] == {"slow": 1}


def test_commit_drop_on_write_then_find_batch_finds_it(
    make_client: Callable[..., DeltekClient], tenant: Tenant
) -> None:
    c = make_client(retry=ONE_SHOT)
    batch = settlement_batch("AMZ11")
    c.list_periods()
    tenant.arm("commit_drop:1")
    with pytest.raises(DeltekOutcomeUnknownError):
        c.write_batch(batch)  # committed on the server, answer lost
    found = c.find_batch("AMZ11")
    assert found is not None
    assert not found.posted
    assert found.differences(batch.model_copy(update={"period": 202606})) == []


def test_a_write_that_may_have_landed_is_not_retried(client: DeltekClient, tenant: Tenant) -> None:
    """No idempotency key: the client says "outcome unknown" and leaves the lookup to the
    exactly-once poster, instead of writing again or looking the file up itself."""
    client.list_periods()
    tenant.arm("commit_drop:1")
    with pytest.raises(DeltekOutcomeUnknownError, match="may have been committed"):
        client.write_batch(settlement_batch("AMZ12"))
    stats = tenant.stats()
    assert stats["faults_fired"] == {"commit_drop": 1}
    assert stats["stats"]["created:JE"] == 1  # written once, never again
    assert stats["stats"].get("route:landing", 0) == stats["stats"].get("route:read", 0) == 0


def test_a_write_refused_before_processing_is_retried(client: DeltekClient, tenant: Tenant) -> None:
    client.list_periods()
    tenant.arm("429:1")  # throttled before anything was processed
    record = client.write_batch(settlement_batch("AMZ15"))
    assert record.batch == "AMZ15" and not record.posted
    stats = tenant.stats()
    assert stats["faults_fired"] == {"429": 1}
    assert stats["stats"]["created:JE"] == 1


def test_commit_drop_on_post_says_outcome_unknown_and_the_ledger_shows_it_once(
    client: DeltekClient, tenant: Tenant
) -> None:
    client.write_batch(settlement_batch("AMZ14"))
    tenant.arm("commit_drop:1")
    with pytest.raises(DeltekOutcomeUnknownError):
        client.post_batch("AMZ14", period=202606)
    found = client.find_batch("AMZ14")
    assert found is not None and found.posted
    assert found.posting_sequence == 101 and found.sequences == 1
    assert tenant.stats()["stats"]["posted"] == 1  # posted exactly once


def test_expire_token_during_write_is_invisible(client: DeltekClient, tenant: Tenant) -> None:
    client.list_periods()
    tenant.arm("expire_token:1")
    client.write_batch(settlement_batch("AMZ15"))
    assert tenant.stats()["stats"]["created:JE"] == 1


# ---- AR invoice mode ----------------------------------------------------------------------------
def test_ar_invoice_round_trip(client: DeltekClient, tenant: Tenant) -> None:
    inv = DeltekInvoiceBatch(
        batch=batch_name("12345678901", prefix="AMZIN"),
        invoice="12345678901",
        posting_date=date(2026, 6, 15),
        description="Amazon settlement 12345678901",
        wbs1="AMZ-2026",
        wbs2="US",
        wbs3="SALES",
        lines=[
            DeltekInvoiceLine(account="4000.00", amount="1000.00", description="Sales"),
            DeltekInvoiceLine(account="4010.00", amount="25.00", description="Shipping"),
            DeltekInvoiceLine(
                account="6100.00", amount="-150.25", wbs3="FEES", description="Referral fees"
            ),
        ],
    )
    assert client.find_batch(inv.batch, "IN") is None
    written = client.write_invoice_batch(inv)
    assert written.trans_type == "IN" and written.period == 202606

    unposted = client.find_batch(inv.batch, "IN")
    assert unposted is not None and not unposted.posted
    assert unposted.total_amount == Decimal("874.75")
    assert unposted.differences(inv) == []

    result = client.post_batch(inv.batch, period=202606, trans_type="IN")
    assert result.trans_type == "IN" and result.posting_sequence == 101

    posted = client.find_batch(inv.batch, "IN")
    assert posted is not None and posted.posted
    assert posted.posting_sequence == 101
    assert {ln.invoice for ln in posted.lines} == {"12345678901"}
    assert posted.differences(inv) == []
    assert client.find_batch(inv.batch, "JE") is None  # separate ledgers


def test_ar_invoice_unknown_task_is_validation_error(client: DeltekClient) -> None:
    inv = DeltekInvoiceBatch(
        batch="AMZIN1",
        invoice="1",
        posting_date=date(2026, 6, 15),
        description="x",
        wbs1="AMZ-2026",
        wbs2="US",
        wbs3="NOPE",
        lines=[DeltekInvoiceLine(account="4000.00", amount="1.00")],
    )
    with pytest.raises(DeltekValidationError, match="not valid"):
        client.write_invoice_batch(inv)


# ---- reference data -----------------------------------------------------------------------------
def test_reference_data(client: DeltekClient) -> None:
    accounts = client.list_accounts()
    assert [a.account for a in accounts][:3] == ["1210.00", "1220.00", "1250.00"]
    assert all(a.active for a in accounts)
    projects = client.list_projects()
    keys = {(p.wbs1, p.wbs2, p.wbs3) for p in projects}
    assert ("AMZ-2026", "", "") in keys
    assert ("AMZ-2026", "US", "SALES") in keys
    top = next(p for p in projects if (p.wbs1, p.wbs2) == ("AMZ-2026", ""))
    assert top.sub_level and top.active and top.org == "A0.10.00"
    inactive = next(p for p in projects if p.wbs1 == "AMZ-2025")
    assert not inactive.active
    assert client.get_project("AMZ-2026") is not None
    assert client.get_project("NOPE") is None
    orgs = client.list_organizations()
    assert {o.org for o in orgs} == {org for org, _ in DEFAULT_ORGS}
    assert client.active_period() == 202602


def test_paging_walks_every_page(client: DeltekClient, tenant: Tenant) -> None:
    store = tenant.sandbox.store
    for i in range(1203):
        code = f"7{i:03d}.00"
        store.accounts[code] = {"Account": code, "Name": f"A{i}", "Type": 6, "Status": "A"}
    accounts = client.list_accounts()
    assert len(accounts) == len(DEFAULT_ACCOUNTS) + 1203
    assert len({a.account for a in accounts}) == len(accounts)
    assert tenant.stats()["stats"]["route:accounts"] == 3  # 500 + 500 + 220


def test_missing_record_as_empty_array(
    start_tenant: Callable[..., Tenant], make_client: Callable[..., DeltekClient]
) -> None:
    t = start_tenant(missing_record="empty")
    c = make_client(target=t)
    assert c.find_batch("AMZ404") is None
    assert c.get_project("NOPE") is None


def test_wrong_base_url_is_not_absent(
    make_client: Callable[..., DeltekClient], tenant: Tenant
) -> None:
    c = make_client()
    c.base_url = tenant.base_url.replace("/vantagepoint/api", "/vantagepoint/api/v1")
    c.tokens._url = f"{tenant.base_url}/token"
    with pytest.raises(DeltekValidationError) as info:
        c.find_batch("AMZ1")
    assert info.value.status == 404


# ---- PostTransFile parsing ----------------------------------------------------------------------
def test_decode_post_response_variants() -> None:
    inner = (
        '{\r\n  "typeList": "CR|JE",\r\n  "batchList": "B1|B2",\r\n  "retList": "1|1"\r\n'
        '  "periodList": "202406|202406",\r\n  "postseqList": "194|195",\r\n'
        '  "msg": "x; 1 of 1 records posted"\r\n}'
    )
    doc = json.dumps(inner)
    data = decode_post_response(doc)  # double-encoded and missing a comma
    assert data["postseqList"] == "194|195"
    assert data["batchList"] == "B1|B2"
    plain = decode_post_response('{"batchList":"B","postseqList":"7"}')
    assert plain["postseqList"] == "7"
    with pytest.raises(DeltekResponseError):
        decode_post_response("<html>oops</html>")


def test_posting_failure_is_reported(client: DeltekClient) -> None:
    with pytest.raises((DeltekPostingError, DeltekValidationError), match="AMZ404"):
        client.post_batch("AMZ404", period=202606)


def test_money_goes_out_as_exact_numbers(client: DeltekClient, tenant: Tenant) -> None:
    client.write_batch(settlement_batch("AMZ16", sales="12345678.91", fees="0.07"))
    detail = tenant.sandbox.store.get_file("JE", "AMZ16")["detail"]
    amounts = sorted(d["DebitAmount"] + d["CreditAmount"] for d in detail)
    assert amounts == [Decimal("0.07"), Decimal("12345678.84"), Decimal("12345678.91")]


def test_custom_periods_sandbox(
    start_tenant: Callable[..., Tenant], make_client: Callable[..., DeltekClient]
) -> None:
    t = start_tenant(periods=monthly_periods(202511, 3, closed={202511, 202512}))
    c = make_client(target=t, closed_period_policy="next_open")
    assert c.resolve_period(date(2025, 11, 30)).period == 202601


def test_org_and_transaction_dates_reach_deltek(client: DeltekClient, tenant: Tenant) -> None:
    base = settlement_batch("AMZ17")
    clearing = base.lines[0].model_copy(
        update={"org": "A0.00.00", "transaction_date": date(2026, 6, 14)}
    )
    batch = base.model_copy(update={"lines": [clearing, *base.lines[1:]]})
    client.write_batch(batch)
    stored = tenant.sandbox.store.get_file("JE", "AMZ17")
    assert [m["TransDate"][:10] for m in stored["master"]] == ["2026-06-14", "2026-06-15"]
    assert len({m["RefNo"] for m in stored["master"]}) == 2
    client.post_batch("AMZ17", period=202606)
    posted = client.find_batch("AMZ17")
    assert posted is not None
    assert {ln.account: ln.org for ln in posted.lines} == {
        "1210.00": "A0.00.00",
        "4000.00": "A0.10.00",
        "6100.00": "A0.10.00",
    }


def test_org_that_contradicts_the_project_is_refused(client: DeltekClient) -> None:
    base = settlement_batch("AMZ18")
    sales = base.lines[1].model_copy(update={"org": "A0.00.00"})
    with pytest.raises(DeltekValidationError, match="does not match project"):
        client.write_batch(base.model_copy(update={"lines": [base.lines[0], sales, base.lines[2]]}))


def test_from_settings(tenant: Tenant) -> None:
    from pydantic import SecretStr

    from mlc_assets.config import DeltekSettings
    from mlc_assets.sandbox.deltek_app import (
        DEMO_CLIENT_ID,
        DEMO_CLIENT_SECRET,
        DEMO_DATABASE,
        DEMO_PASSWORD,
        DEMO_USERNAME,
    )

    with pytest.raises(ValueError, match=r"deltek\.database, deltek\.client_id"):
        DeltekClient.from_settings(DeltekSettings(base_url="https://x/api", username="u"))
    settings = DeltekSettings(
        base_url=tenant.base_url,
        database=DEMO_DATABASE,
        username=DEMO_USERNAME,
        password=SecretStr(DEMO_PASSWORD),
        client_id=DEMO_CLIENT_ID,
        client_secret=SecretStr(DEMO_CLIENT_SECRET),
        closed_period_policy="next_open",
    )
    with DeltekClient.from_settings(settings, retry=fx.FAST_TEST_POLICY) as c:
        assert c.closed_period_policy == "next_open"
        assert c.resolve_period(date(2026, 1, 2)).period == 202602
