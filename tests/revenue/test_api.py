"""Subscriptions and revenue metrics over the REST API: services behind it, 4xx naming the field, never a 500."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Api
from tests.factories import AccountFactory, SegmentFactory
from touchpoint.revenue import services
from touchpoint.revenue.models import ChurnReason, MovementKind, MrrMovement, Subscription

pytestmark = pytest.mark.django_db


def fields(response) -> list[str]:
    return [error["field"] for error in response.json()["errors"]]


def test_create_change_cancel_a_subscription_records_its_movements(api, account):
    values = {
        "account": account.pk,
        "product": "Cloud",
        "plan": "Team",
        "mrr": "1000.00",
        "quantity": 10,
        "started_on": "2026-01-05",
        "renewal_date": "2027-01-05",
        "external_id": "sub_1",
    }
    # The account was created today: a start eleven months ago asks for confirmation first.
    asked = api.send("post", "/subscriptions", values)
    assert asked.status_code == 409
    assert [(e["field"], e["code"]) for e in asked.json()["errors"]] == [
        ("started_on", "start_before_account")
    ]
    assert not Subscription.objects.exists()
    created = api.send("post", "/subscriptions", {**values, "confirm": ["start_before_account"]})
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["mrr"], body["arr"], body["status"], body["account"]["id"]) == (
        "1000.00",
        "12000.00",
        "active",
        account.pk,
    )
    reason = ChurnReason.objects.get(name="Budget cut")
    changed = api.send(
        "patch",
        f"/subscriptions/{body['id']}",
        {
            "mrr": "800",
            "quantity": 8,
            "occurred_on": "2026-03-01",
            "churn_reason": reason.pk,
            "note": "Fewer seats",
        },
    )
    assert changed.status_code == 200, changed.json()
    assert changed.json()["quantity"] == 8
    canceled = api.send(
        "post",
        f"/subscriptions/{body['id']}/cancel",
        {"canceled_on": "2026-06-30", "churn_reason": reason.pk},
    )
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    kinds = list(
        MrrMovement.objects.order_by("occurred_on").values_list("kind", "delta", "churn_reason__name")
    )
    assert kinds == [
        (MovementKind.NEW, Decimal("1000"), None),
        (MovementKind.CONTRACTION, Decimal("-200"), "Budget cut"),
        (MovementKind.CHURN, Decimal("-800"), "Budget cut"),
    ]
    listed = api.get("/subscriptions", account=account.pk)
    assert listed.json()["count"] == 1 and listed.json()["items"][0]["external_id"] == "sub_1"
    assert api.get("/subscriptions", status="active").json()["count"] == 0


def test_bad_input_names_the_field(api, account):
    def post(body):
        return api.send(
            "post",
            "/subscriptions",
            {
                "account": account.pk,
                "product": "Cloud",
                "mrr": "10",
                "started_on": "2026-01-01",
                "confirm": True,
                **body,
            },
        )

    assert fields(post({"mrr": "-5"})) == ["mrr"]
    assert fields(post({"account": 999999})) == ["account"]
    assert fields(post({"started_on": "yesterday"})) == ["started_on"]
    assert fields(post({"color": "red"})) == ["color"]
    assert fields(post({"status": "canceled"})) == ["status"]
    assert post({"external_id": "dup"}).status_code == 201
    duplicate = post({"external_id": "dup"})
    assert duplicate.status_code in (409, 422) and fields(duplicate) == ["external_id"]
    subscription = Subscription.objects.first()
    assert fields(api.send("patch", f"/subscriptions/{subscription.pk}", {"churn_reason": 424242})) == [
        "churn_reason"
    ]
    assert fields(api.send("patch", f"/subscriptions/{subscription.pk}", {"mrr": None})) == ["mrr"]
    assert api.send("patch", "/subscriptions/999999", {"plan": "X"}).status_code == 404
    bad_json = api.send("post", "/subscriptions", raw="{not json")
    assert bad_json.status_code == 400 and bad_json.json()["detail"]


def test_viewers_read_but_cannot_write(viewer_api, account):
    subscription = services.create_subscription(
        confirm=True, account=account, product="Cloud", mrr=Decimal("100"), started_on=date(2026, 1, 1)
    )
    assert viewer_api.get("/subscriptions").status_code == 200
    assert viewer_api.get("/metrics/revenue").status_code == 200
    denied = viewer_api.send("patch", f"/subscriptions/{subscription.pk}", {"mrr": "50"})
    assert denied.status_code == 403
    assert viewer_api.send("post", f"/subscriptions/{subscription.pk}/cancel", {}).status_code == 403
    assert Subscription.objects.get().mrr == Decimal("100")


def test_no_key_is_401():
    assert Api(None).get("/metrics/revenue").status_code == 401


def test_revenue_metrics_by_month_and_quarter_for_a_segment(api, csm):
    """By hand: in the segment, A 1000 (Jan) expands to 1500 (Feb); B 500 (Jan) churns in March.
    February: cohort A+B 1500 → 2000: NRR 1.3333, GRR 1. March: 2000 → 1500: GRR = NRR = 0.75, logo churn 1/2."""
    enterprise = SegmentFactory(name="Enterprise")
    first = AccountFactory(segment=enterprise, owner=csm)
    second = AccountFactory(segment=enterprise, owner=csm)
    elsewhere = AccountFactory(segment=SegmentFactory(name="SMB"))
    a = services.create_subscription(
        confirm=True, account=first, product="Cloud", mrr=Decimal("1000"), started_on=date(2026, 1, 10)
    )
    b = services.create_subscription(
        confirm=True, account=second, product="Cloud", mrr=Decimal("500"), started_on=date(2026, 1, 20)
    )
    services.create_subscription(
        confirm=True, account=elsewhere, product="Cloud", mrr=Decimal("9999"), started_on=date(2026, 1, 2)
    )
    services.change_subscription(subscription=a, mrr=Decimal("1500"), occurred_on=date(2026, 2, 14))
    services.cancel_subscription(
        subscription=b, canceled_on=date(2026, 3, 3), churn_reason=ChurnReason.objects.get(name="Budget cut")
    )
    response = api.get("/metrics/revenue", **{"from": "2026-01", "to": "2026-03", "segment": enterprise.pk})
    assert response.status_code == 200, response.json()
    jan, feb, mar = response.json()["periods"]
    assert [p["period"] for p in (jan, feb, mar)] == ["2026-01", "2026-02", "2026-03"]
    assert (jan["mrr"], jan["grr"], jan["movements"]["new"]) == ("1500.00", None, "1500.00")
    assert (feb["mrr"], feb["arr"], round(feb["nrr"], 4), feb["grr"]) == ("2000.00", "24000.00", 1.3333, 1.0)
    assert (mar["mrr"], mar["grr"], mar["nrr"], mar["logo_churn"]) == ("1500.00", 0.75, 0.75, 0.5)
    assert response.json()["churn_by_reason"][0]["reason"] == "Budget cut"
    quarter = api.get(
        "/metrics/revenue", **{"from": "2026-01", "to": "2026-03", "period": "quarter", "owner": csm.pk}
    ).json()["periods"]
    assert [(q["period"], q["mrr"], q["grr"]) for q in quarter] == [("2026-Q1", "1500.00", None)]
    by_segment = api.get(
        "/metrics/revenue", **{"from": "2026-03", "to": "2026-03", "group_by": "segment"}
    ).json()
    assert {name: group[0]["mrr"] for name, group in by_segment["groups"].items()} == {
        "Enterprise": "1500.00",
        "SMB": "9999.00",
    }
    assert by_segment["groups"]["Enterprise"][0]["logo_churn"] == 0.5


def test_revenue_metrics_bad_parameters_name_them(api):
    assert fields(api.get("/metrics/revenue", **{"from": "March"})) == ["from"]
    assert fields(api.get("/metrics/revenue", **{"from": "2026-05", "to": "2026-01"})) == ["from"]
    assert fields(api.get("/metrics/revenue", to="2026-13")) == ["to"]
    assert fields(api.get("/metrics/revenue", period="week")) == ["period"]
    assert fields(api.get("/metrics/revenue", segment=987654)) == ["segment"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.dictionaries(
        st.sampled_from(
            [
                "account",
                "product",
                "mrr",
                "started_on",
                "quantity",
                "status",
                "currency",
                "term_months",
                "renewal_date",
                "x",
            ]
        ),
        st.one_of(
            st.none(),
            st.integers(-10, 10**12),
            st.text(max_size=12),
            st.booleans(),
            st.floats(allow_nan=True),
        ),
    )
)
def test_any_body_gets_an_answer_not_a_500(api, body):
    assert api.send("post", "/subscriptions", body).status_code < 500


def test_renewals_and_the_forecast_over_the_api(api, account):
    from datetime import timedelta

    from django.utils import timezone

    today = timezone.localdate()
    services.create_subscription(
        confirm=True,
        account=account,
        product="Cloud",
        mrr=Decimal("100"),
        started_on=today - timedelta(days=300),
        renewal_date=today + timedelta(days=20),
    )
    due = api.get("/renewals", days=30).json()
    assert due["count"] == 1 and due["items"][0]["arr"] == "1200.00" and due["items"][0]["risk"] == "low"
    assert api.get("/renewals", days=10).json()["count"] == 0
    assert fields(api.get("/renewals", days=0)) == ["days"]
    outlook = api.get("/renewals/forecast").json()
    assert len(outlook["past"]) == 12 and len(outlook["coming"]) == 12
    assert sum(float(m["due_arr"]) for m in outlook["coming"]) == 1200.0
