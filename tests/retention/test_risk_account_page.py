"""The account page shows the account's latest attrition risk and its reasons."""

import datetime

import pytest

from tests.factories import RiskScoreFactory

pytestmark = pytest.mark.django_db


def test_rm_sees_the_latest_risk_score_and_reasons_on_their_account(client, rm, account):
    RiskScoreFactory(account=account, scored_on=datetime.date(2027, 3, 9), score=15, reasons=[])
    RiskScoreFactory(
        account=account,
        scored_on=datetime.date(2027, 3, 10),
        score=35,
        reasons=[
            {
                "code": "no_contact",
                "points": 20,
                "detail": "no contact for 74 days (tier B allows 60)",
            },
            {"code": "contract_expiry", "points": 15, "detail": "contract ends <14 Mar 2027>"},
        ],
    )
    client.force_login(rm)
    response = client.get(account.get_absolute_url())
    assert response.context["risk"].score == 35
    assert "no contact for 74 days (tier B allows 60)" in response.text
    assert "contract ends &lt;14 Mar 2027&gt;" in response.text
    assert "scored 10 Mar 2027" in response.text


def test_account_never_scored_shows_no_risk_section(client, rm, account):
    client.force_login(rm)
    response = client.get(account.get_absolute_url())
    assert response.context["risk"] is None
    assert 'id="attrition-risk"' not in response.text
