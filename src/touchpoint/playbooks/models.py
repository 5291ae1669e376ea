"""Playbooks: named, reusable lists of steps that become tasks on an account, started by hand or by a rule.

A `Playbook` has ordered `PlaybookStep`s, each a task to come with a due date relative to an anchor
date (the day it starts, or a renewal date for the renewal playbook: −120 days…). Starting one on an
account makes a `PlaybookRun` with one task per step (`PlaybookRunStep`). A `PlaybookRule` says which
playbook a trigger starts (health turned red, a renewal coming, a new account, a champion left).

A rule fires once per occurrence: the run stores an occurrence key ("renewal:<subscription>:<date>")
and the database holds (account, occurrence key) unique, so a second worker, a re-run of the scan or
a restart finds the key taken instead of starting a second run.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from touchpoint.accounts.models import Account
from touchpoint.tasks.models import Task, TaskPriority, TaskType

# Two years either side of the anchor: farther is a typo (and tasks refuse due dates five years off).
MAX_DAY_OFFSET = 730


class OwnerRole(models.TextChoices):
    ACCOUNT_OWNER = "account_owner", _("Account owner")
    LEADER = "leader", _("CS leader")


class Playbook(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    reason = models.TextField(_("reason"), blank=True, help_text=_("Why and when to run this playbook."))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("playbook")
        verbose_name_plural = _("playbooks")

    def __str__(self) -> str:
        return self.name


class PlaybookStep(models.Model):
    playbook = models.ForeignKey(
        Playbook, verbose_name=_("playbook"), on_delete=models.CASCADE, related_name="steps"
    )
    position = models.PositiveSmallIntegerField(_("position"))
    title = models.CharField(_("title"), max_length=200)
    day_offset = models.IntegerField(
        _("day"), default=0, help_text=_("Days after the anchor date (negative: before it).")
    )
    task_type = models.CharField(
        _("task type"), max_length=16, choices=TaskType.choices, default=TaskType.OTHER
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=TaskPriority.choices, default=TaskPriority.NORMAL
    )
    owner_role = models.CharField(
        _("owner"), max_length=16, choices=OwnerRole.choices, default=OwnerRole.ACCOUNT_OWNER
    )
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["playbook", "position"]
        verbose_name = _("playbook step")
        verbose_name_plural = _("playbook steps")
        constraints = [
            models.UniqueConstraint(fields=["playbook", "position"], name="playbook_step_position_once"),
            models.CheckConstraint(
                condition=Q(day_offset__gte=-MAX_DAY_OFFSET, day_offset__lte=MAX_DAY_OFFSET),
                name="playbook_step_day_offset_bounded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.playbook}: {self.title}"


class RuleKind(models.TextChoices):
    HEALTH_RED = "health_red", _("Health turned red")
    RENEWAL_DUE = "renewal_due", _("Renewal coming up")
    NEW_ACCOUNT = "new_account", _("New account")
    CHAMPION_LEFT = "champion_left", _("Champion left")


class PlaybookRule(models.Model):
    """Which playbook a trigger starts. One rule per trigger, so each occurrence starts one playbook."""

    kind = models.CharField(_("trigger"), max_length=32, choices=RuleKind.choices, unique=True)
    playbook = models.ForeignKey(
        Playbook, verbose_name=_("playbook"), on_delete=models.PROTECT, related_name="rules"
    )
    is_active = models.BooleanField(_("active"), default=True)
    # renewal_due: {"days_before": 120}, how far ahead of a renewal date the playbook starts.
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["kind"]
        verbose_name = _("playbook rule")
        verbose_name_plural = _("playbook rules")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.playbook}"


class RunTrigger(models.TextChoices):
    MANUAL = "manual", _("By hand")
    RULE = "rule", _("Rule")
    JOURNEY = "journey", _("Journey")


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    COMPLETED = "completed", _("Completed")
    STOPPED = "stopped", _("Stopped")


class PlaybookRun(models.Model):
    playbook = models.ForeignKey(
        Playbook, verbose_name=_("playbook"), on_delete=models.PROTECT, related_name="runs"
    )
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="playbook_runs"
    )
    trigger = models.CharField(_("started by"), max_length=16, choices=RunTrigger.choices)
    rule = models.ForeignKey(
        PlaybookRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    # What fired it, e.g. "renewal:12:2027-03-01": (account, key) is unique, so it fires once.
    occurrence_key = models.CharField(_("occurrence"), max_length=200, blank=True)
    anchor_date = models.DateField(_("anchor date"))
    status = models.CharField(
        _("status"), max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING, db_index=True
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    stopped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    stopped_reason = models.CharField(_("reason for stopping"), max_length=500, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("playbook run")
        verbose_name_plural = _("playbook runs")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "occurrence_key"],
                condition=~Q(occurrence_key=""),
                name="playbook_run_once_per_occurrence",
            ),
            models.CheckConstraint(
                condition=Q(status="running", ended_at__isnull=True)
                | (~Q(status="running") & Q(ended_at__isnull=False)),
                name="playbook_run_ended_iff_not_running",
            ),
            models.CheckConstraint(
                condition=~Q(status="stopped") | ~Q(stopped_reason=""), name="playbook_run_stop_has_reason"
            ),
        ]
        indexes = [models.Index(fields=["account", "status"], name="playbook_run_account_status")]

    def __str__(self) -> str:
        return f"{self.playbook} on {self.account}"


class PlaybookRunStep(models.Model):
    run = models.ForeignKey(PlaybookRun, on_delete=models.CASCADE, related_name="run_steps")
    # The step may be edited or removed later (apply replaces steps); the run keeps its own copy.
    step = models.ForeignKey(PlaybookStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    position = models.PositiveSmallIntegerField(_("position"))
    title = models.CharField(_("title"), max_length=200)
    task = models.OneToOneField(
        Task, null=True, blank=True, on_delete=models.SET_NULL, related_name="playbook_run_step"
    )

    class Meta:
        ordering = ["run", "position"]
        constraints = [models.UniqueConstraint(fields=["run", "position"], name="playbook_run_step_once")]

    def __str__(self) -> str:
        return self.title
