"""Browser tests: Playwright drives Debian's Chromium (never a browser download of its own)
against Django's live server."""

import os
import shutil

import pytest

CHROMIUM = os.environ.get("FLIGHTPATH_CHROMIUM", "/usr/bin/chromium")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session", autouse=True)
def _playwright_runs_beside_django():
    # Playwright's sync API keeps an event loop on the test's thread; the ORM calls the
    # tests make there are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package.")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1366, "height": 900}}


@pytest.fixture(autouse=True)
def _metric_catalogue(transactional_db):
    # Each browser test flushes the database after it (the live server needs committed
    # rows), and with it the metric catalogue the migrations wrote; the next one needs it.
    from planning.demo import ensure_metric_catalogue

    ensure_metric_catalogue()
