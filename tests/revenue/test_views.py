"""The revenue dashboard: who may read it, what its filters do, and the CSV behind each chart."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import logged_in_client
from tests.factories import AccountFactory, SegmentFactory, UserFactory
from touchpoint.revenue import services
from touchpoint.revenue.models import ChurnReason
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db


def rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content if response.streaming else [response.content]).decode(
        "utf-8-sig"
    )
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def history(csm):
    """Two accounts in Enterprise (CSM's), one in SMB: A expands in Feb, B churns in March (Budget cut)."""
    enterprise, smb = SegmentFactory(name="Enterprise"), SegmentFactory(name="SMB")
    a = services.create_subscription(
        confirm=True,
        account=AccountFactory(segment=enterprise, owner=csm),
        product="Cloud",
        mrr=Decimal("1000"),
        started_on=date(2026, 1, 10),
    )
    b = services.create_subscription(
        confirm=True,
        account=AccountFactory(segment=enterprise, owner=csm),
        product="Cloud",
        mrr=Decimal("500"),
        started_on=date(2026, 1, 20),
    )
    services.create_subscription(
        confirm=True,
        account=AccountFactory(segment=smb),
        product="Cloud",
        mrr=Decimal("9000"),
        started_on=date(2026, 1, 2),
    )
    services.change_subscription(subscription=a, mrr=Decimal("1500"), occurred_on=date(2026, 2, 14))
    services.cancel_subscription(
        subscription=b, canceled_on=date(2026, 3, 3), churn_reason=ChurnReason.objects.get(name="Budget cut")
    )
    return enterprise


def test_every_role_reads_the_dashboard(history, csm, viewer):
    for user in (UserFactory(role=Role.CS_LEADER, email="lead@example.com"), csm, viewer):
        response = logged_in_client(user).get("/revenue/", {"start": "2026-01", "end": "2026-03"})
        assert response.status_code == 200
        assert "Gross and net revenue retention" in response.content.decode()


def test_anonymous_people_are_sent_to_log_in():
    response = Client().get("/revenue/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_filters_narrow_the_figures_and_the_csv_follows_them(history, csm):
    client = logged_in_client(csm)
    page = client.get(
        "/revenue/", {"start": "2026-01", "end": "2026-03", "segment": history.pk}
    ).content.decode()
    assert 'id="kpi-mrr">1,500' in page  # only the Enterprise accounts: A at 1500, B gone
    whole = client.get("/revenue/", {"start": "2026-01", "end": "2026-03"}).content.decode()
    assert 'id="kpi-mrr">10,500' in whole
    retention = rows(
        client.get(
            "/revenue/export/retention.csv", {"start": "2026-01", "end": "2026-03", "segment": history.pk}
        )
    )
    assert retention[0][0] == "Period"
    assert retention[2][:6] == ["2026-02", "2", "1500.00", "2000.00", "100.00", "133.33"]
    assert retention[3][4:] == ["75.00", "75.00", "25.00", "1", "50.00"]
    movements = rows(
        client.get("/revenue/export/movements.csv", {"start": "2026-03", "end": "2026-03", "owner": csm.pk})
    )
    assert movements[1] == ["2026-03", "2000.00", "0", "0", "0", "0", "-500.00", "1500.00"]
    reasons = rows(client.get("/revenue/export/reasons.csv", {"start": "2026-01", "end": "2026-03"}))
    assert reasons[1] == ["Budget cut", "1", "500.00", "0"]
    quarters = rows(
        client.get("/revenue/export/mrr.csv", {"start": "2026-01", "end": "2026-06", "period": "quarter"})
    )
    assert [row[0] for row in quarters[1:]] == ["2026-Q1", "2026-Q2"]
    assert client.get("/revenue/export/nothing.csv").status_code == 404


def test_bad_filters_are_shown_beside_the_field_and_the_page_still_answers(history, csm):
    response = logged_in_client(csm).get("/revenue/", {"start": "2026-13", "end": "2026-01", "segment": "x"})
    assert response.status_code == 200
    form = response.context["form"]
    assert "start" in form.errors and "segment" in form.errors
    reversed_range = logged_in_client(csm).get("/revenue/", {"start": "2026-05", "end": "2026-01"})
    assert "end" in reversed_range.context["form"].errors


def test_the_dashboard_reads_a_bounded_number_of_queries(history, csm, django_assert_max_num_queries):
    for _n in range(30):
        services.create_subscription(
            confirm=True,
            account=AccountFactory(),
            product="Cloud",
            mrr=Decimal("10"),
            started_on=timezone.localdate().replace(day=1),
        )
    client = logged_in_client(csm)
    # +2: the caller's role and whether CSMs read every book (reports cover what they may read).
    with django_assert_max_num_queries(17):
        assert client.get("/revenue/").status_code == 200


def test_admins_keep_the_churn_reasons_and_others_only_read(admin_user, csm):
    client = logged_in_client(admin_user)
    added = client.post(
        "/revenue/churn-reasons/",
        {"reason-new-name": "Merged with a customer", "reason-new-order": "20", "reason-new-is_active": "on"},
    )
    assert added.status_code == 302
    reason = ChurnReason.objects.get(name="Merged with a customer")
    duplicate = client.post(
        "/revenue/churn-reasons/", {"reason-new-name": "budget CUT", "reason-new-order": "1"}
    )
    assert (
        duplicate.status_code == 400
        and "There is already a reason with this name." in duplicate.content.decode()
    )
    client.post(
        "/revenue/churn-reasons/",
        {
            "reason": reason.pk,
            f"reason-{reason.pk}-name": "Acquired by a customer",
            f"reason-{reason.pk}-order": "20",
        },
    )
    reason.refresh_from_db()
    assert (reason.name, reason.is_active) == ("Acquired by a customer", False)  # unticked: no longer offered
    for malformed in ("1,234", "²"):
        assert client.post("/revenue/churn-reasons/", {"reason": malformed}).status_code == 400
    assert logged_in_client(csm).get("/revenue/churn-reasons/").status_code == 403
    assert logged_in_client(csm).post("/revenue/churn-reasons/", {"reason-new-name": "X"}).status_code == 403


def test_the_dashboard_compares_segments_and_owners_for_the_last_ended_period(history, csm):
    page = logged_in_client(csm).get("/revenue/", {"start": "2026-01", "end": "2026-03"})
    by_segment = dict(page.context["by_segment"])
    assert by_segment["Enterprise"].grr == 0.75 and by_segment["SMB"].closing_mrr == Decimal("9000")
    by_owner = dict(page.context["by_owner"])
    assert by_owner[str(csm.get_full_name())].logo_churn == 0.5
    assert 'id="by-segment"' in page.content.decode()
