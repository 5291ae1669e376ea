"""Success frameworks and their lifecycle phases.

A framework is the path a kind of customer walks after buying (onboarding, first use, adoption,
renewal…). A company may keep several, one per segment or product. Later work adds the rules that
move accounts between phases and the success plans; the walking skeleton needs the phases to exist.
"""

from __future__ import annotations

from django.db import models
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
