"""The support pages, the account panel and header fact, the health measure and the readiness KPIs."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests.conftest import logged_in_client
from tests.factories import AccountFactory
from tests.support.conftest import ticket_data
from touchpoint.health.measures import AsOf, get_measure, measured_sql
from touchpoint.readiness.kpis import KpiContext, kpis
from touchpoint.support import services

pytestmark = pytest.mark.django_db


def _tickets(account, count: int, **changes):
    now = timezone.now()
    made = []
    for n in range(count):
        opened = now - timedelta(hours=3 + n)
        ticket, _o = services.upsert_ticket(
            data=ticket_data(external_id=f"p{n}", opened_at=opened, updated_at=opened, **changes),
            account=account,
            actor=None,
        )
        made.append(ticket)
    return made


def test_the_support_page_reads_in_a_bounded_number_of_queries(
    admin_user, big_account, policy, csm, django_assert_max_num_queries
):
    _tickets(big_account, 3)
    _tickets(AccountFactory(owner=csm), 8, priority="high")
    client = logged_in_client(admin_user)
    with django_assert_max_num_queries(25):
        response = client.get("/support/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Login fails" in body and 'id="recent-breaches"' in body
    assert client.get("/support/?months=12").status_code == 200


def test_a_csm_sees_only_their_books_tickets(csm, big_account, policy, own_books_only):
    _tickets(big_account, 1)
    theirs = AccountFactory(name="Other Co")
    services.upsert_ticket(
        data=ticket_data(external_id="x", subject="Secret trouble"), account=theirs, actor=None
    )
    body = logged_in_client(csm).get("/support/").content.decode()
    assert "Login fails" in body and "Secret trouble" not in body


def test_the_account_panel_and_header_fact(csm, big_account, policy, django_assert_max_num_queries):
    _tickets(big_account, 2)
    client = logged_in_client(csm)
    with django_assert_max_num_queries(12):
        panel = client.get(f"/accounts/{big_account.pk}/support/")
    assert panel.status_code == 200 and 'id="account-tickets"' in panel.content.decode()
    page = client.get(f"/accounts/{big_account.pk}/").content.decode()
    assert 'id="open-tickets-fact"' in page


def test_the_ticket_page(csm, big_account, policy):
    ticket = _tickets(big_account, 1)[0]
    body = logged_in_client(csm).get(f"/support/tickets/{ticket.pk}/").content.decode()
    assert 'id="ticket-breaches"' in body and "Enterprise" in body


def test_settings_forms_show_errors_beside_the_field(admin_user, calendar):
    client = logged_in_client(admin_user)
    assert client.get("/support/settings/").status_code == 200
    response = client.post("/support/settings/", {"action": "source", "key": "Bad Key!", "kind": "zendesk"})
    assert response.status_code == 422 and 'id="id_key-error"' in response.content.decode()
    response = client.post(
        "/support/settings/",
        {
            "action": "calendar",
            "name": "X",
            "time_zone": "Mars/Base",
            "working_days": ["0"],
            "opens_at": "09:00",
            "closes_at": "17:00",
            "holidays": "",
        },
    )
    assert response.status_code == 422 and 'id="id_time_zone-error"' in response.content.decode()
    response = client.post(
        "/support/settings/",
        {
            "action": "policy",
            "name": "Default",
            "segment": "",
            "calendar": calendar.pk,
            "urgent_first_reply": "1.5",
        },
    )
    assert response.status_code == 302
    from touchpoint.support.models import SlaTarget

    assert SlaTarget.objects.get(policy__segment__isnull=True, priority="urgent").first_reply_minutes == 90
    assert (
        client.post("/support/settings/", {"action": "source", "key": "zd", "kind": "zendesk"}).status_code
        == 302
    )


def test_the_health_measure_counts_open_urgent_tickets(big_account, policy):
    _tickets(big_account, 2)
    _tickets(AccountFactory(), 0)
    assert get_measure("open_urgent_tickets").source == "support_load"
    sql, params = measured_sql(AsOf(timezone.localdate()), keys=["open_urgent_tickets"])
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {sql} SELECT account_id, value FROM measured", params)
        values = dict(cursor.fetchall())
    assert values == {big_account.pk: 2.0}
    sql, params = measured_sql(AsOf(date(2020, 1, 1)), keys=["open_urgent_tickets"])
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {sql} SELECT account_id, value FROM measured", params)
        assert cursor.fetchall() == []


def test_the_readiness_kpis(big_account, policy, admin_user):
    tickets = _tickets(big_account, 2)
    now = timezone.now()
    services.upsert_ticket(
        data=ticket_data(
            external_id="p0",
            opened_at=tickets[0].opened_at,
            updated_at=now,
            status="solved",
            first_reply_at=now,
            solved_at=now,
        ),
        account=big_account,
        actor=None,
    )
    context = KpiContext(product="", today=timezone.localdate(), reader=admin_user)
    fix = kpis.get("time_to_fix").compute(context)
    assert fix is not None and fix.value == 3.0 and fix.count == 1 and fix.better == "lower"
    compliance = kpis.get("sla_compliance").compute(context)
    assert compliance is not None and compliance.value == 0.0 and compliance.count == 2
