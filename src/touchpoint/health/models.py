"""Health scorecards, their immutable versions, and the score every account had each day.

A scorecard says how to turn measures (usage trend, breadth, recency…) into one 0–100 number for
the accounts of a segment (or for every account without a scorecard of its own: the default).
Every change makes a new `ScorecardVersion`; old versions are never edited, so a past score can
always be explained by the definition that made it.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Grade(models.TextChoices):
    GREEN = "green", _("Green")
    YELLOW = "yellow", _("Yellow")
    RED = "red", _("Red")
    UNKNOWN = "unknown", _("Unknown")


class Scorecard(models.Model):
    """How health is scored for one segment, or for everyone else (the default scorecard)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    segment = models.OneToOneField(
        "accounts.Segment",
        verbose_name=_("segment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="scorecard",
    )
    current_version = models.ForeignKey(
        "ScorecardVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["segment__tier", "name"]
        verbose_name = _("scorecard")
        verbose_name_plural = _("scorecards")
        constraints = [
            # One default scorecard at most: the one without a segment.
            models.UniqueConstraint(Coalesce("segment", Value(0)), name="one_default_scorecard"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_default(self) -> bool:
        return self.segment_id is None


class ScorecardVersion(models.Model):
    """One definition of a scorecard, kept forever; `definition` is what `scoring.Definition` reads.

    {"measures": [{"measure": "usage_trend", "weight": 3, "green": 0, "red": -50}, …],
     "grades": {"green": 70, "red": 40}}
    """

    # Versions are kept forever: a scorecard that has any cannot be deleted.
    scorecard = models.ForeignKey(Scorecard, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    definition = models.JSONField(_("definition"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("changed at"), default=timezone.now)

    class Meta:
        ordering = ["scorecard", "-number"]
        verbose_name = _("scorecard version")
        verbose_name_plural = _("scorecard versions")
        constraints = [models.UniqueConstraint(fields=["scorecard", "number"], name="scorecard_version_once")]

    def __str__(self) -> str:
        return f"{self.scorecard} v{self.number}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValidationError(_("A scorecard version cannot be changed; save a new version instead."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("A scorecard version cannot be deleted."))


class HealthScore(models.Model):
    """The score an account had at the end of one day, and what each measure gave it.

    `measures` maps a measure key to {"value": raw value, "points": 0–100, "weight": weight}, for
    the measures that had data that day; a measure with no data is absent (unknown), never zero.
    """

    # No database-level foreign keys: the recompute inserts a row per existing account and current
    # version in one statement, and checking 100,000 keys again costs more than the rest of the write
    # (bench/health.py). The ORM still cascades an account's deletion to its scores.
    account = models.ForeignKey(
        "accounts.Account",
        on_delete=models.CASCADE,
        related_name="health_scores",
        db_index=False,
        db_constraint=False,
    )
    day = models.DateField(_("day"))
    version = models.ForeignKey(
        ScorecardVersion, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    score = models.FloatField(_("score"), null=True, blank=True)
    grade = models.CharField(_("grade"), max_length=8, choices=Grade.choices, default=Grade.UNKNOWN)
    measures = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["account", "-day"]
        verbose_name = _("health score")
        verbose_name_plural = _("health scores")
        constraints = [
            # Also the index behind "an account's latest scores".
            models.UniqueConstraint(fields=["account", "day"], name="health_score_once_a_day"),
            models.CheckConstraint(
                condition=Q(score__gte=0, score__lte=100) | Q(score__isnull=True),
                name="health_score_in_range",
            ),
        ]
        indexes = [
            models.Index(fields=["day", "grade"], name="health_day_grade"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.day}: {self.score}"


class LearnedModel(models.Model):
    """A learned model kept beside a scorecard (see learned.py): its parameters as plain numbers, how it
    did on the test when it was applied, who applied it. The latest one not withdrawn is in use; the
    score and grade stay the scorecard's, the model adds a risk and its reasons on the account page."""

    scorecard = models.ForeignKey(Scorecard, on_delete=models.PROTECT, related_name="learned_models")
    parameters = models.JSONField(_("parameters"))
    horizon = models.PositiveIntegerField(_("horizon (days)"))
    test_auc = models.FloatField(_("ROC AUC on the test"), null=True, blank=True)
    scorecard_auc = models.FloatField(_("the scorecard's ROC AUC on the same test"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applied by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("applied at"), default=timezone.now)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)

    class Meta:
        ordering = ["scorecard", "-created_at", "-id"]
        verbose_name = _("learned model")
        verbose_name_plural = _("learned models")

    def __str__(self) -> str:
        return f"{self.scorecard} learned model {self.created_at:%Y-%m-%d}"
