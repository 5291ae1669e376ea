"""The key-features page, its writes, and the active-people trend on the usage panel."""

from datetime import date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import logged_in_client
from tests.factories import AccountFactory
from touchpoint.usage import rollups, selectors
from touchpoint.usage.key_features import mark_key_feature, unmark_key_feature
from touchpoint.usage.models import KeyFeature
from touchpoint.usage.services import create_source, ingest
from touchpoint.users.models import AuditLogEntry

pytestmark = pytest.mark.django_db
TODAY = date(2026, 6, 30)


def at(day: date) -> str:
    return timezone.make_aware(datetime.combine(day, time(12))).isoformat()


def send(events: list[tuple[str, str, date]], group: str = "acme") -> None:
    """(user, event name, day) triples as track calls."""
    source = create_source(name=f"App {group}", actor=None)
    ingest(
        source=source,
        payloads=[
            {
                "type": "track",
                "messageId": f"{group}-{n}",
                "userId": user,
                "event": name,
                "context": {"groupId": group},
                "timestamp": at(day),
            }
            for n, (user, name, day) in enumerate(events)
        ],
        received_at=timezone.make_aware(datetime.combine(TODAY, time(23))),
    )
    rollups.refresh_pending()


def test_the_catalog_counts_events_and_accounts_in_the_window_and_flags_key_features():
    AccountFactory(external_id="acme"), AccountFactory(external_id="globex")
    send(
        [
            ("u1", "Report created", TODAY),
            ("u2", "Report created", TODAY - timedelta(days=3)),
            ("u1", "Export", TODAY - timedelta(days=45)),
        ],
        group="acme",
    )
    send([("v1", "Report created", TODAY - timedelta(days=1))], group="globex")
    KeyFeature.objects.create(event="Export", label="Exports")
    rows = {row["event"]: row for row in selectors.event_catalog(today=TODAY)}
    assert (rows["Report created"]["events"], rows["Report created"]["accounts"]) == (3, 2)
    assert rows["Report created"]["last_day"] == TODAY and not rows["Report created"]["is_key"]
    # Seen 45 days ago: listed (so it can be marked), with nothing in the window.
    assert (rows["Export"]["events"], rows["Export"]["accounts"], rows["Export"]["is_key"]) == (0, 0, True)
    assert rows["Export"]["label"] == "Exports"
    assert [row["event"] for row in selectors.event_catalog(search="repo", today=TODAY)] == ["Report created"]


def test_marking_and_unmarking_are_audited(admin_user):
    feature = mark_key_feature(event=" Report created ", label="Reports", actor=admin_user)
    assert feature.event == "Report created"
    mark_key_feature(event="Report created", label="Reporting", actor=admin_user)
    unmark_key_feature(event="Report created", actor=admin_user)
    assert not KeyFeature.objects.exists()
    assert list(
        AuditLogEntry.objects.filter(object_type="usage.keyfeature")
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["create", "change", "delete"]


def test_an_admin_toggles_a_row_in_place(admin_user):
    AccountFactory(external_id="acme")
    send([("u1", "Report created", timezone.localdate())])
    client = logged_in_client(admin_user)
    page = client.get(reverse("key-features")).content.decode()
    assert "Report created" in page and "Mark as key feature" in page
    row = client.post(
        reverse("key-features"),
        {"event": "Report created", "key": "1", "label": "Reports"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert row.lstrip().startswith("<tr") and "Unmark" in row and "Reports" in row
    assert KeyFeature.objects.get().label == "Reports"
    row = client.post(
        reverse("key-features"), {"event": "Report created", "key": "0"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Mark as key feature" in row and not KeyFeature.objects.exists()


def test_a_bad_toggle_names_the_problem(admin_user):
    response = logged_in_client(admin_user).post(
        reverse("key-features"), {"event": " ", "key": "1"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400 and "Name the event" in response.content.decode()


def test_others_read_the_list_but_cannot_change_it(csm, viewer):
    AccountFactory(external_id="acme")
    send([("u1", "Report created", timezone.localdate())])
    for user in (csm, viewer):
        client = logged_in_client(user)
        page = client.get(reverse("key-features")).content.decode()
        assert "Report created" in page and "Mark as key feature" not in page
        assert (
            client.post(reverse("key-features"), {"event": "Report created", "key": "1"}).status_code == 403
        )
    assert not KeyFeature.objects.exists()


def test_active_people_trend_by_hand():
    account = AccountFactory(external_id="acme")
    send(
        [
            ("u1", "Open", TODAY),
            ("u1", "Open", TODAY - timedelta(days=3)),
            ("u2", "Open", TODAY - timedelta(days=10)),
            ("u3", "Open", TODAY - timedelta(days=40)),
            ("u3", "Open", TODAY - timedelta(days=40)),
        ]
    )
    trend = {row["date"]: row for row in selectors.active_people_trend(account, days=90, today=TODAY)}
    assert (trend[TODAY]["dau"], trend[TODAY]["wau"], trend[TODAY]["mau"]) == (1, 1, 2)
    assert (trend[TODAY - timedelta(days=7)]["wau"], trend[TODAY - timedelta(days=7)]["mau"]) == (
        1,
        1,
    )  # u2, 3 days before
    assert trend[TODAY - timedelta(days=11)]["mau"] == 1  # u3's day is the 30th day back
    assert trend[TODAY - timedelta(days=10)]["mau"] == 1  # u3 has left the window, u2 arrived
    assert trend[TODAY - timedelta(days=40)]["dau"] == 1
    assert selectors.stickiness(list(trend.values())) == pytest.approx(
        (3 / 30) / 2
    )  # 3 person-days in 30, 2 monthly actives


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.integers(min_value=0, max_value=125)), max_size=40
    )
)
def test_sliding_windows_equal_counting_each_window_afresh(visits):
    account = AccountFactory()
    source = create_source(name=f"S{account.pk}", actor=None)
    ingest(
        source=source,
        payloads=[
            {
                "type": "track",
                "messageId": f"m{n}",
                "userId": user,
                "event": "Open",
                "context": {"groupId": account.external_id},
                "timestamp": at(TODAY - timedelta(days=back)),
            }
            for n, (user, back) in enumerate(visits)
        ],
        received_at=timezone.make_aware(datetime.combine(TODAY, time(23))),
    )
    account.refresh_from_db()
    days = {}
    for user, back in visits:
        days.setdefault(TODAY - timedelta(days=back), set()).add(user)

    def distinct(day, length):
        return len(set().union(*(days.get(day - timedelta(days=n), set()) for n in range(length))))

    for row in selectors.active_people_trend(account, days=90, today=TODAY):
        assert (row["dau"], row["wau"], row["mau"]) == (
            distinct(row["date"], 1),
            distinct(row["date"], 7),
            distinct(row["date"], 30),
        )


def test_the_catalogue_includes_events_still_waiting_for_their_rollup(db):
    """Reads never refresh rollups; an event ingested a moment ago shows from its raw rows, counted once."""
    from django.utils import timezone

    from tests.factories import AccountFactory
    from touchpoint.usage import rollups
    from touchpoint.usage.services import create_source, ingest

    AccountFactory(external_id="a1")
    AccountFactory(external_id="a2")
    source = create_source(name="App", actor=None)
    now = timezone.now().isoformat()

    def send(n: int, group: str, name: str) -> None:
        ingest(
            source=source,
            payloads=[
                {
                    "type": "track",
                    "messageId": f"{group}-{n}",
                    "userId": f"u-{group}",
                    "event": name,
                    "context": {"groupId": group},
                    "timestamp": now,
                }
            ],
        )

    send(1, "a1", "Report shared")
    rollups.refresh_pending()
    send(2, "a2", "Report shared")  # waits for the worker
    send(3, "a1", "Dashboard built")  # waits too, and is new
    catalog = {row["event"]: row for row in selectors.event_catalog()}
    assert catalog["Report shared"]["events"] == 2 and catalog["Report shared"]["accounts"] == 2
    assert catalog["Dashboard built"]["events"] == 1 and catalog["Dashboard built"]["accounts"] == 1
    rollups.refresh_pending()
    assert {row["event"]: (row["events"], row["accounts"]) for row in selectors.event_catalog()} == {
        "Report shared": (2, 2),
        "Dashboard built": (1, 1),
    }
