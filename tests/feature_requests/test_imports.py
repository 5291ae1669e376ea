from __future__ import annotations

import pytest

from tests.factories import AccountFactory, ContactFactory
from touchpoint.accounts.models import TimelineEntry
from touchpoint.feature_requests.models import Ask, FeatureRequest, RequestLink
from touchpoint.integrations.csv_import import runner

pytestmark = pytest.mark.django_db

HEADER = "Insight ID,Feature request,Feature ID,Area,Company ID,Email,Quote,Date\n"


def write(tmp_path, text: str, name: str = "requests.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def accounts():
    acme = AccountFactory(external_id="acme")
    ContactFactory(account=acme, email="ana@acme.example")
    return acme, AccountFactory(external_id="globex")


def test_asks_are_imported_grouped_by_request_and_a_second_import_is_a_no_op(tmp_path, accounts):
    acme, globex = accounts
    path = write(
        tmp_path,
        HEADER
        + "i-1,Export reports to CSV,PB-1,Reports,acme,ana@acme.example,We copy it by hand,2026-01-10\n"
        + "i-2,Export reports to CSV,PB-1,Reports,globex,,,2026-02-01\n"
        + "i-3,Export reports to CSV,PB-1,Reports,acme,,Still by hand,2026-03-01\n"
        + "i-4,レポートのダークモード,,UI,globex,,,\n",
    )
    result = runner.run(path, "feature-requests")
    assert result.ok and (result.created, result.updated, result.unchanged) == (4, 0, 0)
    csv_request = FeatureRequest.objects.get(external_id="PB-1")
    assert csv_request.product_area == "Reports"
    assert RequestLink.objects.filter(request=csv_request).count() == 2
    assert sorted(Ask.objects.filter(link__account=acme).values_list("verbatim", flat=True)) == [
        "Still by hand",
        "We copy it by hand",
    ]
    assert TimelineEntry.objects.filter(kind="feature_requested").count() == 4
    again = runner.run(path, "feature-requests")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert Ask.objects.count() == 4 and TimelineEntry.objects.filter(kind="feature_requested").count() == 4
    changed = write(
        tmp_path, HEADER + "i-2,Export reports to CSV,PB-1,Reports,globex,,Now urgent,2026-02-01\n", "b.csv"
    )
    assert runner.run(changed, "feature-requests").updated == 1
    assert RequestLink.objects.get(account=globex, request=csv_request).verbatim == "Now urgent"


def test_a_bad_row_names_row_and_column_and_nothing_is_written(tmp_path, accounts):
    path = write(
        tmp_path,
        HEADER
        + "i-1,Export reports to CSV,,Reports,acme,,,2026-01-10\n"
        + "i-2,,,,acme,,,\n"
        + "i-3,Dark mode,,,nobody,,,\n"
        + "i-4,Dark mode,,,acme,someone@else.example,,\n"
        + "i-5,Dark mode,,,acme,,,not a date\n"
        + "i-1,Dark mode,,,acme,,,\n",
    )
    result = runner.run(path, "feature-requests")
    assert not result.ok
    assert [(p.row, p.column) for p in result.problems] == [
        (3, "Feature request"),
        (4, "Company ID"),
        (5, "Email"),
        (6, "Date"),
        (7, "Insight ID"),
    ]
    assert not FeatureRequest.objects.exists() and not Ask.objects.exists()
