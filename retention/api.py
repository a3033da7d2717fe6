"""retention over the REST API (docs/api.md)."""

ROUTES = []
