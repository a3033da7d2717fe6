import pytest

from org.models import Role

from .factories import (
    AccountFactory,
    AdminFactory,
    ExecutiveFactory,
    RmFactory,
    TeamFactory,
    UserFactory,
)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Tests that flush the database (transactional ones, the browser's live server) run
    after every test that relies on what the migrations wrote (the metric catalogue, risk
    factors, job schedules). pytest-django orders them so, but pytest then regroups tests
    parametrized at session scope (Playwright's browser) and can pull the browser tests to
    the front; this stable sort, run last, puts them back at the end."""

    def flushes(item) -> bool:
        marker = item.get_closest_marker("django_db")
        if marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")):
            return True
        return bool({"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())))

    items.sort(key=flushes)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness only slows the suite; the hasher is not under test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def team(db):
    return TeamFactory(name="North", leader=UserFactory(username="leader_north", role=Role.LEADER))


@pytest.fixture
def leader(team):
    return team.leader


@pytest.fixture
def rm(team):
    return RmFactory(username="rm_north", team=team)


@pytest.fixture
def teammate(team):
    """An RM of the same team who neither owns nor covers `account`."""
    return RmFactory(username="rm_north_2", team=team)


@pytest.fixture
def other_team(db):
    return TeamFactory(name="South", leader=UserFactory(username="leader_south", role=Role.LEADER))


@pytest.fixture
def other_leader(other_team):
    return other_team.leader


@pytest.fixture
def other_rm(other_team):
    return RmFactory(username="rm_south", team=other_team)


@pytest.fixture
def executive(db):
    return ExecutiveFactory(username="exec")


@pytest.fixture
def administrator(db):
    return AdminFactory(username="backoffice")


@pytest.fixture
def account(rm):
    return AccountFactory(owner=rm)
