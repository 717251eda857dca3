"""clients layer (see docs/architecture.md: imports point downwards only)."""
