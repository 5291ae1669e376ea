from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from touchpoint.accounts.models import Account
from touchpoint.tasks.models import Task, TaskPriority, TaskStatus, TaskType
from touchpoint.tasks.selectors import (
    DUE_CHOICES,
    ORDERS,
    TaskFilters,
    changeable_accounts,
    possible_owners,
    possible_owners_of,
)

# type="date" inputs speak ISO-8601 whatever the reader's language.
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class OwnerField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.get_full_name()


class TaskForm(forms.Form):
    """A task's plan: what, by when, who, how urgent. The services check the rest."""

    title = forms.CharField(label=_("Title"), max_length=200)
    due_on = forms.DateField(label=_("Due date"), widget=DATE_WIDGET)
    owner = OwnerField(label=_("Owner"), required=False, queryset=possible_owners(), empty_label="—")
    priority = forms.TypedChoiceField(
        label=_("Priority"), choices=TaskPriority.choices, coerce=int, initial=TaskPriority.NORMAL
    )
    type = forms.ChoiceField(label=_("Type"), choices=TaskType.choices, initial=TaskType.OTHER)
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(
        self, *args: Any, account: Account | None = None, task: Task | None = None, **kwargs: Any
    ) -> None:
        """Owners to choose from: of `account`'s book, or of `task` when it is an existing one's plan
        (a task about no account must keep an owner)."""
        super().__init__(*args, **kwargs)
        owner = cast(forms.ModelChoiceField, self.fields["owner"])
        if task is not None:
            owner.queryset = possible_owners_of(task)
            if not task.is_about_an_account:
                owner.required = True
                owner.empty_label = None
        elif account is not None:
            owner.queryset = possible_owners(account)


class NewTaskForm(TaskForm):
    """A task on any account the person may change (the tasks page's "New task")."""

    account = forms.ModelChoiceField(label=_("Account"), queryset=Account.objects.none())
    field_order = ["account", "title", "due_on", "owner", "priority", "type", "notes"]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["account"]).queryset = changeable_accounts(user)


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Why cancel?"), max_length=500)


STATUS_CHOICES = [(value, label) for value, label in TaskStatus.choices] + [("all", _("Any status"))]
DUE_LABELS = {"overdue": _("Overdue"), "week": _("Due this week"), "all": _("Any due date")}


class TaskFilterForm(forms.Form):
    """The tasks page's filters: by default my open tasks, soonest first."""

    owner = forms.ChoiceField(label=_("Owner"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=STATUS_CHOICES)
    due = forms.ChoiceField(
        label=pgettext_lazy("task", "Due"),
        required=False,
        choices=[(key, DUE_LABELS[key]) for key in DUE_CHOICES],
    )
    q = forms.CharField(label=_("Account"), required=False, max_length=200)  # or what a task is about
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=[(key, key) for key in ORDERS])

    DEFAULTS = {"owner": "me", "status": TaskStatus.OPEN, "due": "all", "q": "", "sort": "due"}

    def __init__(self, data: Any, *, user: Any) -> None:
        # The defaults are the form's data when a parameter is left out, so the fields show them.
        super().__init__({**self.DEFAULTS, **{key: data.get(key) for key in self.DEFAULTS if key in data}})
        self.user = user
        people = [(str(person.pk), person.get_full_name()) for person in possible_owners()]
        cast(forms.ChoiceField, self.fields["owner"]).choices = [
            ("me", _("Me")),
            ("", _("Anyone")),
            ("none", _("Nobody")),
            *people,
        ]

    def _given(self, name: str, default: str) -> str:
        if name in self.errors:
            return default
        return self.cleaned_data.get(name) or ("" if name == "owner" else default)

    def filters(self) -> TaskFilters:
        """The filters asked for; a parameter left out (or not valid) takes its default."""
        self.is_valid()
        owner = self._given("owner", "me")
        owner_id: int | None = None
        if owner == "me":
            owner_id = self.user.pk
        elif owner == "none":
            owner_id = 0
        elif owner:
            owner_id = int(owner)
        status = self._given("status", TaskStatus.OPEN)
        return TaskFilters(
            owner_id=owner_id,
            status="" if status == "all" else status,
            due=self._given("due", "all"),
            search=self._given("q", ""),
            order=self._given("sort", "due"),
        )
