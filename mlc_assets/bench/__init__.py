"""``mlc bench``: measured (not asserted) performance of the report path and of backfills."""
