"""Tasks (calls to action): one thing a person has to do, by a date, about an account or about something
else another app names (`about_label`, with `about_url` linking back to it)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from touchpoint.accounts.models import Account


class TaskType(models.TextChoices):
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    REVIEW = "review", _("Review")
    RISK = "risk", _("Risk")
    RENEWAL = "renewal", _("Renewal")
    ONBOARDING = "onboarding", _("Onboarding")
    OTHER = "other", _("Other")


class TaskPriority(models.IntegerChoices):
    # Numbers so "most urgent first" is an ORDER BY.
    HIGH = 1, _("High")
    NORMAL = 2, _("Normal")
    LOW = 3, _("Low")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class TaskSource(models.TextChoices):
    MANUAL = "manual", _("By hand")
    PLAYBOOK = "playbook", _("Playbook")
    RULE = "rule", _("Rule")
    JOURNEY = "journey", _("Journey")


class Task(models.Model):
    # Most tasks are about an account. A task about something else (another app's row: a readiness
    # touchpoint, say) has no account; it says what it is about in `about_label`, and `about_url` is
    # the site-relative page it links back to. An account task may carry them too.
    account = models.ForeignKey(
        Account,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tasks",
    )
    about_label = models.CharField(_("about"), max_length=200, blank=True)
    about_url = models.CharField(_("link back"), max_length=500, blank=True)
    title = models.CharField(_("title"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
    )
    due_on = models.DateField(_("due date"))
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=TaskPriority.choices, default=TaskPriority.NORMAL
    )
    type = models.CharField(_("type"), max_length=16, choices=TaskType.choices, default=TaskType.OTHER)
    status = models.CharField(_("status"), max_length=16, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    source = models.CharField(
        _("source"), max_length=16, choices=TaskSource.choices, default=TaskSource.MANUAL
    )
    notes = models.TextField(_("notes"), blank=True)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["due_on", "priority", "id"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [
            models.Index(fields=["owner", "status", "due_on"], name="task_owner_open_due"),
            models.Index(fields=["account", "status", "due_on"], name="task_account_open_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True)
                | (~Q(status="open") & Q(closed_at__isnull=False)),
                name="task_closed_iff_not_open",
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | ~Q(cancel_reason=""), name="task_cancel_has_reason"
            ),
            models.CheckConstraint(
                condition=Q(account__isnull=False) | ~Q(about_label=""),
                name="task_about_an_account_or_a_label",
            ),
            # A path on this site, never another host: to a browser "//host" names one, and so does a
            # slash then a backslash. services.check_about_url says why to the person.
            models.CheckConstraint(
                condition=Q(about_url="")
                | (
                    Q(about_url__startswith="/")
                    & ~Q(about_url__startswith="//")
                    & ~Q(about_url__startswith="/\\")
                ),
                name="task_about_url_on_this_site",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == TaskStatus.OPEN

    @property
    def is_about_an_account(self) -> bool:
        return self.account_id is not None
