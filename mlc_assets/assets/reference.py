"""Reference data: the ERPs' accounts, projects and categories, checked against the mapping."""

import dagster as dg

from mlc_assets.assets.common import API_RETRY, DUCKDB_POOL, OWNERS, fail_fast
from mlc_assets.domain.reference_check import deltek_problems, workday_problems
from mlc_assets.resources.erp import DeltekResource, WorkdayResource
from mlc_assets.resources.mapping import MappingResource
from mlc_assets.resources.warehouse import WarehouseResource
from mlc_assets.services.reference_data import fetch_deltek_reference, fetch_workday_reference
from mlc_assets.storage.reference import deltek_frame, store_reference, workday_frame


def _result(target: str, count: int, problems: list[str]) -> dg.MaterializeResult:
    return dg.MaterializeResult(
        metadata={"references": count, "problems": len(problems)},
        check_results=[
            dg.AssetCheckResult(
                check_name="mapping_references_exist",
                passed=not problems,
                description="\n".join(problems) or f"every mapped {target} reference is active",
                metadata={"problems": dg.MetadataValue.json(problems)},
            )
        ],
    )


def workday_settings_companies(workday: WorkdayResource) -> tuple[list[str], str | None]:
    s = workday.settings.get().workday
    companies = sorted({s.company, *s.company_by_currency.values()})
    supplier = s.supplier_id if s.posting_mode != "accounting_journal" else None
    return companies, supplier


@dg.asset(
    group_name="posting",
    kinds={"workday", "duckdb"},
    owners=OWNERS,
    pool=DUCKDB_POOL,
    retry_policy=API_RETRY,
    description=(
        "Workday's ledger accounts (Standard account set), spend categories, companies and "
        "the Amazon supplier. Workday is the source of truth for the GL structure; the "
        "check proves every reference the mapping uses exists and is active."
    ),
    check_specs=[
        dg.AssetCheckSpec(
            "mapping_references_exist",
            asset="workday_reference_data",
            blocking=True,
            description="Every account, spend category and company of the mapping is active.",
        )
    ],
)
@fail_fast
def workday_reference_data(
    warehouse: WarehouseResource, workday: WorkdayResource, mapping: MappingResource
) -> dg.MaterializeResult:
    companies, supplier = workday_settings_companies(workday)
    with workday.client() as client:
        ref = fetch_workday_reference(client, supplier=supplier)
    count = store_reference(warehouse.get(), "workday", workday_frame(ref, supplier=supplier))
    problems = workday_problems(mapping.load(), ref, companies=companies, supplier=supplier)
    return _result("workday", count, problems)


@dg.asset(
    group_name="posting",
    kinds={"deltek", "duckdb"},
    owners=OWNERS,
    pool=DUCKDB_POOL,
    retry_policy=API_RETRY,
    description=(
        "Deltek's GL accounts and projects (WBS1/2/3). Deltek is the system of record; the "
        "check proves every account and project the mapping uses exists, is active and is "
        "chargeable (lowest level)."
    ),
    check_specs=[
        dg.AssetCheckSpec(
            "mapping_references_exist",
            asset="deltek_reference_data",
            blocking=True,
            description="Every Deltek account and project the mapping uses is active.",
        )
    ],
)
@fail_fast
def deltek_reference_data(
    warehouse: WarehouseResource, deltek: DeltekResource, mapping: MappingResource
) -> dg.MaterializeResult:
    with deltek.client() as (client, _):
        ref = fetch_deltek_reference(client)
    count = store_reference(warehouse.get(), "deltek", deltek_frame(ref))
    return _result("deltek", count, deltek_problems(mapping.load(), ref))


REFERENCE_ASSETS = {"workday": workday_reference_data, "deltek": deltek_reference_data}
