"""What every API test shares: a fresh throttle count and a logged-in client."""

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    # Throttle counts live in the cache; every test starts with none spent.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api(client):
    """A logged-in JSON client: `api(user)` logs `user` in and returns the client."""

    def login(user):
        client.force_login(user)
        return client

    return login
