"""One definition per figure (issue 13): each figure of the demo bank reads the same on
every screen that shows it.

For one RM (rm1), their team (Northgate Small Business, leader1) and the bank (exec1), each
figure is read for the same scope, metric and period from every place it appears, as the
user who would see it: the response's context, the API's JSON and the CSV exports (numbers
parsed back, never formatted text compared), and held against the one function that
defines it (docs/metrics.md, "Where each figure appears"):

- plan versus actual (growth, retention, activities per week, forecast accuracy):
  `planning.selectors.variances.rm_plan_versus_actual` for an RM, the stored rows
  (`scope_plan_versus_actual`) for a team and the bank;
- retention per tier on the Retention page: `planning.selectors.retention.scope_retention`,
  equal to the stored rows;
- the RB score: the report card's board (`coaching.selectors.report_card`);
- product mix: `planning.selectors.product_mix.rm_product_mix`;
- activities of the last four weeks on the overviews: `org.selectors`.

The demo bank is seeded once for the module (as of today, the day the pages read) and
wiped after it; each test runs in a transaction that is rolled back.
"""

import csv
import datetime
import io
import re
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from coaching.models import CheckIn
from org.demo import seed_demo, wipe_demo_bank
from org.models import Team, User
from planning.models import Scope, Variance
from planning.selectors.common import current_plan_year
from planning.selectors.variances import rm_plan_versus_actual, scope_plan_versus_actual

pytestmark = pytest.mark.django_db

TEAM = "Northgate Small Business"
# The figures a scorecard, the sign-off and the API all carry.
PLAN_METRICS = (
    "loan_growth",
    "deposit_growth",
    "tier_a_retention",
    "retention",
    "activities_per_week",
    "forecast_accuracy",
)


@pytest.fixture(scope="module")
def demo_bank(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        summary = seed_demo(as_of=timezone.localdate(), seed=1)
    yield summary
    with django_db_blocker.unblock(), transaction.atomic():
        wipe_demo_bank()


@pytest.fixture
def plan_year(demo_bank):
    return current_plan_year()


@pytest.fixture
def rm1(demo_bank):
    return User.objects.get(username="rm1")


@pytest.fixture
def team(demo_bank):
    return Team.objects.get(name=TEAM)


def client_of(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def number(value) -> Decimal | None:
    """A figure as a screen or an export wrote it, back to a number: whatever the
    formatting layer does to minus signs, separators and units."""
    if value is None:
        return None
    text = str(value).strip().replace("\u2212", "-").replace("\u00a0", "").replace(",", "")
    text = re.sub(r"[^0-9.\-]", "", text)
    return Decimal(text) if text not in ("", "-", ".") else None


def same(a, b) -> bool:
    return number(a) == number(b)


def figures(lines, *, attr=False) -> dict[str, tuple]:
    """{metric code: (planned, actual)} of plan-versus-actual lines (objects or JSON)."""
    out = {}
    for line in lines:
        if attr:
            out[line.metric.code] = (number(line.planned), number(line.actual))
        else:
            out[line["metric"]] = (number(line["planned"]), number(line["actual"]))
    return out


def api_figures(client: Client, **params) -> dict[str, tuple]:
    """The API's stored rows for one scope and period: {metric: (planned, actual)}."""
    rows, url = [], reverse("api:variance-list")
    params = {"page_size": 100, **params}
    while url:
        answer = client.get(url, params)
        assert answer.status_code == 200, answer.content[:300]
        body = answer.json()
        rows += body["results"]
        url, params = body.get("next"), {}
    keys = {(r["scope"], r["period"], r["period_start"], r["period_end"]) for r in rows}
    assert len(keys) == 1, f"one scope and period expected, got {keys}"
    return figures(rows)


def csv_rows(answer) -> list[dict]:
    assert answer.status_code == 200
    text = b"".join(answer.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def open_weekly_checkin(rm: User, plan_year) -> CheckIn:
    """The RM's latest weekly check-in of the plan year not completed yet: its figures are
    computed as the page opens (a completed one shows what it froze then)."""
    checkin = (
        CheckIn.objects.filter(rm=rm, kind=CheckIn.Kind.WEEKLY)
        .exclude(status=CheckIn.Status.COMPLETED)
        .filter(period_start__gte=plan_year.starts_on, period_start__lte=plan_year.ends_on)
        .order_by("-period_start")
        .first()
    )
    assert checkin is not None, f"the demo has an open weekly check-in of {rm.username}"
    return checkin


def assert_equal_everywhere(places: dict[str, dict], codes) -> None:
    """Every place shows the same (planned, actual) for each metric it shows."""
    reference_name, reference = next(iter(places.items()))
    for code in codes:
        assert code in reference, f"{reference_name} has no {code}"
        for name, shown in places.items():
            if code in shown:
                print(f"{code}: {name} {shown[code]}")
                assert shown[code] == reference[code], (
                    f"{code}: {reference_name} {reference[code]} but {name} {shown[code]}"
                )


# --- the RM: rm1, year to date at the closed month ---------------------------------------------


def test_an_rms_stored_figures_are_the_ones_the_live_formula_computes(rm1, plan_year):
    stored = rm_plan_versus_actual(rm1, plan_year=plan_year, period="ytd")
    assert stored.source == "stored"
    Variance.objects.filter(scope=Scope.RM, rm=rm1, plan_year=plan_year).delete()
    live = rm_plan_versus_actual(rm1, plan_year=plan_year, period="ytd")
    assert live.source == "live"
    assert figures(live.lines, attr=True) == figures(stored.lines, attr=True)


@pytest.mark.parametrize("period", ["month", "quarter", "ytd"])
def test_an_rms_figures_are_the_same_in_the_api_as_in_the_one_definition(rm1, plan_year, period):
    pva = rm_plan_versus_actual(rm1, plan_year=plan_year, period=period)
    places = {
        "rm_plan_versus_actual": figures(pva.lines, attr=True),
        "API as rm1": api_figures(
            client_of("rm1"),
            plan_year=plan_year.year,
            scope="rm",
            rm=rm1.pk,
            period=period,
            month=pva.as_of.isoformat(),
        ),
        "API as leader1": api_figures(
            client_of("leader1"),
            plan_year=plan_year.year,
            scope="rm",
            rm=rm1.pk,
            period=period,
            month=pva.as_of.isoformat(),
        ),
    }
    assert_equal_everywhere(places, PLAN_METRICS)


def _compensation_lines(client: Client, rm: User) -> dict[str, tuple]:
    answer = client.get(reverse("coaching:compensation"))
    assert answer.status_code == 200
    row = next(r for r in answer.context["view"].rows if r.rm.pk == rm.pk)
    return {p.metric.code: (number(p.planned), number(p.actual)) for p in row.product_lines}


def test_compensation_works_from_the_rms_own_year_to_date_figures(rm1, plan_year):
    pva = rm_plan_versus_actual(rm1, plan_year=plan_year, period="ytd")
    assert_equal_everywhere(
        {
            "rm_plan_versus_actual": figures(pva.lines, attr=True),
            "compensation as rm1": _compensation_lines(client_of("rm1"), rm1),
            "compensation as leader1": _compensation_lines(client_of("leader1"), rm1),
            "compensation as exec1": _compensation_lines(client_of("exec1"), rm1),
        },
        PLAN_METRICS,
    )


def test_the_weekly_check_in_shows_the_rms_year_to_date_figures(rm1, plan_year):
    checkin = open_weekly_checkin(rm1, plan_year)
    pva = rm_plan_versus_actual(rm1, plan_year=plan_year, period="ytd")
    shown = {}
    for who in ("rm1", "leader1"):
        answer = client_of(who).get(reverse("coaching:checkin", args=[checkin.pk]))
        assert answer.status_code == 200
        plan = answer.context["figures"]["plan"]
        assert (plan["period"], plan["period_end"]) == ("ytd", pva.period_end.isoformat())
        shown[f"check-in as {who}"] = figures(plan["lines"])
    assert_equal_everywhere(
        {"rm_plan_versus_actual": figures(pva.lines, attr=True), **shown}, PLAN_METRICS
    )


def test_every_rm_of_the_team_has_their_own_figures_and_rb_score_on_compensation(team, plan_year):
    client = client_of("leader1")
    rows = client.get(reverse("coaching:compensation")).context["view"].rows
    team_card = client.get(reverse("coaching:team_report_card", args=[team.pk])).context["card"]
    scores = {line.subject.pk: line.ytd for line in team_card.lines}
    assert {row.rm.pk for row in rows} >= set(scores)
    for row in rows:
        pva = rm_plan_versus_actual(row.rm, plan_year=plan_year, period="ytd")
        shown = {p.metric.code: (number(p.planned), number(p.actual)) for p in row.product_lines}
        assert shown == figures(pva.lines, attr=True), row.rm.username
        if row.rm.pk in scores:
            assert row.rb_score == scores[row.rm.pk], row.rm.username


@pytest.mark.parametrize("kind", [CheckIn.Kind.MONTHLY, CheckIn.Kind.QUARTERLY])
def test_a_monthly_or_quarterly_check_in_shows_the_figures_of_the_period_it_reviews(
    kind, plan_year
):
    checkin = (
        CheckIn.objects.filter(kind=kind, rm__team__name=TEAM)
        .exclude(status=CheckIn.Status.COMPLETED)
        .filter(period_end__gte=plan_year.starts_on, period_end__lte=plan_year.ends_on)
        .select_related("rm", "leader")
        .order_by("-period_start")
        .first()
    )
    assert checkin is not None, f"the demo has an open {kind} check-in in {TEAM}"
    answer = client_of("leader1").get(reverse("coaching:checkin", args=[checkin.pk]))
    assert answer.status_code == 200
    plan = answer.context["figures"]["plan"]
    assert plan["available"]
    pva = rm_plan_versus_actual(
        checkin.rm,
        plan_year=plan_year,
        period=plan["period"],
        month=datetime.date.fromisoformat(plan["month"]),
    )
    assert plan["period_end"] == pva.period_end.isoformat()
    assert_equal_everywhere(
        {
            "rm_plan_versus_actual": figures(pva.lines, attr=True),
            "check-in": figures(plan["lines"]),
        },
        PLAN_METRICS,
    )


def test_the_rms_product_mix_is_the_same_on_my_week_the_check_in_and_the_api(rm1, plan_year):
    week = client_of("rm1").get(reverse("accounts:my_week"))
    assert week.status_code == 200
    mix = week.context["product_mix"]
    assert mix.actual is not None
    checkin = open_weekly_checkin(rm1, plan_year)
    page = client_of("rm1").get(reverse("coaching:checkin", args=[checkin.pk]))
    shown = page.context["figures"]["product_mix"]
    api = api_figures(
        client_of("rm1"),
        plan_year=plan_year.year,
        scope="rm",
        rm=rm1.pk,
        period="ytd",
        month=mix.period_end.replace(day=1).isoformat(),
        metric="product_mix_share",
    )
    assert number(shown["actual"]) == mix.actual
    assert api["product_mix_share"][1] == mix.actual


def test_the_rms_rb_score_is_the_same_on_the_report_card_the_team_card_and_compensation(
    rm1, team, plan_year
):
    card = client_of("rm1").get(reverse("coaching:report_card")).context["card"]
    team_card = (
        client_of("leader1")
        .get(reverse("coaching:team_report_card", args=[team.pk]))
        .context["card"]
    )
    team_line = next(line for line in team_card.lines if line.subject.pk == rm1.pk)
    compensation = client_of("rm1").get(reverse("coaching:compensation")).context["view"]
    row = next(r for r in compensation.rows if r.rm.pk == rm1.pk)
    exported = next(
        r
        for r in csv_rows(
            client_of("leader1").get(reverse("coaching:compensation"), {"format": "csv"})
        )
        if r["Username"] == "rm1"
    )
    assert card.ytd_score is not None
    assert team_line.ytd == card.ytd_score
    assert row.rb_score == card.ytd_score
    assert number(exported["RB score YTD %"]) == card.ytd_score
    assert number(exported["Product attainment %"]) == row.product
    assert number(exported["Combined %"]) == row.combined


# --- the team: Northgate Small Business, as leader1 --------------------------------------------


@pytest.mark.parametrize("period", ["month", "quarter", "ytd"])
def test_the_teams_and_the_banks_figures_are_the_same_in_the_api_as_stored(team, plan_year, period):
    for scope, who, of_team in (("team", "leader1", team), ("bank", "exec1", None)):
        stored = scope_plan_versus_actual(plan_year=plan_year, team=of_team, period=period)
        assert stored.lines
        api = api_figures(
            client_of(who),
            plan_year=plan_year.year,
            scope=scope,
            **({"team": team.pk} if of_team else {}),
            period=period,
            month=stored.as_of.isoformat(),
        )
        assert_equal_everywhere(
            {f"stored {scope} rows": figures(stored.lines, attr=True), f"API as {who}": api},
            PLAN_METRICS,
        )


def _retention_page(username: str):
    answer = client_of(username).get(reverse("retention:retention"))
    assert answer.status_code == 200
    shown = answer.context["retention"]
    tier_a = next(t for t in shown.tiers if t.tier.code == "A")
    return tier_a.retention_pct, shown.retention_pct, shown.attrition_pct


@pytest.mark.parametrize("who", ["leader1", "exec1"])
def test_retention_on_the_retention_page_is_the_stored_year_to_date_retention(who, team, plan_year):
    stored = scope_plan_versus_actual(
        plan_year=plan_year, team=team if who == "leader1" else None, period="ytd"
    )
    tier_a, overall, attrition = _retention_page(who)
    assert tier_a == stored.line("tier_a_retention").actual
    assert overall == stored.line("retention").actual
    assert attrition == 100 - overall


def test_the_team_overviews_activities_add_up_to_the_teams_line_on_the_bank_overview(team):
    team_page = client_of("leader1").get(reverse("org:team", args=[team.pk]))
    bank_page = client_of("exec1").get(reverse("org:bank"))
    assert team_page.status_code == bank_page.status_code == 200
    team_line = next(line for line in bank_page.context["lines"] if line.subject.pk == team.pk)
    rms = team_page.context["lines"]
    assert sum(line.activities_4w for line in rms) == team_line.activities_4w
    assert sum(line.balances.loan for line in rms) == team_line.balances.loan
    assert sum(line.balances.deposit for line in rms) == team_line.balances.deposit
    assert sum(line.accounts for line in rms) == team_line.accounts


def test_the_teams_rb_score_is_the_same_on_its_card_and_the_banks_card(team):
    team_card = (
        client_of("leader1")
        .get(reverse("coaching:team_report_card", args=[team.pk]))
        .context["card"]
    )
    bank_card = client_of("exec1").get(reverse("coaching:bank_report_card")).context["card"]
    line = next(line for line in bank_card.lines if line.subject.pk == team.pk)
    assert team_card.total.ytd is not None
    assert (line.ytd, line.score) == (team_card.total.ytd, team_card.total.score)


# --- the bank, as exec1 -------------------------------------------------------------------------


def test_the_banks_figures_are_the_same_on_the_sign_off_its_export_and_the_api(plan_year):
    stored = scope_plan_versus_actual(plan_year=plan_year, period="ytd")
    client = client_of("exec1")
    dashboard = client.get(reverse("planning:signoff"))
    assert dashboard.status_code == 200
    by_name = {line.metric.name: line.metric.code for line in stored.lines}
    signoff = {
        by_name[line.metric_name]: (number(line.planned), number(line.actual))
        for line in dashboard.context["bank_lines"]
    }
    assert {line.source for line in dashboard.context["bank_lines"]} == {"stored"}
    exported = {
        by_name[row["Metric"]]: (number(row["Planned to date"]), number(row["Actual"]))
        for row in csv_rows(client.get(reverse("planning:signoff"), {"format": "csv"}))
    }
    api = api_figures(
        client,
        plan_year=plan_year.year,
        scope="bank",
        period="ytd",
        month=stored.as_of.isoformat(),
    )
    assert_equal_everywhere(
        {
            "stored bank rows": figures(stored.lines, attr=True),
            "sign-off": signoff,
            "sign-off CSV": exported,
            "API as exec1": api,
        },
        [code for code in PLAN_METRICS if code in signoff],
    )


def test_the_bank_overviews_activities_are_its_teams_and_its_rms_without_a_team():
    page = client_of("exec1").get(reverse("org:bank"))
    activities = page.context["activities"]
    assert activities.teams == sum(line.activities_4w for line in page.context["lines"])
    assert activities.rms == activities.teams + activities.rms_without_team
