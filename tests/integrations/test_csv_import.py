"""CSV import: encodings, delimiters, CRM columns, every error kind, all or nothing, idempotent re-imports."""

import tracemalloc
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from hypothesis import given
from hypothesis import strategies as st

from tests.factories import AccountFactory, SegmentFactory, UserFactory
from touchpoint.accounts.models import Account, Contact, TimelineEntry
from touchpoint.integrations.csv_import import reading, runner
from touchpoint.integrations.csv_import.values import BadValue, day_first_from, parse_amount, parse_date
from touchpoint.revenue.models import MovementKind, MrrMovement, Subscription
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db


def write(tmp_path, text: str, *, encoding="utf-8", name="file.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def problems(result) -> list[str]:
    return [str(p) for p in result.problems]


# --- Reading ----------------------------------------------------------------------------------

NAMES = {"cp932": "株式会社さくら", "cp1251": "ООО Ромашка", "cp874": "บริษัท สยาม จำกัด"}


@pytest.mark.parametrize(
    "encoding, name",
    [
        ("utf-8", "株式会社さくら"),
        ("utf-8-sig", "ООО Ромашка"),
        ("utf-16", "บริษัท สยาม จำกัด"),
        *NAMES.items(),
    ],
)
def test_each_encoding_is_detected_even_in_a_short_file(tmp_path, encoding, name):
    path = write(tmp_path, f"Account ID,Account Name\nA1,{name}\nA2,{name} 2\n", encoding=encoding)
    result = runner.run(path, "accounts")
    assert result.ok, problems(result)
    assert Account.objects.get(external_id="A1").name == name
    assert Account.objects.get(external_id="A2").name == f"{name} 2"


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_each_delimiter_is_detected(tmp_path, delimiter):
    row = delimiter.join
    path = write(
        tmp_path,
        "\n".join(
            [
                row(["Record ID", "Company name", "Company Domain Name"]),
                row(["h1", "Hub, Inc.", "hub.example"]) if delimiter != "," else 'h1,"Hub, Inc.",hub.example',
                "",
            ]
        ),
    )
    assert reading.detect(path).delimiter == delimiter
    assert runner.run(path, "accounts").ok
    assert Account.objects.get(external_id="h1").domain == "hub.example"


def test_salesforce_and_hubspot_column_names_are_recognised():
    from touchpoint.integrations.csv_import.importers import IMPORTERS

    salesforce = IMPORTERS["accounts"].guess_mapping(
        ["Account ID", "Account Name", "Website", "Account Owner", "Parent Account ID", "Billing City"]
    )
    assert salesforce == {
        "external_id": "Account ID",
        "name": "Account Name",
        "domain": "Website",
        "owner": "Account Owner",
        "parent": "Parent Account ID",
    }
    hubspot = IMPORTERS["accounts"].guess_mapping(
        ["Record ID", "Company name", "Company Domain Name", "Company owner"]
    )
    assert hubspot == {
        "external_id": "Record ID",
        "name": "Company name",
        "domain": "Company Domain Name",
        "owner": "Company owner",
    }
    contacts = IMPORTERS["contacts"].guess_mapping(
        ["Contact ID", "First Name", "Last Name", "Email", "Title", "Account ID"]
    )
    assert contacts == {
        "external_id": "Contact ID",
        "account": "Account ID",
        "first_name": "First Name",
        "last_name": "Last Name",
        "email": "Email",
        "title": "Title",
    }


# --- Values -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2024-03-01", date(2024, 3, 1)),
        ("2024/3/1", date(2024, 3, 1)),
        ("2024年3月1日", date(2024, 3, 1)),
        ("01.03.2024", date(2024, 3, 1)),
        ("03/01/2024", date(2024, 3, 1)),
        ("1 Mar 2024", date(2024, 3, 1)),
        ("2024-03-01 10:30:00", date(2024, 3, 1)),
    ],
)
def test_dates_in_the_usual_formats(text, expected):
    assert parse_date(text) == expected


def test_day_or_month_first_is_read_from_the_file():
    assert day_first_from(["03/01/2024", "25/01/2024"]) is True
    assert day_first_from(["03/01/2024", "01/25/2024"]) is False
    assert day_first_from(["03/01/2024"]) is None
    assert parse_date("03/01/2024", day_first=True) == date(2024, 1, 3)
    with pytest.raises(BadValue):
        parse_date("31/02/2024", day_first=True)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1,234.50", "1234.50"),
        ("1 234,50", "1234.50"),
        ("1.234,50", "1234.50"),
        ("¥12,000", "12000"),
        ("$1,200.00", "1200.00"),
        ("12,5", "12.5"),
        ("1234", "1234"),
        ("1'234.5", "1234.5"),
        ("99 руб.", "99"),
        ("฿1,500", "1500"),
    ],
)
def test_amounts_in_the_usual_formats(text, expected):
    assert parse_amount(text) == Decimal(expected)


@given(st.decimals(min_value=0, max_value=10**9, places=2), st.sampled_from(["en", "ru", "de", "plain"]))
def test_any_amount_written_in_a_local_style_reads_back(amount, style):
    whole, cents = f"{amount:.2f}".split(".")
    grouped = f"{int(whole):,}"
    text = {
        "en": f"{grouped}.{cents}",
        "ru": f"{grouped.replace(',', ' ')},{cents}",
        "de": f"{grouped.replace(',', '.')},{cents}",
        "plain": f"{whole}.{cents}",
    }[style]
    assert parse_amount(text) == amount


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31)))
def test_any_date_written_in_a_common_style_reads_back(day):
    assert parse_date(day.isoformat()) == day
    assert parse_date(f"{day.year}年{day.month}月{day.day}日") == day
    assert parse_date(day.strftime("%d.%m.%Y"), day_first=True) == day
    assert parse_date(day.strftime("%m/%d/%Y"), day_first=False) == day


# --- Errors and the all-or-nothing rule -------------------------------------------------------


def test_every_error_kind_names_row_and_column_and_nothing_is_written(tmp_path):
    UserFactory(email="ann@example.com", role=Role.CSM)
    SegmentFactory(name="Enterprise")
    path = write(
        tmp_path,
        "\n".join(
            [
                "Account ID,Account Name,Website,Account Owner,Segment,Parent Account ID",
                "A1,Good Co,good.example,ann@example.com,Enterprise,",
                "A2,,x.example,,,",  # row 3: missing name
                "A3,Bad Domain,not a domain!,,,",  # row 4
                "A4,Nobody Owns,n.example,bob@example.com,,",  # row 5: unknown owner
                "A5,No Segment,s.example,,Galactic,",  # row 6: unknown segment
                "A6,Orphan,o.example,,,Z9",  # row 7: unknown parent
                "A1,Twice,t.example,,,",  # row 8: duplicate id
                "",
            ]
        ),
    )
    result = runner.run(path, "accounts")
    assert not result.ok and not result.written
    assert problems(result) == [
        "row 3, column Account Name: Required, but empty.",
        "row 4, column Website: “not a domain!” is not a domain such as example.com.",
        "row 5, column Account Owner: No user “bob@example.com” (give their email or full name).",
        "row 6, column Segment: No segment named “Galactic”.",
        "row 7, column Parent Account ID: No account with external ID “Z9”.",
        "row 8, column Account ID: External ID “A1” appears twice in the file.",
    ]
    assert not Account.objects.exists()


def test_subscription_and_contact_errors(tmp_path):
    AccountFactory(external_id="A1")
    subscriptions = write(
        tmp_path,
        "\n".join(
            [
                "Subscription ID,Account ID,Product,MRR,Start Date,Seats",
                "S1,A1,Cloud,abc,2026-01-01,",
                "S2,A1,Cloud,100,yesterday,",
                "S3,NOPE,Cloud,100,2026-01-01,",
                "S4,A1,Cloud,-5,2026-01-01,",
                "S5,A1,Cloud,100,2026-01-01,²",  # a digit to str.isdigit(), not a number to int()
            ]
        ),
        name="subs.csv",
    )
    assert problems(runner.run(subscriptions, "subscriptions")) == [
        "row 2, column MRR: “abc” is not an amount (use e.g. 1234.50).",
        "row 3, column Start Date: “yesterday” is not a date (use e.g. 2026-03-01).",
        "row 4, column Account ID: No account with external ID (or name) “NOPE”.",
        "row 5, column MRR: Cannot be negative.",
        "row 6, column Seats: “²” is not a whole number.",
    ]
    contacts = write(
        tmp_path, "Contact ID,Account ID,First Name,Email\nC1,A1,Ann,not-an-email\n", name="c.csv"
    )
    assert problems(runner.run(contacts, "contacts")) == [
        "row 2, column Email: “not-an-email” is not an email address."
    ]
    assert not Subscription.objects.exists() and not Contact.objects.exists()


def test_an_unknown_or_missing_column_in_the_mapping_is_refused(tmp_path):
    path = write(tmp_path, "Account ID,Account Name\nA1,Acme\n")
    with pytest.raises(runner.BadMapping, match="no column “Company”"):
        runner.run(path, "accounts", mapping={"external_id": "Account ID", "name": "Company"})
    with pytest.raises(runner.BadMapping, match="required"):
        runner.run(path, "accounts", mapping={"external_id": "Account ID"})


def test_a_failure_while_writing_leaves_nothing_behind(tmp_path):
    """Two rows that pass the check but clash in the database: the first is rolled back with the second."""
    account = AccountFactory(external_id="A1")
    Contact.objects.create(account=account, name="Ann", email="ann@example.com", external_id="OLD")
    path = write(
        tmp_path,
        "Contact ID,Account ID,Name,Email\nC1,A1,Bob,bob@example.com\nC2,A1,Ann Again,ann@example.com\n",
    )
    result = runner.run(path, "contacts")
    assert not result.ok and "row 3" in problems(result)[0]
    assert not Contact.objects.filter(external_id="C1").exists()


# --- Writing ----------------------------------------------------------------------------------


def test_importing_the_same_file_twice_changes_nothing_and_a_changed_row_updates(tmp_path):
    owner = UserFactory(email="ann@example.com", role=Role.CSM, full_name="Ann Lee")
    text = (
        "Account ID,Account Name,Website,Account Owner,Parent Account ID\n"
        "A2,Acme Japan,acme.jp,Ann Lee,A1\n"  # its parent comes later in the file
        "A1,Acme,acme.example,ann@example.com,\n"
    )
    path = write(tmp_path, text)
    first = runner.run(path, "accounts")
    assert (first.created, first.updated, first.unchanged) == (2, 0, 0)
    assert Account.objects.get(external_id="A2").parent == Account.objects.get(external_id="A1")
    assert Account.objects.get(external_id="A1").owner == owner
    entries = TimelineEntry.objects.count()
    again = runner.run(path, "accounts")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert TimelineEntry.objects.count() == entries
    changed = write(tmp_path, text.replace("Acme Japan", "Acme KK"), name="changed.csv")
    dry = runner.run(changed, "accounts", dry_run=True)
    assert (dry.created, dry.updated, dry.unchanged, dry.written) == (0, 1, 1, False)
    assert Account.objects.filter(name="Acme KK").count() == 0
    assert runner.run(changed, "accounts").updated == 1
    assert Account.objects.get(external_id="A2").name == "Acme KK"


def test_subscriptions_import_records_movements_and_reimport_is_idempotent(tmp_path):
    AccountFactory(external_id="A1")
    AccountFactory(external_id="A2")
    unconfirmed = (
        "Subscription ID;Account ID;Product;Plan;ARR;Currency;Start Date;Renewal Date;Seats;Status;Cancellation Date\n"
        'S1;A1;Cloud;Team;"12 000,00";USD;01.02.2026;01.02.2027;10;active;\n'
        "S2;A2;Cloud;Starter;1 200,00;USD;15.01.2026;15.01.2027;2;canceled;28.02.2026\n"
    )
    # The accounts were created today: history before that is a row problem until the row confirms it.
    refused = runner.run(write(tmp_path, unconfirmed, name="unconfirmed.csv"), "subscriptions")
    assert not refused.ok and not Subscription.objects.exists()
    assert [(p.row, p.column) for p in refused.problems] == [(2, "Start Date"), (3, "Start Date")]
    assert "Confirm column" in problems(refused)[0]
    text = (
        "Subscription ID;Account ID;Product;Plan;ARR;Currency;Start Date;Renewal Date;Seats;Status;Cancellation Date;Confirm\n"
        'S1;A1;Cloud;Team;"12 000,00";USD;01.02.2026;01.02.2027;10;active;;yes\n'
        "S2;A2;Cloud;Starter;1 200,00;USD;15.01.2026;15.01.2027;2;canceled;28.02.2026;yes\n"
    )
    path = write(tmp_path, text)
    result = runner.run(path, "subscriptions")
    assert result.ok, problems(result)
    s1 = Subscription.objects.get(external_id="S1")
    assert (s1.mrr, s1.quantity, s1.started_on, s1.renewal_date) == (
        Decimal("1000.00"),
        10,
        date(2026, 2, 1),
        date(2027, 2, 1),
    )
    kinds = sorted(MrrMovement.objects.values_list("kind", "source"))
    assert kinds == [
        (MovementKind.CHURN, "import"),
        (MovementKind.NEW, "import"),
        (MovementKind.NEW, "import"),
    ]
    assert Subscription.objects.get(external_id="S2").canceled_on == date(2026, 2, 28)
    again = runner.run(path, "subscriptions")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert MrrMovement.objects.count() == 3
    more_seats = write(
        tmp_path,
        text.replace('12 000,00";USD;01.02.2026;01.02.2027;10', '18 000,00";USD;01.02.2026;01.02.2027;15'),
        name="more.csv",
    )
    assert runner.run(more_seats, "subscriptions").updated == 1
    assert MrrMovement.objects.filter(kind=MovementKind.EXPANSION, delta=Decimal("500.00")).exists()


def test_contacts_join_their_account_by_external_id_or_name(tmp_path):
    AccountFactory(external_id="A1", name="Acme")
    AccountFactory(external_id="B1", name="Beta")
    path = write(
        tmp_path,
        "Contact ID,Associated Company,First Name,Last Name,Email,Roles\n"
        "C1,Acme,Ann,Lee,ann@acme.example,champion; decision maker\nC2,B1,Bob,,bob@beta.example,\n",
    )
    assert runner.run(path, "contacts").created == 2
    ann = Contact.objects.get(external_id="C1")
    assert (ann.account.name, ann.name, sorted(ann.role_values)) == (
        "Acme",
        "Ann Lee",
        ["champion", "decision_maker"],
    )


def test_a_large_file_streams_in_bounded_memory_and_one_bad_row_stops_it_all(tmp_path):
    """100,000 rows, the last one bad: every row is checked, nothing written, memory stays small."""
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as file:
        file.write("Account ID,Account Name,Website\n")
        for n in range(100_000):
            file.write(f"X{n},Company number {n} with a longish name,c{n}.example\n")
        file.write("X-last,,bad.example\n")
    assert path.stat().st_size > 5_000_000
    tracemalloc.start()
    result = runner.run(path, "accounts")
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert result.rows == 100_001 and problems(result) == [
        "row 100002, column Account Name: Required, but empty."
    ]
    assert not Account.objects.exists()
    # The ids seen (to catch duplicates) are the one thing kept per row: ~100 bytes each, not the rows.
    assert peak < 40 * 1024 * 1024, peak


# --- The command ------------------------------------------------------------------------------


def test_the_command_reports_problems_and_exits_non_zero(tmp_path):
    path = write(tmp_path, "Account ID,Account Name\nA1,\n")
    out = StringIO()
    with pytest.raises(CommandError) as error:
        call_command("import", "accounts", str(path), "--no-progress", stdout=out, stderr=StringIO())
    assert error.value.returncode == 1
    assert "row 2, column Account Name: Required, but empty." in out.getvalue()


def test_the_command_dry_run_writes_nothing_and_map_overrides_a_guess(tmp_path):
    path = write(tmp_path, "Key,Title,Site\nA1,Acme,acme.example\n")
    out = StringIO()
    call_command(
        "import",
        "accounts",
        str(path),
        "--dry-run",
        "--map",
        "external_id=Key",
        "--map",
        "name=Title",
        "--map",
        "domain=Site",
        "--no-progress",
        stdout=out,
        stderr=StringIO(),
    )
    assert "Dry run, nothing written: 1 created" in out.getvalue()
    assert not Account.objects.exists()
    call_command(
        "import",
        "accounts",
        str(path),
        "--map",
        "external_id=Key",
        "--map",
        "name=Title",
        "--no-progress",
        stdout=StringIO(),
        stderr=StringIO(),
    )
    assert Account.objects.get(external_id="A1").name == "Acme"


# --- Books of business ------------------------------------------------------------------------


def test_rows_outside_the_importers_book_are_refused_row_by_row(tmp_path, book):
    """The import pages are for leaders and admins; an importer run as a CSM stays inside their book."""
    book.account.external_id = "MINE"
    book.account.save()
    elsewhere = AccountFactory(external_id="THEIRS", name="Not yours")
    path = write(
        tmp_path,
        "Account ID,Account Name\nMINE,Renamed mine\nTHEIRS,Renamed theirs\n",
    )
    refused = runner.run(path, "accounts", actor=book.owner)
    assert not refused.ok
    assert [(p.row, p.column) for p in refused.problems] == [(3, "Account ID")]
    assert Account.objects.get(pk=elsewhere.pk).name == "Not yours"
    # The same file from a leader goes through whole.
    assert runner.run(path, "accounts", actor=book.leader).ok
    assert Account.objects.get(pk=elsewhere.pk).name == "Renamed theirs"


def test_a_csm_import_cannot_hand_an_account_to_someone_else(tmp_path, book):
    book.account.external_id = "MINE"
    book.account.save()
    path = write(tmp_path, f"Account ID,Account Name,Account Owner\nMINE,Mine,{book.leader.email}\n")
    refused = runner.run(path, "accounts", actor=book.owner)
    assert [p.column for p in refused.problems] == ["Account Owner"]
    book.account.refresh_from_db()
    assert book.account.owner == book.owner


def test_contacts_and_subscriptions_of_another_book_are_refused(tmp_path, book):
    AccountFactory(external_id="THEIRS")
    contacts = write(tmp_path, "Contact ID,Account ID,Name\nC1,THEIRS,Ann\n", name="c.csv")
    assert [p.column for p in runner.run(contacts, "contacts", actor=book.owner).problems] == ["Account ID"]
    subscriptions = write(
        tmp_path,
        "Subscription ID,Account ID,Product,MRR,Start Date\nS1,THEIRS,Cloud,100,2026-01-01\n",
        name="s.csv",
    )
    result = runner.run(subscriptions, "subscriptions", actor=book.owner)
    assert [p.column for p in result.problems] == ["Account ID"]
    assert not Contact.objects.exists() and not Subscription.objects.exists()
