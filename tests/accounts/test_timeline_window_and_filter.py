"""The timeline refuses touches dated far off, wraps long subjects, collapses long notes, filters by kind."""

from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from tests.conftest import logged_in_client
from touchpoint.accounts import services
from touchpoint.accounts.models import Engagement, TimelineEntry

pytestmark = pytest.mark.django_db


def test_the_service_refuses_dates_outside_the_window_naming_the_field(account, csm):
    now = timezone.now()
    for when in (
        timezone.make_aware(datetime(1, 1, 2)),
        timezone.make_aware(datetime(9999, 12, 30)),
        now - timedelta(days=10 * 365 + 2),
        now + timedelta(days=367),
    ):
        with pytest.raises(ValidationError) as refused:
            services.log_engagement(account=account, kind="call", subject="Hi", actor=csm, occurred_at=when)
        assert list(refused.value.message_dict) == ["occurred_at"]
    assert not Engagement.objects.exists()
    for when in (now - timedelta(days=10 * 365 - 1), now + timedelta(days=364)):
        services.log_engagement(account=account, kind="call", subject="Hi", actor=csm, occurred_at=when)
    assert Engagement.objects.count() == 2


def test_the_window_is_a_setting(account, csm, settings):
    settings.TOUCHPOINT_TIMELINE_PAST_DAYS = 30
    settings.TOUCHPOINT_TIMELINE_FUTURE_DAYS = 0
    with pytest.raises(ValidationError):
        services.log_engagement(
            account=account,
            kind="note",
            body="old",
            actor=csm,
            occurred_at=timezone.now() - timedelta(days=31),
        )
    with pytest.raises(ValidationError):
        services.log_engagement(
            account=account,
            kind="note",
            body="soon",
            actor=csm,
            occurred_at=timezone.now() + timedelta(days=1),
        )
    services.log_engagement(
        account=account, kind="note", body="fine", actor=csm, occurred_at=timezone.now() - timedelta(days=29)
    )


def test_the_form_and_the_api_show_the_error_beside_the_field(account, csm, api):
    client = logged_in_client(csm)
    url = reverse("account-log-engagement", args=[account.pk])
    for when in ("0001-01-01T10:00", "9999-12-31T10:00", "1990-05-01T10:00"):
        page = client.post(url, {"kind": "call", "subject": "Old call", "occurred_at": when})
        assert page.status_code == 400, when
        assert "field-error" in page.content.decode()
    far = api.send(
        "post",
        f"/accounts/{account.pk}/engagements",
        {"kind": "call", "subject": "Hi", "occurred_at": "2999-01-01T10:00:00+00:00"},
    )
    assert far.status_code == 422 and far.json()["errors"][0]["field"] == "occurred_at"
    assert not Engagement.objects.exists()
    form_page = client.get(reverse("account-detail", args=[account.pk])).content.decode()
    assert 'type="datetime-local"' in form_page and " min=" in form_page and " max=" in form_page


def test_long_notes_collapse_and_short_ones_do_not(account, csm):
    services.log_engagement(account=account, kind="note", subject="Lunch", body="Short and sweet", actor=csm)
    long_body = "\n".join(f"Line {n} of a long meeting write-up" for n in range(1, 21))
    services.log_engagement(
        account=account, kind="note", subject="Quarterly review", body=long_body, actor=csm
    )
    page = logged_in_client(csm).get(reverse("account-detail", args=[account.pk])).content.decode()
    assert page.count('class="entry-body entry-long"') == 1
    assert "Line 20 of a long meeting write-up" in page  # all of it is there, behind "Show all"
    assert "Show all" in page and '<div class="entry-body">Short and sweet</div>' in page


def test_the_timeline_filters_by_kind(account, csm):
    services.log_engagement(account=account, kind="call", subject="Pricing call", actor=csm)
    services.log_engagement(account=account, kind="note", body="A note about pricing", actor=csm)
    client = logged_in_client(csm)
    page = client.get(reverse("account-detail", args=[account.pk])).content.decode()
    assert '<select name="kind" id="timeline-kind">' in page and '<option value="call">' in page
    filtered = client.get(reverse("account-detail", args=[account.pk]), {"kind": "call"}).content.decode()
    assert "Pricing call" in filtered and "A note about pricing" not in filtered
    assert '<option value="call" selected>' in filtered
    partial = client.get(
        reverse("account-timeline", args=[account.pk]), {"kind": "note"}, HTTP_HX_REQUEST="true"
    )
    body = partial.content.decode()
    assert "A note about pricing" in body and "Pricing call" not in body
    none = client.get(
        reverse("account-timeline", args=[account.pk]), {"kind": "email"}, HTTP_HX_REQUEST="true"
    )
    assert "Nothing of this kind" in none.content.decode()
    assert client.get(reverse("account-timeline", args=[account.pk]), {"kind": "nope"}).status_code == 400


def test_load_more_keeps_the_kind(account, csm, settings):
    settings.TIMELINE_PAGE_SIZE = 2
    for n in range(3):
        services.log_engagement(account=account, kind="call", subject=f"Call {n}", actor=csm)
    services.log_engagement(account=account, kind="note", body="Not a call", actor=csm)
    page = logged_in_client(csm).get(reverse("account-detail", args=[account.pk]), {"kind": "call"})
    assert "&amp;kind=call" in page.content.decode()
    assert TimelineEntry.objects.filter(account=account, kind="call").count() == 3
