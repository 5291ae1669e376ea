"""The import's bulk write pass against the one-row services it replaces: the same file imported both
ways writes the same rows, timeline entries, audit entries, domain events, MRR movements and renewal
opportunities (ids and the moment of writing aside); problems are the same; a re-import writes nothing."""

import json
from datetime import UTC, date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import AccountFactory, SegmentFactory, UserFactory
from touchpoint.accounts.models import Account, Contact, TimelineEntry
from touchpoint.events.models import DomainEvent
from touchpoint.integrations.csv_import import runner
from touchpoint.revenue.models import MrrMovement, RenewalOpportunity, Subscription
from touchpoint.users.audit import triggers_suspended
from touchpoint.users.models import AuditLogEntry, User
from touchpoint.users.roles import Role

pytestmark = pytest.mark.django_db

WRITTEN = (TimelineEntry, AuditLogEntry, DomainEvent, MrrMovement, RenewalOpportunity)


def write(tmp_path, text: str, name: str = "file.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _refs() -> dict[str, dict[int, object]]:
    subscriptions = dict(Subscription.objects.values_list("pk", "external_id"))
    return {
        "accounts.account": dict(Account.objects.values_list("pk", "external_id")),
        "accounts.contact": dict(Contact.objects.values_list("pk", "external_id")),
        "revenue.subscription": subscriptions,
        "revenue.mrrmovement": {
            m.pk: (subscriptions[m.subscription_id], m.kind, m.occurred_on.isoformat())
            for m in MrrMovement.objects.all()
        },
        "revenue.renewalopportunity": {
            o.pk: (subscriptions[o.subscription_id], o.renewal_date.isoformat())
            for o in RenewalOpportunity.objects.all()
        },
    }


_ID_KEYS = {
    "parent_id": "accounts.account",
    "subscription_id": "revenue.subscription",
    "movement_id": "revenue.mrrmovement",
    "opportunity_id": "revenue.renewalopportunity",
    "contact_id": "accounts.contact",
}


def _payload(payload: dict, refs: dict) -> str:
    out = dict(payload)
    for key, kind in _ID_KEYS.items():
        if out.get(key) is not None:
            out[key] = refs[kind][out[key]]
    changes = out.get("changes")
    if isinstance(changes, dict) and isinstance(changes.get("parent"), list):
        changes = dict(changes, parent=[refs["accounts.account"].get(v, v) for v in changes["parent"]])
        out["changes"] = changes
    return json.dumps(out, sort_keys=True, default=str)


def _sorted(rows) -> list:
    return sorted(rows, key=repr)  # None beside numbers: compared as text


def snapshot() -> dict[str, list]:
    """Everything an import writes, with ids replaced by what they name (external ids), sorted."""
    refs = _refs()
    accounts = refs["accounts.account"]

    def ref(kind: str, pk) -> object:
        return refs.get(kind, {}).get(int(pk), pk) if pk not in (None, "") else None

    return {
        "accounts": _sorted(
            (
                a.external_id,
                a.name,
                a.domain,
                a.owner_id,
                a.segment_id,
                accounts.get(a.parent_id),
                a.engagement_model,
                a.created_at.date().isoformat() if a.created_at.date() < date.today() else "today",
            )
            for a in Account.objects.all()
        ),
        "contacts": _sorted(
            (
                c.external_id,
                accounts[c.account_id],
                c.name,
                c.email,
                c.title,
                c.phone,
                c.language,
                c.time_zone,
                tuple(sorted(c.roles.values_list("role", flat=True))),
            )
            for c in Contact.objects.all()
        ),
        "subscriptions": _sorted(
            (
                s.external_id,
                accounts[s.account_id],
                s.product,
                s.plan,
                s.quantity,
                str(s.mrr),
                s.currency,
                s.status,
                s.started_on,
                s.term_months,
                s.renewal_date,
                s.auto_renew,
                s.canceled_on,
            )
            for s in Subscription.objects.all()
        ),
        "movements": _sorted(
            (
                ref("revenue.subscription", m.subscription_id),
                accounts[m.account_id],
                m.kind,
                m.occurred_on,
                str(m.mrr_before),
                str(m.mrr_after),
                str(m.delta),
                m.currency,
                m.source,
                m.actor_id,
                json.dumps(m.subscription_before, sort_keys=True),
            )
            for m in MrrMovement.objects.all()
        ),
        "opportunities": _sorted(
            (
                ref("revenue.subscription", o.subscription_id),
                accounts[o.account_id],
                o.renewal_date,
                o.stage,
                o.forecast_category,
                str(o.expected_arr),
                o.owner_id,
                o.outcome_reason,
                o.closed_at is None,
            )
            for o in RenewalOpportunity.objects.all()
        ),
        "timeline": _sorted(
            (
                accounts[t.account_id],
                t.kind,
                t.title,
                t.body,
                t.actor_id,
                t.subject_type.model if t.subject_type else None,
                ref(f"{t.subject_type.app_label}.{t.subject_type.model}", t.subject_id)
                if t.subject_type
                else None,
                json.dumps(t.data, sort_keys=True),
                t.occurred_at.isoformat() if t.kind == "mrr_movement" else "now",
            )
            for t in TimelineEntry.objects.select_related("subject_type")
        ),
        "audit": _sorted(
            (
                a.actor_id,
                a.action,
                a.object_type,
                ref(a.object_type, a.object_id),
                a.object_repr,
                json.dumps(a.changes, sort_keys=True),
            )
            for a in AuditLogEntry.objects.all()
        ),
        "events": _sorted(
            (
                e.kind,
                accounts.get(e.account_id),
                e.subject_type,
                ref(e.subject_type, e.subject_id),
                _payload(e.payload, refs),
                e.actor_id,
                e.occurred_at.isoformat() if e.kind == "mrr.movement" else "now",
            )
            for e in DomainEvent.objects.all()
        ),
    }


def wipe() -> None:
    """Back to no accounts (with what hangs on them), no audit entries and no events."""
    Account.objects.all().delete()
    DomainEvent.objects.all().delete()
    # The audit log refuses deletes (users migration 0005); a test starting again may lift that.
    with triggers_suspended(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditLogEntry._meta.db_table}")


def same(bulk, one_at_a_time) -> None:
    assert bulk[0] == one_at_a_time[0]
    for key in one_at_a_time[1]:
        assert bulk[1][key] == one_at_a_time[1][key], key


def both_ways(paths, *, actor=None, setup=None) -> tuple[tuple, tuple]:
    """Import the files in order one row at a time and note everything; start again from `setup` and
    import them through the bulk services; returns (what each import said, snapshot) for the two."""
    outcomes = []
    for per_row in (True, False):
        wipe()
        if setup:
            setup()
        said = []
        for path, kind in paths:
            try:
                result = runner.run(path, kind, actor=actor, per_row=per_row)
            except ValidationError as error:  # the same refusal either way (a cycle of parents)
                said.append({"refused": error.messages})
                continue
            said.append({k: v for k, v in result.as_dict().items() if k != "seconds"})
        outcomes.append((said, snapshot()))
    return outcomes[0], outcomes[1]


ACCOUNTS = """Account ID,Account Name,Website,Account Owner,Segment,Parent Account ID,Engagement,Customer Since
P1,Parent One,parent.example,ann@example.com,Enterprise,,high,2020-03-01
C1,Child One,https://child.example/x,,Enterprise,P1,,
C2,Child Two,,bob@example.com,SMB,P9,low,
C3,Child Three,,,,P1,hybrid,2021-05-06
X1,Existing renamed,old.example,bob@example.com,,P1,,
P9,Parent Later,,,,,,
"""

CHANGES = """Account ID,Account Name,Website,Account Owner,Segment,Parent Account ID,Engagement,Customer Since
P1,Parent One,parent.example,bob@example.com,SMB,,high,2019-03-01
C1,Child One renamed,child.example,,Enterprise,P9,,
C2,Child Two,,bob@example.com,SMB,P9,low,
C3,Child Three,,,,P1,hybrid,2021-05-06
P9,Parent Later,later.example,,,C3,,
N1,New,,,,C1,,
"""


@pytest.fixture
def people(db):
    ann = UserFactory(email="ann@example.com", full_name="Ann", role=Role.CS_LEADER)
    bob = UserFactory(email="bob@example.com", full_name="Bob", role=Role.CSM)
    SegmentFactory(name="Enterprise")
    SegmentFactory(name="SMB")
    return ann, bob


@pytest.mark.parametrize("chunk", [2, 2000])
def test_accounts_written_in_bulk_are_those_written_one_at_a_time(tmp_path, people, monkeypatch, chunk):
    monkeypatch.setattr(runner, "CHUNK_ROWS", chunk)
    ann, _bob = people
    first, second = write(tmp_path, ACCOUNTS, "a.csv"), write(tmp_path, CHANGES, "b.csv")
    one_at_a_time, bulk = both_ways(
        [(first, "accounts"), (second, "accounts")],
        actor=ann,
        setup=lambda: AccountFactory(
            external_id="X1", name="Existing", domain="old.example", owner=None, segment=None
        ),
    )
    assert one_at_a_time[0][0]["created"] == 5 and one_at_a_time[0][0]["updated"] == 1
    assert one_at_a_time[0][1]["updated"] == 3 and one_at_a_time[0][1]["unchanged"] == 2
    same(bulk, one_at_a_time)
    assert len(bulk[1]["timeline"]) > 10 and bulk[1]["events"] and bulk[1]["audit"]


def test_a_row_the_actor_may_not_write_is_the_same_problem_either_way(tmp_path, people):
    _ann, bob = people  # a CSM: may not give an account to someone else
    path = write(tmp_path, "Account ID,Account Name,Account Owner\nA1,One,ann@example.com\nA2,Two,\n")
    one_at_a_time, bulk = both_ways([(path, "accounts")], actor=bob)
    same(bulk, one_at_a_time)
    (said,) = bulk[0]
    assert not said["written"] and said["problem_count"] == 1
    assert said["problems"][0].startswith("row 2, column Account Owner:")


def test_reimport_of_an_unchanged_file_writes_nothing(tmp_path, people):
    path = write(tmp_path, ACCOUNTS)
    AccountFactory(external_id="X1", name="Existing", domain="old.example", owner=None, segment=None)
    assert runner.run(path, "accounts").ok
    counts = [model.objects.count() for model in (Account, *WRITTEN)]
    with CaptureQueriesContext(connection) as queries:
        again = runner.run(path, "accounts")
    assert again.unchanged == 6 and again.created == again.updated == 0
    writes = [
        q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []
    assert [model.objects.count() for model in (Account, *WRITTEN)] == counts


def test_a_chunk_is_written_in_a_few_statements(tmp_path, people, monkeypatch):
    monkeypatch.setattr(runner, "CHUNK_ROWS", 1000)
    rows = "\n".join(f"B{n},Company {n},c{n}.example,bob@example.com,SMB" for n in range(1000))
    path = write(tmp_path, "Account ID,Account Name,Website,Account Owner,Segment\n" + rows + "\n")
    with CaptureQueriesContext(connection) as queries:
        result = runner.run(path, "accounts")
    assert result.created == 1000
    inserts = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("INSERT")]
    # accounts, timeline entries, audit entries, events: 1,000 rows each in as few statements as the
    # database's parameter limit allows (SQLite: 999 a statement), where one at a time made 4,000
    assert len(inserts) <= 60, len(inserts)
    assert len(queries) < 120, len(queries)
    assert TimelineEntry.objects.filter(kind="account_created").count() == 1000
    assert DomainEvent.objects.filter(kind="account.created").count() == 1000
    assert AuditLogEntry.objects.filter(action="account.create").count() == 1000


_names = st.text(alphabet="abcXYZ é", min_size=1, max_size=12).filter(str.strip)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["A", "B", "C", "D", "E"]),
            _names,
            st.sampled_from(["", "A", "B", "C", "Z"]),
            st.sampled_from(["", "ann@example.com", "bob@example.com"]),
        ),
        min_size=1,
        max_size=8,
        unique_by=lambda row: row[0],
    ),
    chunk=st.integers(1, 4),
)
def test_any_accounts_file_gives_the_same_writes_and_problems_either_way(tmp_path, people, rows, chunk):
    ann, _bob = people
    lines = ["Account ID,Account Name,Parent Account ID,Account Owner"]
    lines += [f'{external_id},"{name}",{parent},{owner}' for external_id, name, parent, owner in rows]
    path = write(tmp_path, "\n".join(lines) + "\n")
    original = runner.CHUNK_ROWS
    runner.CHUNK_ROWS = chunk
    try:
        one_at_a_time, bulk = both_ways([(path, "accounts"), (path, "accounts")], actor=ann)
    finally:
        runner.CHUNK_ROWS = original
    same(bulk, one_at_a_time)


# --- Subscriptions ----------------------------------------------------------------------------

SUBSCRIPTIONS = """Subscription ID,Account ID,Product,Plan,MRR,Currency,Start Date,Status,End Date
S1,A1,Core,Pro,100,,2024-01-01,active,
S2,A1,Addon,,50,,2024-06-01,active,
S3,A2,Core,,200,,2023-01-01,canceled,2024-01-01
S4,A2,Core Plus,,300,,2024-03-01,active,
S5,A3,Core,,80,EUR,2024-02-01,trialing,
S6,A3,Other,,90,EUR,2024-02-01,past_due,2026-02-01
S7,A4,Core,,0,,2024-02-01,active,
S8,A4,Old,,40,,2022-02-01,canceled,2022-12-01
S9,A4,New,,60,,2022-06-01,canceled,2023-06-01
"""

SUBSCRIPTION_CHANGES = """Subscription ID,Account ID,Product,Plan,MRR,Currency,Start Date,Status,End Date
S1,A1,Core,Pro,150,,2024-01-01,active,
S10,A1,Third,,20,,2024-09-01,active,
S3,A2,Core,,200,,2023-01-01,canceled,2024-01-01
S11,A2,Extra,,10,,2024-10-01,active,
S4,A2,Core Plus,,300,,2024-03-01,canceled,2024-11-01
"""


def _accounts_since_2020():
    from datetime import datetime

    for external_id in ("A1", "A2", "A3", "A4"):
        AccountFactory(
            external_id=external_id,
            name=external_id,
            domain=f"{external_id.lower()}.example",
            owner=User.objects.get(email="bob@example.com"),
            segment=None,
            created_at=datetime(2020, 1, 1, tzinfo=UTC),
        )


@pytest.fixture
def euro(db):
    from decimal import Decimal

    from touchpoint.revenue.models import ExchangeRate

    return ExchangeRate.objects.create(currency="EUR", rate=Decimal("1.10"))


@pytest.mark.parametrize("chunk", [3, 2000])
def test_subscriptions_written_in_bulk_are_those_written_one_at_a_time(
    tmp_path, people, euro, monkeypatch, chunk
):
    monkeypatch.setattr(runner, "CHUNK_ROWS", chunk)
    ann, _bob = people
    first = write(tmp_path, SUBSCRIPTIONS, "s.csv")
    second = write(tmp_path, SUBSCRIPTION_CHANGES, "t.csv")
    one_at_a_time, bulk = both_ways(
        [(first, "subscriptions"), (second, "subscriptions")], actor=ann, setup=_accounts_since_2020
    )
    assert one_at_a_time[0][0]["created"] == 9, one_at_a_time[0]
    assert one_at_a_time[0][1]["created"] == 2 and one_at_a_time[0][1]["updated"] == 2
    kinds = {kind for _s, _a, kind, *_rest in one_at_a_time[1]["movements"]}
    assert {"new", "expansion", "churn", "reactivation", "contraction"} <= kinds
    same(bulk, one_at_a_time)
    assert len(bulk[1]["opportunities"]) >= 5 and bulk[1]["events"]


def test_subscription_problems_are_the_same_either_way(tmp_path, people, euro):
    ann, _bob = people
    path = write(
        tmp_path,
        "Subscription ID,Account ID,Product,MRR,Currency,Start Date,Confirm\n"
        "S1,A1,Core,100,,2019-01-01,\n"  # before the account was created, not confirmed
        "S2,A1,Core,100,,2019-01-01,yes\n"
        "S3,A2,Core,100,GBP,2024-01-01,\n"  # no exchange rate
        "S4,A2,Core,100,EUR,2024-01-01,\n",
    )
    one_at_a_time, bulk = both_ways([(path, "subscriptions")], actor=ann, setup=_accounts_since_2020)
    same(bulk, one_at_a_time)
    (said,) = bulk[0]
    assert said["problem_count"] == 2 and not said["written"]
    assert said["problems"][0].startswith("row 2, column Start Date:")
    assert "Confirm" in said["problems"][0]
    assert said["problems"][1].startswith("row 4, column Currency:")


def test_subscription_reimport_writes_nothing(tmp_path, people, euro):
    _accounts_since_2020()
    path = write(tmp_path, SUBSCRIPTIONS)
    assert runner.run(path, "subscriptions").created == 9
    counts = [model.objects.count() for model in (Subscription, *WRITTEN)]
    with CaptureQueriesContext(connection) as queries:
        again = runner.run(path, "subscriptions")
    assert again.unchanged == 9
    writes = [
        q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []
    assert [model.objects.count() for model in (Subscription, *WRITTEN)] == counts


CONTACTS = """Contact ID,Account ID,First Name,Last Name,Email,Title,Phone,Roles
C1,A1,Ann,Lee,ann@a1.example,CFO,+1 555 0100,Decision maker; Champion
C2,A1,Bo,,BO@A1.example,,,
C3,A2,,,cy@a2.example,Ops,,User
C4,A2,Dee,Du,cy@a2.example,,,
C5,Nowhere,Eve,,eve@x.example,,,
C6,A1,Fay,,not-an-email,,,
C7,A2,Gus,,gus@a2.example,,,Astronaut
C8,A1,Hal,,hal@a1.example,,,Champion
"""

CONTACT_CHANGES = """Contact ID,Account ID,First Name,Last Name,Email,Title,Phone,Roles
C1,A1,Ann,Lee-Park,ann@a1.example,CFO,+1 555 0100,Decision maker
C2,A1,Bo,,bo.new@a1.example,,,
C9,A1,Ivy,,bo@a1.example,,,
C10,A2,Jo,,jo@a2.example,,,User
"""


def _two_accounts():
    AccountFactory(external_id="A1", name="One", domain="one.example", owner=None, segment=None)
    AccountFactory(external_id="A2", name="Two", domain="two.example", owner=None, segment=None)


@pytest.mark.parametrize("chunk", [2, 2000])
def test_contacts_written_in_bulk_are_those_written_one_at_a_time(tmp_path, people, monkeypatch, chunk):
    monkeypatch.setattr(runner, "CHUNK_ROWS", chunk)
    ann, _bob = people
    valid = "\n".join(
        line for line in CONTACTS.splitlines() if not line.startswith(("C4,", "C5,", "C6,", "C7,"))
    )
    first = write(tmp_path, valid + "\n", "c.csv")
    second = write(tmp_path, CONTACT_CHANGES, "d.csv")
    one_at_a_time, bulk = both_ways(
        [(first, "contacts"), (second, "contacts")], actor=ann, setup=_two_accounts
    )
    assert one_at_a_time[0][0]["created"] == 4, one_at_a_time[0]
    # C9 takes the email C2 gives up a row before: the update is written before the new contact.
    said = one_at_a_time[0][1]
    assert (said["created"], said["updated"], said["problem_count"]) == (2, 2, 0), said
    same(bulk, one_at_a_time)
    assert {c[0] for c in bulk[1]["contacts"]} == {"C1", "C2", "C3", "C8", "C9", "C10"}
    assert (
        "C1",
        "A1",
        "Ann Lee-Park",
        "ann@a1.example",
        "CFO",
        "+1 555 0100",
        "",
        "",
        ("decision_maker",),
    ) in bulk[1]["contacts"]
    assert any(kind == "contact.added" for kind, *_rest in bulk[1]["events"])


def test_contact_problems_are_the_same_either_way(tmp_path, people):
    ann, _bob = people
    checked = write(tmp_path, CONTACTS, "checked.csv")  # problems the check pass finds
    clash = write(  # and one only writing finds: two new contacts of one account with one email
        tmp_path,
        "Contact ID,Account ID,Name,Email\nC3,A2,Cy,cy@a2.example\nC4,A2,Dee,CY@a2.example\n",
        "e.csv",
    )
    one_at_a_time, bulk = both_ways(
        [(checked, "contacts"), (clash, "contacts")], actor=ann, setup=_two_accounts
    )
    same(bulk, one_at_a_time)
    first, second = bulk[0]
    assert not first["written"] and [p.split(":")[0] for p in first["problems"]] == [
        "row 6, column Account ID",
        "row 7, column Email",
        "row 8, column Roles",
    ], first["problems"]
    assert not second["written"] and second["problems"] == [
        "row 3, column Email: This account already has a contact with this email."
    ], second["problems"]
    assert bulk[1]["contacts"] == []


def test_contacts_reimport_writes_nothing(tmp_path, people):
    _two_accounts()
    path = write(tmp_path, CONTACT_CHANGES)
    assert runner.run(path, "contacts").created == 4
    counts = [model.objects.count() for model in (Contact, *WRITTEN)]
    with CaptureQueriesContext(connection) as queries:
        again = runner.run(path, "contacts")
    assert again.unchanged == 4
    writes = [
        q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []
    assert [model.objects.count() for model in (Contact, *WRITTEN)] == counts
