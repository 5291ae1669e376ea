"""Reads of tasks that the pages, the home section, the portfolio and the API share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from touchpoint.accounts.models import Account, AccountTeamMember
from touchpoint.accounts.rules import readable_accounts_q
from touchpoint.tasks.models import Task, TaskStatus
from touchpoint.users.models import User
from touchpoint.users.permissions import has_any_role, is_admin, is_csm, is_leader
from touchpoint.users.roles import Role

# What the pages call "due soon": within a week.
DUE_SOON_DAYS = 7
DUE_CHOICES = ("overdue", "week", "all")
ORDERS = {
    "due": ("due_on", "priority", "id"),
    "-due": ("-due_on", "priority", "-id"),
}


def changeable_accounts_q(user: Any, path: str = "") -> Q:
    """`tasks.change_task` on accounts as a filter: everything for leaders and admins, the book for a CSM."""
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    if user.is_superuser or is_admin(user) or is_leader(user):
        return Q()
    if is_csm(user):
        return Q(**{f"{path}owner_id": user.pk}) | Q(
            **{f"{path}pk__in": AccountTeamMember.objects.filter(user_id=user.pk).values("account_id")}
        )
    return Q(pk__in=[])


def changeable_accounts(user: Any) -> QuerySet[Account]:
    return Account.objects.filter(changeable_accounts_q(user)).order_by("name")


def _about_no_account_q(user: Any) -> Q:
    """Tasks about no account that `user` may read and change: leaders and admins all of them, anyone
    else with a role those they own or made (the rule `its_people` in tasks/rules.py, as a filter)."""
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    if user.is_superuser or is_admin(user) or is_leader(user):
        return Q(account__isnull=True)
    if has_any_role(user):
        return Q(account__isnull=True) & (Q(owner_id=user.pk) | Q(created_by_id=user.pk))
    return Q(pk__in=[])


def readable_tasks_q(user: Any) -> Q:
    """`tasks.view_task` on tasks as a filter: those of the accounts `user` reads, and their tasks
    about no account."""
    return (Q(account__isnull=False) & readable_accounts_q(user, "account__")) | _about_no_account_q(user)


def changeable_tasks_q(user: Any) -> Q:
    """`tasks.change_task` on tasks as a filter: those of the accounts `user` changes, and their tasks
    about no account."""
    return (Q(account__isnull=False) & changeable_accounts_q(user, "account__")) | _about_no_account_q(user)


def changeable_task_ids(user: Any, tasks: list[Task]) -> set[int]:
    """Which of these tasks `user` may change (close): one query, however many."""
    if not tasks:
        return set()
    ids = {task.pk for task in tasks}
    return set(Task.objects.filter(changeable_tasks_q(user), pk__in=ids).values_list("pk", flat=True))


def possible_owners(account: Account | None = None) -> QuerySet[User]:
    """People who may own a task (on `account`, when given): leaders, admins and CSMs (of its book).

    The same rule as `services.check_owner`, as a filter for the form's choices.
    """
    staff = Q(groups__name__in=[Role.ADMIN.value, Role.CS_LEADER.value])
    csms = Q(groups__name=Role.CSM.value)
    if account is not None:
        csms &= Q(pk=account.owner_id) | Q(pk__in=account.team.values("user_id"))
    return User.objects.filter(Q(is_active=True) & (staff | csms)).distinct().order_by("full_name", "email")


def possible_owners_of(task: Task) -> QuerySet[User]:
    """Who may own this task: as `possible_owners` on its account; for a task about no account, anyone
    active with a role (the app that made it may have given it to a viewer), its owner included."""
    if task.account is not None:
        return possible_owners(task.account)
    anyone = Q(is_active=True, groups__name__in=[role.value for role in Role])
    return User.objects.filter(anyone | Q(pk=task.owner_id)).distinct().order_by("full_name", "email")


@dataclass(frozen=True)
class TaskFilters:
    """What the tasks page and the API list by. `owner_id` 0 means "nobody" (unowned tasks)."""

    owner_id: int | None = None
    status: str = TaskStatus.OPEN
    due: str = "all"  # overdue | week | all
    due_before: date | None = None
    account_id: int | None = None
    search: str = ""
    order: str = "due"


def tasks(*, reader: Any, filters: TaskFilters, today: date) -> QuerySet[Task]:
    """The tasks `reader` may read (those of the accounts they read, and theirs about no account),
    filtered and ordered. The search matches the account's name or what the task is about."""
    qs = Task.objects.filter(readable_tasks_q(reader)).select_related(
        "account", "owner", "created_by", "closed_by"
    )
    if filters.owner_id == 0:
        qs = qs.filter(owner__isnull=True)
    elif filters.owner_id is not None:
        qs = qs.filter(owner_id=filters.owner_id)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.due == "overdue":
        qs = qs.filter(status=TaskStatus.OPEN, due_on__lt=today)
    elif filters.due == "week":
        qs = qs.filter(due_on__lte=today + timedelta(days=DUE_SOON_DAYS))
    if filters.due_before is not None:
        qs = qs.filter(due_on__lt=filters.due_before)
    if filters.account_id is not None:
        qs = qs.filter(account_id=filters.account_id)
    if filters.search.strip():
        words = filters.search.strip()
        qs = qs.filter(Q(account__name__icontains=words) | Q(about_label__icontains=words))
    return qs.order_by(*ORDERS.get(filters.order, ORDERS["due"]))


def task_for_page(task_id: int) -> Task:
    """One task with what its page shows (raises Task.DoesNotExist)."""
    return Task.objects.select_related("account", "owner", "created_by", "closed_by").get(pk=task_id)


def account_tasks(account: Account, *, closed_limit: int = 5) -> tuple[list[Task], list[Task]]:
    """The account's open tasks (soonest first) and its most recently closed ones."""
    base = Task.objects.filter(account=account).select_related("owner", "closed_by")
    open_tasks = list(base.filter(status=TaskStatus.OPEN).order_by("due_on", "priority", "id"))
    closed = list(base.exclude(status=TaskStatus.OPEN).order_by("-closed_at", "-id")[:closed_limit])
    return open_tasks, closed


def due_for_home(
    *, accounts_q: Q, viewer: Any, owner_ids: frozenset[int] | None, today: date, limit: int = 20
):
    """Open tasks overdue or due within a week on the given accounts (of the given owners, and
    nobody's), and those about no account that the viewer reads (of the given owners), most urgent
    first: two queries however many there are."""
    on_accounts = Q(account__isnull=False) & accounts_q
    about_no_account = _about_no_account_q(viewer)
    if owner_ids is not None:
        on_accounts &= Q(owner_id__in=owner_ids) | Q(owner__isnull=True)
        about_no_account &= Q(owner_id__in=owner_ids)
    qs = Task.objects.filter(
        on_accounts | about_no_account,
        status=TaskStatus.OPEN,
        due_on__lte=today + timedelta(days=DUE_SOON_DAYS),
    )
    counts = qs.aggregate(total=Count("id"), overdue=Count("id", filter=Q(due_on__lt=today)))
    rows = list(qs.select_related("account", "owner").order_by("due_on", "priority", "id")[:limit])
    return rows, counts["total"], counts["overdue"]


def _count_of_open(extra: Q | None = None) -> Coalesce:
    found = Task.objects.filter(account_id=OuterRef("pk"), status=TaskStatus.OPEN)
    if extra is not None:
        found = found.filter(extra)
    counted = found.order_by().values("account_id").annotate(n=Count("id")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def with_open_tasks(qs: QuerySet[Account], *, today: date) -> QuerySet[Account]:
    """Each account's number of open tasks (`open_tasks`) and of those overdue (`overdue_tasks`), as
    subqueries: no join, so other columns' joins and aggregates are not multiplied."""
    return qs.annotate(open_tasks=_count_of_open(), overdue_tasks=_count_of_open(Q(due_on__lt=today)))
