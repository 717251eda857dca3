"""Reference data: the ERPs' accounts, projects and categories, checked against the mapping."""

import dagster as dg
import polars as pl

from mlc_assets.assets.common import API_RETRY, DUCKDB_POOL, OWNERS, fail_fast
from mlc_assets.domain.reference_check import deltek_problems, workday_problems
from mlc_assets.resources.erp import DeltekResource, WorkdayResource
from mlc_assets.resources.mapping import MappingResource
from mlc_assets.resources.warehouse import WarehouseResource
from mlc_assets.services.reference_data import read_deltek_reference, read_workday_reference

REFERENCE_TABLE = "erp_reference"
REFERENCE_SCHEMA: dict[str, pl.DataType] = {
    "target": pl.Utf8(),
    "kind": pl.Utf8(),
    "id": pl.Utf8(),
    "active": pl.Boolean(),
}


def _store(warehouse: WarehouseResource, target: str, items: dict[str, dict[str, bool]]) -> int:
    rows = [
        {"target": target, "kind": kind, "id": key, "active": active}
        for kind, values in items.items()
        for key, active in values.items()
    ]
    frame = pl.DataFrame(rows, schema=REFERENCE_SCHEMA)
    warehouse.get().replace_partition({REFERENCE_TABLE: frame}, key_column="target", key=target)
    return frame.height


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
    s = workday.settings().workday
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
        ref = read_workday_reference(client, supplier=supplier)
    count = _store(
        warehouse,
        "workday",
        {
            "ledger_account": ref.ledger_accounts,
            "spend_category": ref.spend_categories,
            "company": ref.companies,
        },
    )
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
        ref = read_deltek_reference(client)
    count = _store(
        warehouse,
        "deltek",
        {
            "account": ref.accounts,
            "project": {"/".join(k): v[0] for k, v in ref.projects.items()},
        },
    )
    return _result("deltek", count, deltek_problems(mapping.load(), ref))


REFERENCE_ASSETS = {"workday": workday_reference_data, "deltek": deltek_reference_data}
