"""Revenue input guardrails (bad dates, confirmations) and voiding a mistaken movement."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone, translation

from tests.conftest import Api, logged_in_client
from tests.factories import AccountFactory, SegmentFactory
from touchpoint.accounts.models import Account, TimelineEntry
from touchpoint.accounts.timeline import entry_title
from touchpoint.confirmation import NeedsConfirmation
from touchpoint.events.models import DomainEvent
from touchpoint.health.measures import AsOf
from touchpoint.integrations.csv_import import runner
from touchpoint.revenue import forecast, renewals, selectors, services
from touchpoint.revenue.health_measures import live_subscriptions_sql
from touchpoint.revenue.models import MovementKind, MrrMovement, Subscription, SubscriptionStatus
from touchpoint.revenue.selectors import RevenueFilter
from touchpoint.users.models import AuditLogEntry
from touchpoint.users.services import create_api_key

pytestmark = pytest.mark.django_db

LONG_AGO = timezone.make_aware(datetime(2020, 1, 1))


def old_account(**kwargs):
    """An account created in Touchpoint long before the history entered for it."""
    return AccountFactory(created_at=LONG_AGO, **kwargs)


def subscription(account, mrr="100", **kwargs):
    return services.create_subscription(
        account=account, product="Cloud", mrr=mrr, started_on=date(2025, 1, 1), **kwargs
    )


# --- Guardrails: services ---------------------------------------------------------------------


def test_a_renewal_before_the_start_is_refused_on_the_renewal_date():
    account = old_account()
    with pytest.raises(ValidationError) as refused:
        subscription(account, renewal_date=date(2024, 12, 31))
    assert list(refused.value.message_dict) == ["renewal_date"]
    sub = subscription(account)
    with pytest.raises(ValidationError) as refused:
        services.change_subscription(subscription=sub, renewal_date=date(2024, 6, 1))
    assert list(refused.value.message_dict) == ["renewal_date"]
    assert Subscription.objects.get(pk=sub.pk).renewal_date == date(2026, 1, 1)
    # A row from before the check keeps working: the form sends its renewal date back unchanged.
    Subscription.objects.filter(pk=sub.pk).update(renewal_date=date(2024, 6, 1))
    services.change_subscription(subscription=sub, mrr="120", renewal_date=date(2024, 6, 1))
    assert Subscription.objects.get(pk=sub.pk).mrr == Decimal("120")


@pytest.mark.parametrize("day", [date(1, 1, 1), date(1899, 12, 31), date(3000, 1, 1), date(9999, 12, 31)])
def test_dates_out_of_1900_to_2999_are_refused_naming_the_field(day):
    account = old_account()
    with pytest.raises(ValidationError) as refused:
        services.create_subscription(
            account=account, product="Cloud", mrr="100", started_on=day, confirm=True
        )
    assert list(refused.value.message_dict) == ["started_on"]
    sub = subscription(account)
    with pytest.raises(ValidationError) as refused:
        services.cancel_subscription(subscription=sub, canceled_on=day)
    assert list(refused.value.message_dict) == ["canceled_on"]
    assert not MrrMovement.objects.exclude(kind=MovementKind.NEW).exists()


def test_a_start_before_the_account_was_created_asks_for_confirmation():
    account = AccountFactory()  # created today
    with pytest.raises(NeedsConfirmation) as asked:
        subscription(account)
    assert [(field, e.code) for field, errors in asked.value.error_dict.items() for e in errors] == [
        ("started_on", "start_before_account")
    ]
    assert not Subscription.objects.exists()
    with translation.override("ja"), pytest.raises(NeedsConfirmation) as in_japanese:
        subscription(account)
    created = timezone.localdate(account.created_at)
    assert (
        f"{created.year}年{created.month}月{created.day}日" in in_japanese.value.messages[0]
    )  # the reader's date
    assert subscription(account, confirm=["start_before_account"]).pk
    # From the day the account was created on, nothing to confirm.
    services.create_subscription(
        account=account, product="Add-on", mrr="10", started_on=timezone.localdate(account.created_at)
    )


@pytest.mark.parametrize(
    ("new_mrr", "asks"),
    [("1001", True), ("1000", False), ("9.99", True), ("10", False), ("1000000000", True), ("0", True)],
)
def test_an_mrr_change_over_ten_times_up_or_down_asks_for_confirmation(new_mrr, asks):
    sub = subscription(old_account())
    if asks:
        with pytest.raises(NeedsConfirmation) as asked:
            services.change_subscription(subscription=sub, mrr=new_mrr)
        assert list(asked.value.message_dict) == ["mrr"]
        assert Subscription.objects.get(pk=sub.pk).mrr == Decimal("100")
        assert MrrMovement.objects.count() == 1
        services.change_subscription(subscription=sub, mrr=new_mrr, confirm=["mrr_jump"])
    else:
        services.change_subscription(subscription=sub, mrr=new_mrr)
    assert Subscription.objects.get(pk=sub.pk).mrr == Decimal(new_mrr)


def test_a_trillion_is_refused_outright_even_confirmed():
    sub = subscription(old_account())
    for amount in ("1000000000000", "1e12", "NaN", "Infinity"):
        with pytest.raises(ValidationError) as refused:
            services.change_subscription(subscription=sub, mrr=amount, confirm=True)
        assert not isinstance(refused.value, NeedsConfirmation)
        assert list(refused.value.message_dict) == ["mrr"]
    assert Subscription.objects.get(pk=sub.pk).mrr == Decimal("100")


# --- Guardrails: the form, the API, the import ------------------------------------------------


def _change(client, account, sub, mrr, **extra):
    prefix = f"change-{sub.pk}"
    return client.post(
        f"/accounts/{account.pk}/subscriptions/",
        {
            "action": "change",
            "subscription": sub.pk,
            f"{prefix}-mrr": mrr,
            f"{prefix}-quantity": "1",
            f"{prefix}-occurred_on": "2025-06-01",
            **extra,
        },
    )


def test_the_form_warns_beside_the_field_and_saves_only_when_ticked(csm):
    account = old_account(owner=csm)
    sub = subscription(account)
    client = logged_in_client(csm)
    asked = _change(client, account, sub, "1000000000")
    page = asked.content.decode()
    assert asked.status_code == 422  # not htmx: the panel with its warning
    assert 'class="field-warning"' in page and "more than ten times" in page
    assert f'name="change-{sub.pk}-confirm" value="mrr_jump"' in page and "Yes, this is right" in page
    assert Subscription.objects.get(pk=sub.pk).mrr == Decimal("100")
    # A box ticked for another warning, or a made-up code, confirms nothing.
    _change(client, account, sub, "1000000000", **{f"change-{sub.pk}-confirm": "start_before_account"})
    _change(client, account, sub, "1000000000", **{f"change-{sub.pk}-confirm": "anything"})
    assert Subscription.objects.get(pk=sub.pk).mrr == Decimal("100")
    saved = _change(client, account, sub, "1000000000", **{f"change-{sub.pk}-confirm": "mrr_jump"})
    assert saved.status_code == 200
    assert Subscription.objects.get(pk=sub.pk).mrr == Decimal("1000000000")


def test_the_form_shows_a_renewal_before_the_start_and_a_year_9999_beside_the_field(csm):
    account = old_account(owner=csm)
    client = logged_in_client(csm)
    base = {
        "action": "add",
        "new-product": "Cloud",
        "new-mrr": "100",
        "new-quantity": "1",
        "new-term_months": "12",
        "new-started_on": "2025-01-01",
    }
    page = client.post(f"/accounts/{account.pk}/subscriptions/", {**base, "new-renewal_date": "2024-01-01"})
    assert page.status_code == 422 and "cannot be before the start date" in page.content.decode()
    page = client.post(f"/accounts/{account.pk}/subscriptions/", {**base, "new-started_on": "9999-12-31"})
    assert page.status_code == 422 and "between the years 1900 and 2999" in page.content.decode()
    page = client.post(f"/accounts/{account.pk}/subscriptions/", {**base, "new-started_on": "0001-01-01"})
    assert page.status_code == 422
    assert not Subscription.objects.exists()


def test_the_api_answers_409_naming_the_field_and_takes_confirm(api, csm):
    account = old_account(owner=csm)
    sub = subscription(account)
    asked = api.send("patch", f"/subscriptions/{sub.pk}", {"mrr": "5000"})
    assert asked.status_code == 409
    assert asked.json()["errors"][0]["field"] == "mrr" and asked.json()["errors"][0]["code"] == "mrr_jump"
    assert Subscription.objects.get(pk=sub.pk).mrr == Decimal("100")
    wrong_code = api.send(
        "patch", f"/subscriptions/{sub.pk}", {"mrr": "5000", "confirm": ["start_before_account"]}
    )
    assert wrong_code.status_code == 409
    unknown = api.send("patch", f"/subscriptions/{sub.pk}", {"mrr": "5000", "confirm": ["whatever"]})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"].startswith("confirm")
    assert api.send("patch", f"/subscriptions/{sub.pk}", {"mrr": "5000", "confirm": True}).status_code == 200
    assert Subscription.objects.get(pk=sub.pk).mrr == Decimal("5000")
    early = api.send(
        "post",
        "/subscriptions",
        {
            "account": account.pk,
            "product": "X",
            "mrr": "1",
            "started_on": "2025-01-01",
            "renewal_date": "2024-01-01",
        },
    )
    assert early.status_code == 422 and early.json()["errors"][0]["field"] == "renewal_date"
    far = api.send(
        "post",
        "/subscriptions",
        {"account": account.pk, "product": "X", "mrr": "1", "started_on": "9999-01-01"},
    )
    assert far.status_code == 422 and far.json()["errors"][0]["field"] == "started_on"


def test_the_import_reports_a_ten_times_change_as_a_row_problem_unless_confirmed(tmp_path):
    old_account(external_id="A1")
    header = "Subscription ID;Account ID;Product;MRR;Start Date"
    first = tmp_path / "first.csv"
    first.write_text(f"{header}\nS1;A1;Cloud;100;2025-01-01\n")
    assert runner.run(first, "subscriptions").ok
    jump = tmp_path / "jump.csv"
    jump.write_text(f"{header}\nS1;A1;Cloud;100000;2025-01-01\n")
    refused = runner.run(jump, "subscriptions")
    assert [(p.row, p.column) for p in refused.problems] == [(2, "MRR")]
    assert "Confirm column" in refused.problems[0].message
    assert Subscription.objects.get().mrr == Decimal("100")
    confirmed = tmp_path / "confirmed.csv"
    confirmed.write_text(f"{header};Confirm\nS1;A1;Cloud;100000;2025-01-01;yes\n")
    assert runner.run(confirmed, "subscriptions").ok
    assert Subscription.objects.get().mrr == Decimal("100000")
    early = tmp_path / "early.csv"
    early.write_text(f"{header};Renewal Date\nS2;A1;Cloud;10;2025-01-01;2024-01-01\n")
    assert [(p.row, p.column) for p in runner.run(early, "subscriptions").problems] == [(2, "Renewal Date")]


def test_billing_data_from_stripe_needs_no_confirmation():
    account = AccountFactory()  # created today, history from last year
    services.sync_subscription(
        account=account,
        external_id="sub_1",
        product="Cloud",
        mrr="100",
        status="active",
        started_on=date(2025, 1, 1),
        source="stripe",
        confirm=True,
    )
    services.sync_subscription(
        account=None, external_id="sub_1", product="Cloud", mrr="100000", status="active",
        started_on=date(2025, 1, 1), source="stripe", confirm=True,
    )  # fmt: skip
    assert Subscription.objects.get().mrr == Decimal("100000")


# --- Voiding ----------------------------------------------------------------------------------


def _health_live(day: date) -> list:
    sql, params = live_subscriptions_sql(AsOf(day))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return sorted(cursor.fetchall())


def _every_metric(client) -> dict:
    """Every figure revenue shows, for the whole range of the history below."""
    first, last, today = date(2025, 1, 1), date(2026, 11, 30), date(2026, 11, 15)
    everyone = RevenueFilter()
    query = "start=2025-01&end=2026-11"
    return {
        "months": selectors.revenue_report(everyone, first=first, last=last),
        "quarters": selectors.revenue_report(everyone, first=first, last=last, unit="quarter"),
        "movements": sorted(
            selectors.movements(everyone), key=lambda m: (m.account_id, m.day, m.kind, m.delta)
        ),
        "forecast": forecast.renewal_forecast(everyone, today=today),
        "renewals": [
            (r.subscription.pk, r.arr, r.signs)
            for r in renewals.due(everyone, start=first, end=date(2027, 12, 31), today=today)
        ],
        "mrr": {a: services.account_mrr(a) for a in Account.objects.all()},
        "health": [_health_live(day) for day in (date(2025, 6, 15), date(2025, 9, 15), date(2026, 11, 15))],
        "api": client.get("/api/v1/metrics/revenue?start=2025-01&end=2026-11").json(),
        **{
            f"csv-{name}": client.get(f"/revenue/export/{name}.csv?{query}").content.decode()
            for name in ("mrr", "movements", "retention", "reasons")
        },
    }


def _history():
    segment = SegmentFactory()
    a, b = old_account(segment=segment), old_account(segment=segment)
    sub_a = subscription(a, mrr="1000")
    services.change_subscription(subscription=sub_a, mrr="1200", occurred_on=date(2025, 4, 1))
    sub_b = subscription(b, mrr="500")
    services.cancel_subscription(subscription=sub_b, canceled_on=date(2025, 10, 1))
    return a, sub_a


def test_a_voided_billion_mrr_typo_leaves_every_metric_as_if_it_never_happened(admin_user, leader):
    client = logged_in_client(admin_user)
    a, sub_a = _history()
    without_typo = _every_metric(client)

    # A zero too many (three, in fact), and a whole subscription entered on the wrong account.
    services.change_subscription(
        subscription=sub_a, mrr="1000000000", occurred_on=date(2025, 8, 1), confirm=True, actor=leader
    )
    typo = MrrMovement.objects.latest("id")
    wrong = services.create_subscription(
        account=a, product="Typo", mrr="999999999", started_on=date(2025, 9, 1), actor=leader
    )
    assert _every_metric(client) != without_typo  # the typos show everywhere until voided

    services.void_movement(movement=typo, reason="Typed three zeros too many", actor=leader)
    services.void_movement(movement=wrong.movements.get(), reason="Wrong account", actor=leader)
    assert _every_metric(client) == without_typo
    sub_a.refresh_from_db()
    wrong.refresh_from_db()
    assert sub_a.mrr == Decimal("1200.00") and sub_a.status == SubscriptionStatus.ACTIVE
    assert wrong.status == SubscriptionStatus.CANCELED
    # Nothing was deleted: both typos and their reversals are there, marked.
    assert MrrMovement.objects.count() == 4 + 4
    typo.refresh_from_db()
    assert typo.voided_by == leader and typo.void_reason == "Typed three zeros too many"
    assert typo.reversal.delta == -typo.delta and typo.reversal.occurred_on == typo.occurred_on


def test_the_account_keeps_working_after_a_void():
    account = old_account()
    sub = subscription(account, mrr="100")
    services.cancel_subscription(subscription=sub, canceled_on=date(2025, 6, 1))
    churn = MrrMovement.objects.get(kind=MovementKind.CHURN)
    services.void_movement(movement=churn, reason="Canceled the wrong one", actor=None)
    sub.refresh_from_db()
    assert sub.status == SubscriptionStatus.ACTIVE and sub.canceled_on is None
    services.change_subscription(subscription=sub, mrr="150", occurred_on=date(2025, 7, 1))
    assert services.account_mrr(account) == Decimal("150.00")
    # The churn that never happened does not make a later new customer a "reactivation".
    kinds = list(MrrMovement.objects.effective().order_by("id").values_list("kind", flat=True))
    assert kinds == [MovementKind.NEW, MovementKind.EXPANSION]


def test_voiding_is_refused_twice_for_a_reversal_without_a_reason_and_under_a_later_change():
    sub = subscription(old_account())
    services.change_subscription(subscription=sub, mrr="200", occurred_on=date(2025, 3, 1))
    first, second = MrrMovement.objects.order_by("id")
    with pytest.raises(ValidationError) as refused:
        services.void_movement(movement=first, reason="x", actor=None)
    assert "later change" in str(refused.value)
    with pytest.raises(ValidationError) as refused:
        services.void_movement(movement=second, reason="   ", actor=None)
    assert list(refused.value.message_dict) == ["reason"]
    reversal = services.void_movement(movement=second, reason="typo", actor=None)
    with pytest.raises(ValidationError) as refused:
        services.void_movement(movement=second, reason="again", actor=None)
    assert "already voided" in str(refused.value)
    with pytest.raises(ValidationError):
        services.void_movement(movement=reversal, reason="undo the undo", actor=None)
    assert MrrMovement.objects.count() == 3
    # With the mistake voided, the first movement is the latest that counts again.
    services.void_movement(movement=first, reason="entered on the wrong account", actor=None)


def test_a_void_is_on_the_timeline_in_the_audit_log_and_a_domain_event(leader):
    sub = subscription(old_account(), mrr="100")
    services.change_subscription(subscription=sub, mrr="2000", occurred_on=date(2025, 3, 1), confirm=True)
    movement = MrrMovement.objects.latest("id")
    reversal = services.void_movement(movement=movement, reason="Meant 200", actor=leader)
    entry = TimelineEntry.objects.get(kind="mrr_voided")
    assert entry.actor == leader and entry.body == "Meant 200" and entry.account_id == sub.account_id
    assert entry_title(entry) == "Voided a mistaken change: Cloud, MRR 1,900.00 USD of 1 Mar 2025"
    event = DomainEvent.objects.get(kind="mrr.voided")
    assert event.payload["movement_id"] == movement.pk and event.payload["reversal_id"] == reversal.pk
    audit = AuditLogEntry.objects.get(action="void")
    assert audit.object_id == str(movement.pk) and audit.changes["reason"] == "Meant 200"
    assert audit.changes["subscription.mrr"] == ["2000.00", "100.00"]


def test_the_void_api_and_who_may_use_it(book):
    account = book.account
    account.created_at = LONG_AGO
    account.save()
    sub = subscription(account)
    movement = sub.movements.get()
    url = f"/mrr-movements/{movement.pk}/void"
    for user in (book.viewer, book.outsider):
        assert Api(create_api_key(user=user)[1]).send("post", url, {"reason": "x"}).status_code == 403
    owner = Api(create_api_key(user=book.owner)[1])
    assert owner.send("post", url, {"reason": ""}).status_code == 422
    assert owner.send("post", "/mrr-movements/999999/void", {"reason": "x"}).status_code == 404
    done = owner.send("post", url, {"reason": "Wrong account"})
    assert done.status_code == 200, done.json()
    body = done.json()
    assert body["voided"]["id"] == movement.pk and body["voided"]["void_reason"] == "Wrong account"
    assert body["reversal"]["reverses"] == movement.pk and body["reversal"]["delta"] == "-100.00"
    again = owner.send("post", url, {"reason": "again"})
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "movement"
    listed = owner.get(f"/subscriptions/{sub.pk}/movements").json()
    assert listed["count"] == 2
    assert [(m["id"], m["voided_at"] is not None, m["reverses"]) for m in listed["items"]] == [
        (movement.pk, True, None),
        (body["reversal"]["id"], False, movement.pk),
    ]
    assert owner.get("/subscriptions/999999/movements").status_code == 404


def test_the_panel_voids_with_a_reason_and_shows_the_voided_movement(csm):
    account = old_account(owner=csm)
    sub = subscription(account)
    services.change_subscription(subscription=sub, mrr="150", occurred_on=date(2025, 5, 1))
    first, latest = MrrMovement.objects.order_by("id")
    client = logged_in_client(csm)
    page = client.get(f"/accounts/{account.pk}/subscriptions/").content.decode()
    # Only the latest movement of a subscription offers "Void".
    assert (
        f'name="movement" value="{latest.pk}"' in page and f'name="movement" value="{first.pk}"' not in page
    )
    url = f"/accounts/{account.pk}/subscriptions/"
    no_reason = client.post(url, {"action": "void", "movement": latest.pk, f"void-{latest.pk}-reason": ""})
    assert no_reason.status_code == 422 and not MrrMovement.objects.filter(voided_at__isnull=False).exists()
    done = client.post(url, {"action": "void", "movement": latest.pk, f"void-{latest.pk}-reason": "Typo"})
    assert done.status_code == 200
    page = done.content.decode()
    assert "Voided" in page and "Typo" in page and "Reversal" in page
    sub.refresh_from_db()
    assert sub.mrr == Decimal("100.00")
    other = old_account()
    other_movement = subscription(other).movements.get()
    assert client.post(url, {"action": "void", "movement": other_movement.pk}).status_code == 404
    assert client.post(url, {"action": "void", "movement": "x"}).status_code == 400


def test_an_account_with_a_voided_movement_can_still_be_deleted(admin_user):
    from touchpoint.accounts import services as accounts

    account = old_account()
    sub = subscription(account)
    services.void_movement(movement=sub.movements.get(), reason="Wrong account", actor=admin_user)
    accounts.delete_account(account=account, actor=admin_user)
    assert not MrrMovement.objects.exists() and not Subscription.objects.exists()
