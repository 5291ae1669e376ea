"""The readiness map: every touchpoint of the customer journey, by stage and company function.

A map belongs to a product or a launch. Its columns are stages (hear of it, buy it, use it and get it
fixed, stay for life by default) and its rows company functions (marketing … customer success); both
are the map's own rows, so each map may rename, add or drop them. A cell holds touchpoints: what the
customer meets there, with an owner, a checklist of questions answered with evidence, a due date and
a status. The status follows the checklist (readiness/status.py) unless someone sets it by hand with
a reason. Every change goes through readiness/services.py, which keeps `status` current and audits.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class MapKind(models.TextChoices):
    PRODUCT = "product", _("Product")
    RELEASE = "release", _("Release")
    MARKET = "market", _("New market")
    PLAN = "plan", _("New plan")


class Status(models.TextChoices):
    READY = "ready", _("Ready")
    AT_RISK = "at_risk", _("At risk")
    GAP = "gap", _("Gap")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")


class Answer(models.TextChoices):
    OPEN = "", _("Not answered")
    YES = "yes", _("Yes")
    PARTLY = "partly", _("Partly")
    NO = "no", _("No")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")


class ReadinessMap(models.Model):
    key = models.SlugField(_("key"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=8, choices=MapKind.choices, default=MapKind.PRODUCT)
    product = models.CharField(_("product"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True, max_length=5000)
    # The day the launch reaches customers (a product map may have none).
    launch_on = models.DateField(_("launch date"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="readiness_maps",
    )
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("readiness map")
        verbose_name_plural = _("readiness maps")
        ordering = ("name", "id")

    def __str__(self) -> str:
        return self.name


class Stage(models.Model):
    """A column of the map: a stage of the customer's journey."""

    map = models.ForeignKey(ReadinessMap, on_delete=models.CASCADE, related_name="stages")
    key = models.SlugField(_("key"), max_length=64)
    name = models.CharField(_("name"), max_length=120)
    description = models.CharField(_("description"), max_length=500, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ("position", "id")
        constraints = [models.UniqueConstraint(fields=("map", "key"), name="readiness_stage_key_per_map")]

    def __str__(self) -> str:
        return self.name


class Function(models.Model):
    """A row of the map: a company function that touches the customer, with its named lead."""

    map = models.ForeignKey(ReadinessMap, on_delete=models.CASCADE, related_name="functions")
    key = models.SlugField(_("key"), max_length=64)
    name = models.CharField(_("name"), max_length=120)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("lead"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("function")
        verbose_name_plural = _("functions")
        ordering = ("position", "id")
        constraints = [models.UniqueConstraint(fields=("map", "key"), name="readiness_function_key_per_map")]

    def __str__(self) -> str:
        return self.name


class Touchpoint(models.Model):
    """What the customer meets in one cell (stage × function): the pricing page, the SLA, …"""

    map = models.ForeignKey(ReadinessMap, on_delete=models.CASCADE, related_name="touchpoints")
    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.CASCADE, related_name="+")
    function = models.ForeignKey(
        Function, verbose_name=_("function"), on_delete=models.CASCADE, related_name="touchpoints"
    )
    key = models.SlugField(_("key"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True, max_length=5000)
    # A named person; without one, the function's lead answers for it.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="readiness_touchpoints",
    )
    due_on = models.DateField(_("due date"), null=True, blank=True)
    # Kept current by the services: the checklist's status, or the one set by hand.
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.GAP)
    status_by_hand = models.BooleanField(_("status set by hand"), default=False)
    status_reason = models.CharField(_("reason"), max_length=500, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("touchpoint")
        verbose_name_plural = _("touchpoints")
        ordering = ("position", "id")
        constraints = [
            models.UniqueConstraint(fields=("map", "key"), name="readiness_touchpoint_key_per_map"),
            models.CheckConstraint(
                condition=Q(status_by_hand=True) | ~Q(status="not_applicable"),
                name="readiness_not_applicable_only_by_hand",
            ),
        ]
        indexes = [models.Index(fields=("map", "status"), name="readiness_tp_map_status")]

    def __str__(self) -> str:
        return self.name

    @property
    def answerable_by(self):
        """Who answers for it: its owner, else its function's lead (None when neither is named)."""
        return self.owner or self.function.lead


class ChecklistItem(models.Model):
    touchpoint = models.ForeignKey(Touchpoint, on_delete=models.CASCADE, related_name="checklist")
    question = models.CharField(_("question"), max_length=500)
    answer = models.CharField(
        _("answer"), max_length=16, choices=Answer.choices, default=Answer.OPEN, blank=True
    )
    note = models.TextField(_("note"), blank=True, max_length=5000)
    evidence_url = models.URLField(_("evidence link"), max_length=500, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("checklist question")
        verbose_name_plural = _("checklist questions")
        ordering = ("position", "id")

    def __str__(self) -> str:
        return self.question


class TouchpointComment(models.Model):
    touchpoint = models.ForeignKey(Touchpoint, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(_("comment"), max_length=5000)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return self.body[:80]


class TouchpointLink(models.Model):
    """What serves a touchpoint elsewhere in Touchpoint: a journey, a playbook, a milestone… The kinds
    are registered by the apps that own them (readiness/links.py); the map names none of them."""

    touchpoint = models.ForeignKey(Touchpoint, on_delete=models.CASCADE, related_name="links")
    kind = models.CharField(_("kind"), max_length=32)
    target = models.CharField(_("linked to"), max_length=128)  # the kind's own key or id, as text
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("touchpoint link")
        verbose_name_plural = _("touchpoint links")
        constraints = [
            models.UniqueConstraint(fields=("touchpoint", "kind", "target"), name="readiness_link_once")
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.target}"


class UptimeMonth(models.Model):
    """Uptime of a product for one month, typed in or posted by a monitoring tool."""

    product = models.CharField(_("product"), max_length=200)
    month = models.DateField(_("month"))  # its first day
    uptime_percent = models.DecimalField(_("uptime (%)"), max_digits=7, decimal_places=4)
    source = models.CharField(_("source"), max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("uptime month")
        verbose_name_plural = _("uptime months")
        ordering = ("product", "-month")
        constraints = [
            models.UniqueConstraint(fields=("product", "month"), name="readiness_uptime_once_a_month"),
            models.CheckConstraint(
                condition=Q(uptime_percent__gte=0) & Q(uptime_percent__lte=100), name="readiness_uptime_0_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} {self.month:%Y-%m}"
