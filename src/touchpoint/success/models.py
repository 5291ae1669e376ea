"""Success frameworks and their lifecycle phases.

A framework is the path a kind of customer walks after buying (setup, first use, adoption,
renewal…). A company may keep several, one per segment or product. Each phase has entry rules on
data (success/definition.py says their shape); the placement engine (success/placement.py) puts
every account in the furthest phase whose rules hold. Milestones are the steps to value the funnel
counts: product milestones found in usage, outcome milestones set by hand with evidence.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SuccessFramework(models.Model):
    # The stable name the YAML text uses (`key:`); blank only on frameworks made before keys existed.
    key = models.SlugField(_("key"), max_length=64, blank=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    is_default = models.BooleanField(_("default"), default=False)
    product = models.CharField(_("product"), max_length=200, blank=True)
    # Accounts in these segments walk this framework unless one was set for them by hand.
    segments = models.ManyToManyField(
        "accounts.Segment", verbose_name=_("segments"), blank=True, related_name="success_frameworks"
    )
    # The starting point of a new success plan (objectives, KPIs, milestones): PlanTemplate in
    # success/definition.py, validated; the plans app reads it.
    plan_template = models.JSONField(_("success plan template"), default=dict, blank=True)
    # The framework as last applied from text (`touchpoint framework apply`, the editor page), so
    # export gives back what the leader wrote, comments included.
    source = models.TextField(_("source"), blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("success framework")
        verbose_name_plural = _("success frameworks")
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="one_default_framework"
            ),
            models.UniqueConstraint(fields=["key"], condition=~models.Q(key=""), name="framework_key_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class LifecyclePhase(models.Model):
    framework = models.ForeignKey(SuccessFramework, on_delete=models.CASCADE, related_name="phases")
    key = models.SlugField(_("key"), max_length=64, blank=True)
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    customer_does = models.TextField(_("what the customer does"), blank=True)
    customer_expects = models.TextField(_("what the customer expects"), blank=True)
    # The seeds' "who and what helps": the roles, processes and tools that carry the customer through.
    roles = models.TextField(_("roles that help"), blank=True)
    processes = models.TextField(_("processes that help"), blank=True)
    tools = models.TextField(_("tools that help"), blank=True)
    # All must hold to be in this phase (a list of PhaseCondition dicts, success/definition.py).
    # Empty: the phase holds for every account (usually the first phase).
    entry_rules = models.JSONField(_("entry rules"), default=list, blank=True)

    class Meta:
        ordering = ["framework_id", "position", "id"]
        verbose_name = _("lifecycle phase")
        verbose_name_plural = _("lifecycle phases")
        constraints = [
            models.UniqueConstraint(fields=["framework", "name"], name="phase_name_unique_in_framework")
        ]

    def __str__(self) -> str:
        return self.name


class AccountPlacement(models.Model):
    """Where an account stands: the success framework it walks and its phase in it.

    One row per account at most (none: never placed). The phase always belongs to the framework;
    `success.services.place_account` is the only writer and checks it.
    """

    account = models.OneToOneField(
        "accounts.Account", on_delete=models.CASCADE, related_name="placement", verbose_name=_("account")
    )
    framework = models.ForeignKey(
        SuccessFramework,
        verbose_name=_("success framework"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="placements",
    )
    phase = models.ForeignKey(
        LifecyclePhase,
        verbose_name=_("lifecycle phase"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="placements",
    )
    entered_at = models.DateTimeField(_("in this phase since"), default=timezone.now)
    # True when a person chose the framework; the placement engine then keeps it rather than
    # taking the one the account's segment maps to.
    framework_set_by_hand = models.BooleanField(_("framework set by hand"), default=False)
    # Where the rules put the account at the last placement run (phase is where it is: the override
    # when there is one, else this).
    ruled_phase = models.ForeignKey(
        LifecyclePhase,
        verbose_name=_("phase by the rules"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # A leader's override, kept until the rules agree with it or it is lifted.
    override_phase = models.ForeignKey(
        LifecyclePhase,
        verbose_name=_("phase set by hand"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    override_reason = models.TextField(_("reason"), blank=True)
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("set by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    override_at = models.DateTimeField(_("set at"), null=True, blank=True)
    # The day the customer's journey started (first subscription start, else the account's creation):
    # what "days since start", time to value and the funnel's start cohorts count from.
    started_on = models.DateField(_("started on"), null=True, blank=True, db_index=True)
    placed_at = models.DateTimeField(_("last placed"), null=True, blank=True)

    class Meta:
        verbose_name = _("account placement")
        verbose_name_plural = _("account placements")
        indexes = [models.Index(fields=["phase"], name="placement_phase")]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.phase or self.framework or '—'}"

    def clean(self) -> None:
        # The admin's forms call this; the service checks the same (success.services.check_phase).
        if self.phase is not None and self.framework_id and self.phase.framework_id != self.framework_id:
            raise ValidationError({"phase": _("This phase belongs to another success framework.")})


class MilestoneKind(models.TextChoices):
    # "The product works": found in usage by a rule.
    PRODUCT = "product", _("Product milestone")
    # "The customer got what they bought it for": set by hand, with evidence and who confirmed it.
    OUTCOME = "outcome", _("Outcome milestone")


class MilestoneDefinition(models.Model):
    """A step on the way to value, defined per framework, in the order the funnel counts them."""

    framework = models.ForeignKey(SuccessFramework, on_delete=models.CASCADE, related_name="milestones")
    key = models.SlugField(_("key"), max_length=64)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(
        _("kind"), max_length=8, choices=MilestoneKind.choices, default=MilestoneKind.PRODUCT
    )
    # Product milestones: a MilestoneRule dict (success/definition.py). Outcome milestones: empty.
    rule = models.JSONField(_("rule"), default=dict, blank=True)
    is_first_value = models.BooleanField(_("first value"), default=False)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    # The funnel calls an account stalled before this milestone when the previous one is this many
    # days old and this one is not reached.
    stall_after_days = models.PositiveSmallIntegerField(_("stalled after (days)"), default=30)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["framework_id", "position", "id"]
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        constraints = [
            models.UniqueConstraint(fields=["framework", "key"], name="milestone_key_unique_in_framework"),
            models.UniqueConstraint(
                fields=["framework"],
                condition=models.Q(is_first_value=True),
                name="one_first_value_milestone",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class MilestoneSource(models.TextChoices):
    RULE = "rule", _("Found in usage")
    MANUAL = "manual", _("Set by hand")
    IMPORT = "import", _("Imported")


class MilestoneReached(models.Model):
    """An account reached a milestone on a day (once; the first time counts)."""

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="milestones_reached"
    )
    milestone = models.ForeignKey(MilestoneDefinition, on_delete=models.CASCADE, related_name="reached")
    reached_on = models.DateField(_("reached on"))
    source = models.CharField(_("source"), max_length=8, choices=MilestoneSource.choices)
    evidence = models.TextField(_("evidence"), blank=True)
    evidence_url = models.URLField(_("evidence link"), max_length=500, blank=True)
    # Who at the customer confirmed an outcome milestone: a contact, or a name when not one.
    confirmed_by_contact = models.ForeignKey(
        "accounts.Contact",
        verbose_name=_("confirmed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    confirmed_by_name = models.CharField(_("confirmed by (name)"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("milestone reached")
        verbose_name_plural = _("milestones reached")
        constraints = [
            models.UniqueConstraint(fields=["account", "milestone"], name="milestone_reached_once"),
        ]
        indexes = [models.Index(fields=["milestone", "reached_on"], name="milestone_reached_day")]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.milestone_id} on {self.reached_on}"
