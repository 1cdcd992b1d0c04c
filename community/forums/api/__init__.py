"""Forum REST API under /api/v1/forums/, one module per area."""
