"""Use cases that combine clients, storage and domain logic, without Dagster.

Dagster assets and the CLI call these, so the exactly-once and discovery rules are written
once and tested without an orchestrator.
"""
