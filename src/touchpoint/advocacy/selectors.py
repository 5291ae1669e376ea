"""Every read of advocacy beyond a `.get()`: the advocates list with what each did, asks, the pool of
candidates worth asking, one contact's advocacy record and the account panel. Lists are filtered by
the accounts the reader may read (`readable_accounts_q`) and cost a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import TruncDate
from django.utils import timezone

from touchpoint.accounts.models import Account, Contact
from touchpoint.accounts.rules import readable_accounts_q
from touchpoint.advocacy.models import (
    OPEN_ASK_STATUSES,
    Activity,
    ActivityKind,
    AdvocacySettings,
    Advocate,
    Ask,
    Candidate,
    CandidateSource,
    Reward,
)
from touchpoint.health.models import HealthScore
from touchpoint.revenue.portfolio_columns import arr_subquery

HEALTHY_GRADE = "green"


def _kind_counts() -> dict[str, Any]:
    return {
        f"n_{kind}": Count("activities", filter=Q(activities__kind=kind), distinct=True)
        for kind in ActivityKind.values
    }


def advocates(
    reader: Any, *, account_id: int | None = None, kind: str = "", query: str = ""
) -> QuerySet[Advocate]:
    """Advocates of the accounts the reader reads, with `n_<kind>` activity counts, `n_activities`,
    `last_activity_on` and `n_rewards`; the most active first."""
    qs = Advocate.objects.filter(readable_accounts_q(reader, "account__")).select_related(
        "contact", "account"
    )
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    if kind:
        qs = qs.filter(activities__kind=kind).distinct()
    if query:
        qs = qs.filter(Q(contact__name__icontains=query) | Q(account__name__icontains=query))
    rewards = Reward.objects.filter(advocate_id=OuterRef("pk")).order_by().values("advocate_id")
    return qs.annotate(
        **_kind_counts(),
        n_activities=Count("activities", distinct=True),
        last_activity_on=Max("activities__occurred_on"),
        n_rewards=Subquery(rewards.annotate(n=Count("id")).values("n")[:1]),
    ).order_by(F("n_activities").desc(), F("last_activity_on").desc(nulls_last=True), "contact__name", "id")


def asks(
    reader: Any,
    *,
    status: str = "",
    open_only: bool = False,
    account_id: int | None = None,
    contact_id: int | None = None,
) -> QuerySet[Ask]:
    qs = Ask.objects.filter(readable_accounts_q(reader, "account__")).select_related(
        "contact", "account", "asked_by", "activity"
    )
    if status:
        qs = qs.filter(status=status)
    if open_only:
        qs = qs.filter(status__in=OPEN_ASK_STATUSES)
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    if contact_id is not None:
        qs = qs.filter(contact_id=contact_id)
    return qs.order_by("-asked_on", "-id")


def rewards(
    reader: Any, *, account_id: int | None = None, advocate_id: int | None = None
) -> QuerySet[Reward]:
    qs = Reward.objects.filter(readable_accounts_q(reader, "account__")).select_related(
        "advocate__contact", "account", "given_by"
    )
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    if advocate_id is not None:
        qs = qs.filter(advocate_id=advocate_id)
    return qs.order_by("-given_on", "-id")


def activities(reader: Any, *, advocate_id: int | None = None) -> QuerySet[Activity]:
    qs = Activity.objects.filter(readable_accounts_q(reader, "account__")).select_related(
        "advocate__contact", "account", "recorded_by"
    )
    if advocate_id is not None:
        qs = qs.filter(advocate_id=advocate_id)
    return qs.order_by("-occurred_on", "-id")


def candidates(reader: Any, *, active_only: bool = True) -> QuerySet[Candidate]:
    qs = Candidate.objects.filter(readable_accounts_q(reader, "account__")).select_related(
        "contact", "account"
    )
    if active_only:
        qs = qs.filter(is_candidate=True)
    return qs.order_by("-since", "id")


# --- The pool --------------------------------------------------------------------------------------


def latest_grade(account_ref: str = "account_id") -> Subquery:
    """The latest health grade of the account at `account_ref` (None when never scored)."""
    latest = HealthScore.objects.filter(account_id=OuterRef(account_ref)).order_by("-day")
    return Subquery(latest.values("grade")[:1])


def pool(reader: Any, *, today: date | None = None, quiet_days: int | None = None) -> QuerySet[Candidate]:
    """Candidates worth asking now: promoters (by their latest NPS answer, or marked by hand) at accounts
    whose latest health grade is green, not asked within `quiet_days` (the admin setting, default 90).

    Sorted by how recent the score is (its day), then by the account's ARR (largest first). Each row
    carries `grade`, `arr`, `last_asked_on` and `score_day`.
    """
    today = today or timezone.localdate()
    if quiet_days is None:
        quiet_days = AdvocacySettings.current().pool_quiet_days
    cutoff = today - timedelta(days=quiet_days)
    recent_asks = Ask.objects.filter(contact_id=OuterRef("contact_id"), asked_on__gt=cutoff)
    last_ask = (
        Ask.objects.filter(contact_id=OuterRef("contact_id")).order_by("-asked_on").values("asked_on")[:1]
    )
    return (
        Candidate.objects.filter(readable_accounts_q(reader, "account__"), is_candidate=True)
        .filter(Q(category="promoter") | Q(source=CandidateSource.MANUAL))
        .annotate(grade=latest_grade())
        .filter(grade=HEALTHY_GRADE)
        .exclude(Exists(recent_asks))
        .annotate(
            arr=arr_subquery("account_id"),
            last_asked_on=Subquery(last_ask),
            score_day=TruncDate("since"),
            is_advocate=Exists(Advocate.objects.filter(contact_id=OuterRef("contact_id"))),
        )
        .select_related("contact", "account")
        .order_by(F("score_day").desc(), F("arr").desc(nulls_last=True), "contact__name", "id")
    )


# --- One contact's record, the account panel ----------------------------------------------------------


@dataclass(frozen=True)
class ContactRecord:
    contact: Contact
    advocate: Advocate | None
    candidate: Candidate | None
    asks: list[Ask]
    activities: list[Activity]
    rewards: list[Reward]
    grade: str | None


def contact_record(contact: Contact) -> ContactRecord:
    """Everything advocacy knows of one contact (a few queries, whatever the history)."""
    advocate = Advocate.objects.filter(contact=contact).first()
    candidate = Candidate.objects.filter(contact=contact).first()
    found_asks = list(
        Ask.objects.filter(contact=contact)
        .select_related("asked_by", "activity")
        .order_by("-asked_on", "-id")
    )
    found_activities: list[Activity] = []
    found_rewards: list[Reward] = []
    if advocate is not None:
        found_activities = list(
            advocate.activities.select_related("recorded_by", "ask").order_by("-occurred_on", "-id")
        )
        found_rewards = list(advocate.rewards.select_related("given_by").order_by("-given_on", "-id"))
    grade = (
        HealthScore.objects.filter(account_id=contact.account_id)
        .order_by("-day")
        .values_list("grade", flat=True)
        .first()
    )
    return ContactRecord(contact, advocate, candidate, found_asks, found_activities, found_rewards, grade)


@dataclass(frozen=True)
class AccountAdvocacy:
    advocates: list[Advocate]
    open_asks: list[Ask]
    history: list[Any]  # closed asks, activities and rewards, newest first


HISTORY_ROWS = 15


def account_advocacy(reader: Any, account: Account) -> AccountAdvocacy:
    found_advocates = list(advocates(reader, account_id=account.pk))
    account_asks = asks(reader, account_id=account.pk)
    open_asks = list(account_asks.filter(status__in=OPEN_ASK_STATUSES))
    closed = list(
        account_asks.exclude(status__in=OPEN_ASK_STATUSES).filter(activity__isnull=True)[:HISTORY_ROWS]
    )
    done = list(activities(reader).filter(account_id=account.pk)[:HISTORY_ROWS])
    given = list(rewards(reader, account_id=account.pk)[:HISTORY_ROWS])
    history: list[Any] = [*closed, *done, *given]
    history.sort(key=_history_day, reverse=True)
    return AccountAdvocacy(found_advocates, open_asks, history[:HISTORY_ROWS])


def _history_day(row: Any) -> date:
    if isinstance(row, Ask):
        return row.closed_on or row.asked_on
    if isinstance(row, Activity):
        return row.occurred_on
    return row.given_on


def open_asks(reader: Any) -> QuerySet[Ask]:
    return asks(reader, open_only=True)


def contacts_of(account_ids: list[int]) -> QuerySet[Contact]:
    return Contact.objects.filter(account_id__in=account_ids).order_by("name", "id")
