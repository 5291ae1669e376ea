"""Success plans: what the customer wants to achieve, in their words, and how both sides will know.

One plan per account (the current commitment; a closed plan is reopened or rewritten, and its
history is on the timeline). Objectives carry KPIs with a baseline, a target and where they stand;
stakeholders name who at the customer champions, decides and sponsors; plan milestones are the
dated steps (optionally tracking a framework milestone). A plan can be shared read-only with the
customer through a signed, expiring, revocable link.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    AGREED = "agreed", _("Agreed with the customer")
    CLOSED = "closed", _("Closed")


class SuccessPlan(models.Model):
    account = models.OneToOneField(
        "accounts.Account", verbose_name=_("account"), on_delete=models.CASCADE, related_name="success_plan"
    )
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True, max_length=5000)
    status = models.CharField(_("status"), max_length=8, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    # The framework whose template it started from (None: written from scratch).
    framework = models.ForeignKey(
        "success.SuccessFramework",
        verbose_name=_("success framework"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    agreed_by = models.ForeignKey(
        "accounts.Contact",
        verbose_name=_("agreed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    agreed_on = models.DateField(_("agreed on"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("success plan")
        verbose_name_plural = _("success plans")

    def __str__(self) -> str:
        return self.title


class PlanObjective(models.Model):
    plan = models.ForeignKey(SuccessPlan, on_delete=models.CASCADE, related_name="objectives")
    # The customer's own words.
    text = models.TextField(_("objective"), max_length=2000)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["plan_id", "position", "id"]
        verbose_name = _("objective")
        verbose_name_plural = _("objectives")

    def __str__(self) -> str:
        return self.text[:80]


class PlanKpi(models.Model):
    objective = models.ForeignKey(PlanObjective, on_delete=models.CASCADE, related_name="kpis")
    name = models.CharField(_("KPI"), max_length=100)
    unit = models.CharField(_("unit"), max_length=30, blank=True)
    baseline = models.DecimalField(_("baseline"), max_digits=18, decimal_places=4, null=True, blank=True)
    target = models.DecimalField(_("target"), max_digits=18, decimal_places=4, null=True, blank=True)
    current = models.DecimalField(_("current"), max_digits=18, decimal_places=4, null=True, blank=True)
    due_on = models.DateField(_("due"), null=True, blank=True)
    owner = models.ForeignKey(
        "accounts.Contact",
        verbose_name=_("KPI owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["objective_id", "id"]
        verbose_name = _("KPI")
        verbose_name_plural = _("KPIs")

    def __str__(self) -> str:
        return self.name


class StakeholderRole(models.TextChoices):
    CHAMPION = "champion", _("Champion")
    DECISION_MAKER = "decision_maker", _("Decision maker")
    EXECUTIVE_SPONSOR = "executive_sponsor", _("Executive sponsor")


class PlanStakeholder(models.Model):
    plan = models.ForeignKey(SuccessPlan, on_delete=models.CASCADE, related_name="stakeholders")
    contact = models.ForeignKey("accounts.Contact", verbose_name=_("contact"), on_delete=models.CASCADE)
    role = models.CharField(_("role"), max_length=20, choices=StakeholderRole.choices)

    class Meta:
        verbose_name = _("stakeholder")
        verbose_name_plural = _("stakeholders")
        constraints = [
            models.UniqueConstraint(fields=["plan", "contact", "role"], name="plan_stakeholder_once"),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} ({self.role})"


class PlanMilestoneStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    MISSED = "missed", _("Missed")


class PlanMilestone(models.Model):
    plan = models.ForeignKey(SuccessPlan, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(_("milestone"), max_length=100)
    due_on = models.DateField(_("due"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=PlanMilestoneStatus.choices, default=PlanMilestoneStatus.PLANNED
    )
    progress = models.PositiveSmallIntegerField(
        _("progress (%)"), default=0, validators=[MaxValueValidator(100)]
    )
    done_on = models.DateField(_("done on"), null=True, blank=True)
    # The framework milestone this step tracks: reaching it marks the step done.
    milestone = models.ForeignKey(
        "success.MilestoneDefinition",
        verbose_name=_("framework milestone"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["plan_id", "position", "id"]
        verbose_name = _("plan milestone")
        verbose_name_plural = _("plan milestones")
        constraints = [
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="plan_milestone_progress_max"),
        ]

    def __str__(self) -> str:
        return self.title


class PlanShareLink(models.Model):
    """A read-only link to the plan for the customer. Only the token's hash is stored."""

    plan = models.ForeignKey(SuccessPlan, on_delete=models.CASCADE, related_name="share_links")
    token_hash = models.CharField(max_length=64, unique=True)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_opened_at = models.DateTimeField(_("last opened"), null=True, blank=True)
    times_opened = models.PositiveIntegerField(_("times opened"), default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("share link")
        verbose_name_plural = _("share links")

    def __str__(self) -> str:
        return f"{self.plan_id} until {self.expires_at:%Y-%m-%d}"
