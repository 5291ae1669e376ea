"""Surveys (NPS, CSAT, CES), the answers people give and the surveys they decline.

A survey asks one scored question and a follow-up comment, with its texts per language (`texts`:
{"en": {"question": ..., "follow_up": ..., "subject": ..., "intro": ...}, "ja": {...}}; English is
required, it is the last fallback). It is sent through journeys (a journey step `survey`, see
surveys/sending.py): the invitation is the journey's outbox row, and the link in the email carries a
signed token naming that row, so an answer is tied to one invitation and is recorded once.

An `Answer` may also come from an import (a company bringing its old tool's answers): then it has no
outbox row, and `external_id` (the old tool's id) keeps a second import from counting it twice.
Every write goes through surveys/services.py (timeline, audit and the `survey.answered` event).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from touchpoint.accounts.models import Account, Contact


class SurveyKind(models.TextChoices):
    NPS = "nps", _("NPS (0–10)")
    CSAT = "csat", _("CSAT (1–5)")
    CES = "ces", _("CES (1–7)")


# The scale of each kind: (lowest, highest) score.
SCALES: dict[str, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}


class OnDetractor(models.TextChoices):
    TASK = "task", _("A risk task for the account owner")
    PLAYBOOK = "playbook", _("Start a playbook")
    JOURNEY = "journey", _("Enroll the person in a journey")
    NOTHING = "nothing", _("Nothing")


class Survey(models.Model):
    key = models.SlugField(
        _("key"),
        max_length=80,
        unique=True,
        help_text=_("The name a journey's survey step uses (letters, digits and dashes)."),
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=8, choices=SurveyKind.choices, default=SurveyKind.NPS)
    texts = models.JSONField(_("texts"), default=dict, blank=True)
    on_detractor = models.CharField(
        _("when someone answers as a detractor"),
        max_length=10,
        choices=OnDetractor.choices,
        default=OnDetractor.TASK,
    )
    detractor_target = models.CharField(
        _("playbook or journey"),
        max_length=120,
        blank=True,
        help_text=_("The playbook's name or the journey's key, when a detractor starts one."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")

    def __str__(self) -> str:
        return self.name

    @property
    def scale(self) -> tuple[int, int]:
        return SCALES[self.kind]


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    IN_APP = "in_app", _("In-app")
    IMPORT = "import", _("Import")


class Category(models.TextChoices):
    PROMOTER = "promoter", _("Promoter")
    PASSIVE = "passive", _("Passive")
    DETRACTOR = "detractor", _("Detractor")
    NONE = "", _("—")


class Answer(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="answers")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="survey_answers")
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="survey_answers"
    )
    score = models.SmallIntegerField(_("score"))
    comment = models.TextField(_("comment"), blank=True, max_length=5000)
    category = models.CharField(_("category"), max_length=10, choices=Category.choices, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    # The invitation answered (a journey's outbox row); none for an import.
    outbox_row = models.OneToOneField(
        "journeys.OutboxRow", null=True, blank=True, on_delete=models.SET_NULL, related_name="survey_answer"
    )
    external_id = models.CharField(_("external ID"), max_length=128, blank=True)
    task = models.ForeignKey("tasks.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    answered_at = models.DateTimeField(_("answered"), default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-answered_at", "-id"]
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "external_id"],
                condition=~Q(external_id=""),
                name="survey_answer_external_once",
            ),
        ]
        indexes = [
            models.Index(fields=["survey", "answered_at"], name="survey_answer_survey_at"),
            models.Index(fields=["account", "answered_at"], name="survey_answer_account_at"),
            models.Index(fields=["contact", "answered_at"], name="survey_answer_contact_at"),
        ]

    def __str__(self) -> str:
        return f"{self.survey_id}: {self.score}"


class Decline(models.Model):
    """Someone said "not now" on the answer page: they are asked again after the shorter wait."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="declines")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    outbox_row = models.OneToOneField(
        "journeys.OutboxRow", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    declined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["contact", "declined_at"], name="survey_decline_contact_at")]
        verbose_name = _("declined survey")
        verbose_name_plural = _("declined surveys")

    def __str__(self) -> str:
        return f"{self.survey_id}/{self.contact_id}"


class SurveySettings(models.Model):
    """The site's survey throttling (one row, pk=1), edited by admins."""

    resurvey_days = models.PositiveSmallIntegerField(
        _("days before a person is surveyed again"),
        default=90,
        help_text=_("Across all surveys: after an invitation or an answer."),
    )
    decline_days = models.PositiveSmallIntegerField(_("days before asking again after a decline"), default=30)
    monthly_account_cap = models.PositiveSmallIntegerField(
        _("surveys per account per month"),
        default=10,
        help_text=_("Invitations to an account's people in a calendar month; 0 means no cap."),
    )

    class Meta:
        verbose_name = _("survey settings")
        verbose_name_plural = _("survey settings")

    def __str__(self) -> str:
        return "survey settings"

    @classmethod
    def current(cls) -> SurveySettings:
        """The settings (the defaults while nobody saved any); reads only."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)
