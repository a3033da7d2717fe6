import datetime
import io

import pytest

from tests.factories import AccountFactory, ProductFactory, SegmentFactory, TierFactory

TODAY = datetime.date(2026, 12, 15)


@pytest.fixture
def book(rm):
    """Two accounts and two products, as the positions files below name them."""
    SegmentFactory(name="Commercial")
    TierFactory(code="A")
    return {
        "accounts": [
            AccountFactory(owner=rm, number="CB1001"),
            AccountFactory(owner=rm, number="CB1002"),
        ],
        "products": [ProductFactory(code="LOAN"), ProductFactory(code="DDA")],
    }


def csv_file(text: str, encoding: str = "utf-8") -> io.BytesIO:
    return io.BytesIO(text.encode(encoding))
