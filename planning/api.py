"""planning over the REST API (docs/api.md)."""

ROUTES = []
