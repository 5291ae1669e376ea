"""Success frameworks and their lifecycle phases.

A framework is the path a kind of customer walks after buying (onboarding, first use, adoption,
renewal…). A company may keep several, one per segment or product. Later work adds the rules that
move accounts between phases and the success plans; the walking skeleton needs the phases to exist.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SuccessFramework(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    is_default = models.BooleanField(_("default"), default=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("success framework")
        verbose_name_plural = _("success frameworks")
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="one_default_framework"
            )
        ]

    def __str__(self) -> str:
        return self.name


class LifecyclePhase(models.Model):
    framework = models.ForeignKey(SuccessFramework, on_delete=models.CASCADE, related_name="phases")
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    customer_does = models.TextField(_("what the customer does"), blank=True)
    customer_expects = models.TextField(_("what the customer expects"), blank=True)

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
