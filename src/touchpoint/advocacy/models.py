"""Advocacy: customers who speak for us, what we ask of them, what they did and how we thanked them.

An advocate is a contact of an account (one advocate row per contact). What an advocate did is an
`Activity` (a reference call, a review, a case study…), dated. An `Ask` is a request to a contact to do
one of those things: asked, then accepted, done or declined; a done ask records its activity (and makes
the contact an advocate if they were not one yet). A `Reward` is a thank-you given to an advocate.

A `Candidate` is a contact worth asking: a promoter in the latest NPS answer (the surveys app records
`survey.answered`; advocacy/consumer.py keeps these rows), or marked by hand. The pool
(selectors.pool) lists candidates at healthy accounts who were not asked recently.

No contact is asked more than `AdvocacySettings.max_asks_per_quarter` times in a calendar quarter:
services.ask refuses the next one and says when the contact can be asked again.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ActivityKind(models.TextChoices):
    REFERENCE_CALL = "reference_call", _("Reference call")
    REVIEW = "review", _("Review")
    TESTIMONIAL = "testimonial", _("Testimonial")
    CASE_STUDY = "case_study", _("Case study")
    REFERRAL = "referral", _("Referral")
    SPEAKING = "speaking", _("Speaking")
    ADVISORY_BOARD = "advisory_board", _("Advisory board")


class AskStatus(models.TextChoices):
    ASKED = "asked", _("Asked")
    ACCEPTED = "accepted", _("Accepted")
    DONE = "done", _("Done")
    DECLINED = "declined", _("Declined")


OPEN_ASK_STATUSES = (AskStatus.ASKED, AskStatus.ACCEPTED)


class RewardKind(models.TextChoices):
    GIFT = "gift", _("Gift")
    DISCOUNT = "discount", _("Discount")
    SWAG = "swag", _("Swag")
    DONATION = "donation", _("Donation")
    OTHER = "other", _("Other")


class CandidateSource(models.TextChoices):
    SURVEY = "survey", _("NPS survey")
    MANUAL = "manual", _("Marked by hand")


class AdvocacySettings(models.Model):
    """The site's advocacy rules (one row, pk=1; admins change it on the Advocacy page or in the admin)."""

    max_asks_per_quarter = models.PositiveSmallIntegerField(
        _("asks per contact per quarter"),
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text=_("No contact is asked more than this many times in a calendar quarter."),
    )
    pool_quiet_days = models.PositiveSmallIntegerField(
        _("days since the last ask"),
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text=_("The pool leaves out contacts asked within this many days."),
    )

    class Meta:
        verbose_name = _("advocacy settings")
        verbose_name_plural = _("advocacy settings")
        constraints = [models.CheckConstraint(condition=Q(id=1), name="advocacy_settings_single_row")]

    def __str__(self) -> str:
        return str(_("Advocacy settings"))

    def save(self, *args, **kwargs) -> None:
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def current(cls) -> AdvocacySettings:
        """The settings row; the defaults when no one changed anything yet (nothing is written)."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)


class Advocate(models.Model):
    """A contact who speaks for us. `account` is the contact's account (kept for lists and rules)."""

    contact = models.OneToOneField(
        "accounts.Contact", verbose_name=_("contact"), on_delete=models.CASCADE, related_name="advocate"
    )
    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.CASCADE, related_name="advocates"
    )
    since = models.DateField(_("advocate since"), default=timezone.localdate)
    notes = models.TextField(_("notes"), blank=True, max_length=5000)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("advocate")
        verbose_name_plural = _("advocates")
        ordering = ("-since", "id")
        indexes = [models.Index(fields=("account", "since"), name="advocacy_advocate_account")]

    def __str__(self) -> str:
        return str(self.contact)


class Ask(models.Model):
    """A request to a contact to do something for us (`kind`), and how it went."""

    contact = models.ForeignKey(
        "accounts.Contact", verbose_name=_("contact"), on_delete=models.CASCADE, related_name="advocacy_asks"
    )
    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.CASCADE, related_name="advocacy_asks"
    )
    kind = models.CharField(_("what for"), max_length=16, choices=ActivityKind.choices)
    status = models.CharField(_("status"), max_length=10, choices=AskStatus.choices, default=AskStatus.ASKED)
    asked_on = models.DateField(_("asked on"), default=timezone.localdate)
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("asked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.TextField(_("note"), blank=True, max_length=5000)
    outcome_note = models.TextField(_("outcome"), blank=True, max_length=5000)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("ask")
        verbose_name_plural = _("asks")
        ordering = ("-asked_on", "-id")
        indexes = [
            models.Index(fields=("contact", "asked_on"), name="advocacy_ask_contact_day"),
            models.Index(fields=("account", "status"), name="advocacy_ask_account_status"),
            models.Index(fields=("status", "asked_on"), name="advocacy_ask_status_day"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=("asked", "accepted"), closed_on__isnull=True)
                | Q(status__in=("done", "declined"), closed_on__isnull=False),
                name="advocacy_ask_closed_when_done_or_declined",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.contact_id}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ASK_STATUSES


class Activity(models.Model):
    """Something an advocate did for us, on a day (with a link to it: the review, the recording…)."""

    advocate = models.ForeignKey(Advocate, on_delete=models.CASCADE, related_name="activities")
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="advocacy_activities"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=ActivityKind.choices)
    occurred_on = models.DateField(_("date"))
    note = models.TextField(_("note"), blank=True, max_length=5000)
    link = models.URLField(_("link"), blank=True, max_length=500)
    ask = models.OneToOneField(Ask, null=True, blank=True, on_delete=models.SET_NULL, related_name="activity")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("advocacy activity")
        verbose_name_plural = _("advocacy activities")
        ordering = ("-occurred_on", "-id")
        indexes = [models.Index(fields=("advocate", "kind"), name="advocacy_activity_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_on}"


class Reward(models.Model):
    """A thank-you given to an advocate: its kind, value (with currency), day and note."""

    advocate = models.ForeignKey(Advocate, on_delete=models.CASCADE, related_name="rewards")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="advocacy_rewards")
    kind = models.CharField(_("kind"), max_length=10, choices=RewardKind.choices)
    value = models.DecimalField(_("value"), max_digits=12, decimal_places=2, default=0)
    currency = models.CharField(_("currency"), max_length=3)
    given_on = models.DateField(_("given on"))
    note = models.TextField(_("note"), blank=True, max_length=5000)
    given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("reward")
        verbose_name_plural = _("rewards")
        ordering = ("-given_on", "-id")
        constraints = [
            models.CheckConstraint(condition=Q(value__gte=0), name="advocacy_reward_value_positive")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value} {self.currency}"


class Candidate(models.Model):
    """A contact worth asking: a promoter by their latest NPS answer, or marked by hand.

    The row stays after a later passive or detractor answer (with `is_candidate` off), so the latest
    score is known; a later promoter answer makes the contact a candidate again.
    """

    contact = models.OneToOneField(
        "accounts.Contact", on_delete=models.CASCADE, related_name="advocacy_candidate"
    )
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="advocacy_candidates"
    )
    is_candidate = models.BooleanField(_("candidate"), default=True)
    source = models.CharField(_("source"), max_length=8, choices=CandidateSource.choices)
    nps_score = models.PositiveSmallIntegerField(
        _("latest NPS score"), null=True, blank=True, validators=[MaxValueValidator(10)]
    )
    category = models.CharField(_("category"), max_length=10, blank=True)  # promoter, passive, detractor
    scored_at = models.DateTimeField(_("scored"), null=True, blank=True)
    answer_id = models.BigIntegerField(_("survey answer"), null=True, blank=True)
    # When the contact last became a candidate (the promoter answer, or the marking by hand).
    since = models.DateTimeField(_("candidate since"), default=timezone.now)
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("advocacy candidate")
        verbose_name_plural = _("advocacy candidates")
        ordering = ("-since", "id")
        indexes = [models.Index(fields=("is_candidate", "since"), name="advocacy_candidate_since")]
        constraints = [
            models.CheckConstraint(
                condition=Q(nps_score__isnull=True) | Q(nps_score__lte=10), name="advocacy_candidate_nps_0_10"
            )
        ]

    def __str__(self) -> str:
        return str(self.contact_id)
