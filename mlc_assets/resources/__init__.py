"""resources layer (see ARCHITECTURE.md: imports point downwards only)."""
