"""ml-connector: Amazon settlements to ERP journals, as a Dagster code location."""
