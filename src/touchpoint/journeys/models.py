"""Journeys: automated, versioned sequences of steps (waits, splits, messages, tasks) an account or a
contact walks through, and the outbox every effect of a step goes through.

A `Journey` is the named thing people talk about; its content lives in numbered `JourneyVersion`s
(the validated definition, see journeys/definition.py, and the YAML it was written in). Editing a
live journey makes a new version: enrollments finish on the version they entered unless the editor
moves them.

An `Enrollment` is one subject (an account, or a contact at it) walking one version. The database
holds at most one *active* enrollment per (journey, subject, entry key) and at most one enrollment
per (version, subject, entry key), so a replayed event, a second worker or a restart finds the row
taken instead of enrolling twice.

Every effect of a step (an email, an in-app message, a task, a webhook, a tag…) is an `OutboxRow`
keyed by (enrollment, step, kind, recipient), written in the transaction that moves the enrollment
on. Senders pick pending rows, deliver, and mark them sent: the step's state change and its effect
can never disagree, and a crash between them repeats nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from touchpoint.accounts.models import Account, Contact


class JourneyStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    LIVE = "live", _("Live")
    PAUSED = "paused", _("Paused")
    ARCHIVED = "archived", _("Archived")


class Journey(models.Model):
    key = models.SlugField(
        _("key"), max_length=80, unique=True, help_text=_("The journey's name in YAML files.")
    )
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=JourneyStatus.choices, default=JourneyStatus.DRAFT, db_index=True
    )
    # The version new enrollments enter while the journey is live (null until first launched).
    live_version = models.ForeignKey(
        "JourneyVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("journey")
        verbose_name_plural = _("journeys")

    def __str__(self) -> str:
        return self.name


class JourneyVersion(models.Model):
    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    # The validated definition (definition.JourneyDefinition.model_dump(mode="json")): what runs.
    definition = models.JSONField(_("definition"))
    # The YAML as the author wrote it (comments and all), for export and for the diff between versions.
    source = models.TextField(_("source"), blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    launched_at = models.DateTimeField(_("launched"), null=True, blank=True)

    class Meta:
        ordering = ["journey", "-number"]
        verbose_name = _("journey version")
        verbose_name_plural = _("journey versions")
        constraints = [
            models.UniqueConstraint(fields=["journey", "number"], name="journey_version_number_once")
        ]

    def __str__(self) -> str:
        return f"{self.journey} v{self.number}"


class EnrollmentStatus(models.TextChoices):
    ACTIVE = "active", _("Active")  # on a step or waiting
    CONVERTED = "converted", _("Converted")  # the goal held
    EXITED = "exited", _("Exited")  # an exit rule, an exit step, or moved out by hand
    COMPLETED = "completed", _("Completed")  # walked off the last step
    FAILED = "failed", _("Failed")  # a step could not run (the error is in exit_reason)


def subject_key_of(account_id: int, contact_id: int | None) -> str:
    """How an enrollment names its subject in the uniqueness keys: "account:7" or "contact:31"."""
    return f"contact:{contact_id}" if contact_id is not None else f"account:{account_id}"


class Enrollment(models.Model):
    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="enrollments")
    version = models.ForeignKey(JourneyVersion, on_delete=models.PROTECT, related_name="enrollments")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="journey_enrollments")
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="journey_enrollments"
    )
    subject_key = models.CharField(max_length=40)
    # What this entry is about ("renewal:12:2027-03-01", an event id, "" for once ever): see re-entry.
    entry_key = models.CharField(max_length=200, blank=True, default="")
    status = models.CharField(
        _("status"), max_length=10, choices=EnrollmentStatus.choices, default=EnrollmentStatus.ACTIVE
    )
    step_id = models.CharField(_("step"), max_length=64, blank=True)  # the current step; "" once ended
    step_entered_at = models.DateTimeField(default=timezone.now)
    # When the engine looks at it next (a wait's end, a time-out); null while it needs no clock.
    wake_at = models.DateTimeField(null=True, blank=True)
    waiting_for = models.CharField(max_length=200, blank=True)  # the event a wait step waits for
    event_seen_at = models.DateTimeField(null=True, blank=True)  # that event arrived (wake now)
    # Choices made on the way, so a re-run decides the same: {"<step id>": "<arm or branch>"}.
    choices = models.JSONField(default=dict, blank=True)
    # What the entry brought (the event's payload, the renewal date…), readable by conditions/templates.
    entry_data = models.JSONField(default=dict, blank=True)
    entered_at = models.DateTimeField(_("entered"), default=timezone.now)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    exit_reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("enrollment")
        verbose_name_plural = _("enrollments")
        constraints = [
            models.UniqueConstraint(
                fields=["version", "subject_key", "entry_key"], name="enrollment_once_per_version_entry"
            ),
            models.UniqueConstraint(
                fields=["journey", "subject_key", "entry_key"],
                condition=Q(status="active"),
                name="enrollment_one_active",
            ),
        ]
        indexes = [
            # The engine's claim: active enrollments whose clock has come.
            models.Index(fields=["status", "wake_at"], name="enrollment_due"),
            models.Index(fields=["version", "step_id", "status"], name="enrollment_step_status"),
            models.Index(fields=["waiting_for", "status"], name="enrollment_waiting_for"),
        ]

    def __str__(self) -> str:
        return f"{self.journey_id}/{self.subject_key}/{self.entry_key or '-'}"

    @property
    def is_active(self) -> bool:
        return self.status == EnrollmentStatus.ACTIVE


class StepVisit(models.Model):
    """One step an enrollment reached: the path it took, and what stats count per step."""

    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="visits")
    version = models.ForeignKey(JourneyVersion, on_delete=models.CASCADE, related_name="+")
    step_id = models.CharField(max_length=64)
    entered_at = models.DateTimeField(default=timezone.now)
    left_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=64, blank=True)  # "then"/"else", an arm, "event", "timeout", "exit"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["enrollment", "step_id"], name="step_visit_once")]
        indexes = [models.Index(fields=["version", "step_id"], name="step_visit_version_step")]

    def __str__(self) -> str:
        return f"{self.enrollment_id}@{self.step_id}"


class OutboxKind(models.TextChoices):
    EMAIL = "email", _("Email")
    IN_APP = "in_app", _("In-app message")
    WEBHOOK = "webhook", _("Webhook")
    TASK = "task", _("Task")
    PLAYBOOK = "playbook", _("Playbook")
    SET_PHASE = "set_phase", _("Set phase")
    SET_ATTRIBUTE = "set_attribute", _("Set attribute")
    TAG = "tag", _("Tag")
    SURVEY = "survey", _("Survey")


# Effects that reach outside the database; the others are applied in the step's own transaction.
EXTERNAL_KINDS = frozenset({OutboxKind.EMAIL, OutboxKind.IN_APP, OutboxKind.WEBHOOK})


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Pending")  # to send at next_attempt_at
    SENDING = "sending", _("Sending")  # claimed by a sender (see journeys/delivery for the crash rules)
    SENT = "sent", _("Sent")  # handed over (SMTP accepted, webhook 2xx, in-app available, applied)
    FAILED = "failed", _("Failed")  # parked after its retries, with the error
    SUPPRESSED = "suppressed", _("Not sent")  # unsubscribed, over the cap, no address… (see reason)


class OutboxRow(models.Model):
    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="outbox")
    step_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=16, choices=OutboxKind.choices)
    recipient_key = models.CharField(max_length=40, blank=True, default="")  # "contact:31" or ""
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    # What to deliver, decided when the row was written (step parameters; rendered message at send).
    payload = models.JSONField(default=dict, blank=True)
    language = models.CharField(max_length=8, blank=True)
    to_address = models.CharField(max_length=254, blank=True)
    message_id = models.CharField(max_length=255, blank=True)  # the stable Message-ID of an email
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    suppressed_reason = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)  # email pixel / in-app "seen"
    clicked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment", "step_id", "kind", "recipient_key"], name="outbox_once_per_step"
            )
        ]
        indexes = [
            models.Index(fields=["status", "kind", "next_attempt_at"], name="outbox_due"),
            models.Index(fields=["contact", "kind", "sent_at"], name="outbox_contact_sent"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.enrollment_id}/{self.step_id} {self.status}"


class WebhookEndpoint(models.Model):
    """Where a journey's webhook step posts; the secret signs every request (see journeys/delivery)."""

    name = models.SlugField(_("name"), max_length=80, unique=True)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=128)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.name


class ConsentStatus(models.TextChoices):
    SUBSCRIBED = "subscribed", _("Subscribed")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")


class MessagingConsent(models.Model):
    """A person's yes or no to journey emails; no row means they have not said no."""

    contact = models.OneToOneField(Contact, on_delete=models.CASCADE, related_name="messaging_consent")
    status = models.CharField(max_length=12, choices=ConsentStatus.choices)
    source = models.CharField(max_length=40, blank=True)  # "unsubscribe link", "csm", "import", "api"
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("messaging consent")
        verbose_name_plural = _("messaging consents")

    def __str__(self) -> str:
        return f"{self.contact_id}: {self.status}"


class DeliverySettings(models.Model):
    """The site's rules for journey messages (one row, pk=1): caps, quiet hours, tracking."""

    weekly_email_cap = models.PositiveSmallIntegerField(_("journey emails per person per 7 days"), default=3)
    quiet_hours_start = models.TimeField(_("quiet hours start"), default="21:00")
    quiet_hours_end = models.TimeField(_("quiet hours end"), default="08:00")
    track_opens_and_clicks = models.BooleanField(
        _("track opens and clicks"),
        default=False,
        help_text=_("Adds a tracking pixel and rewrites links in journey emails. Off protects privacy."),
    )
    from_address = models.EmailField(_("from address"), blank=True, help_text=_("Empty: DEFAULT_FROM_EMAIL."))

    class Meta:
        verbose_name = _("delivery settings")
        verbose_name_plural = _("delivery settings")

    def __str__(self) -> str:
        return str(_("Delivery settings"))

    @classmethod
    def load(cls) -> DeliverySettings:
        settings_row, _created = cls.objects.get_or_create(pk=1)
        return settings_row


class JourneyCursor(models.Model):
    """Where one entry trigger stands, shared by every worker (see journeys/triggers.py).

    "product-events": `position` is the last raw product event handed out; on PostgreSQL `horizon`
    and `horizon_xmax` are the highest event id taken and the snapshot's xmax at the previous poll
    (events up to the horizon are read once every transaction running then has ended).
    "dates:<version id>": `day` is the last day the date scan covered.
    "schedule:<version id>": `moment` is the last fire time enrolled (claimed by a conditional UPDATE).
    """

    name = models.CharField(max_length=100, primary_key=True)
    position = models.BigIntegerField(default=0)
    horizon = models.BigIntegerField(default=0)
    horizon_xmax = models.BigIntegerField(default=0)
    day = models.DateField(null=True, blank=True)
    moment = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class SimulationStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting for a worker")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


UNFINISHED_SIMULATION = (SimulationStatus.QUEUED, SimulationStatus.RUNNING)


class SimulationRun(models.Model):
    """One simulation of a journey version, asked for on the builder page and run by a worker
    (journeys/simulation_runs.py): its progress while it runs, then its result (the JSON of
    simulation.SimulationResult.to_json) or what went wrong.

    At most one is queued or running per version: a second click while one runs gets that one.
    """

    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="simulation_runs")
    version = models.ForeignKey(JourneyVersion, on_delete=models.CASCADE, related_name="simulation_runs")
    days = models.PositiveSmallIntegerField(_("days"))
    status = models.CharField(
        _("status"), max_length=8, choices=SimulationStatus.choices, default=SimulationStatus.QUEUED
    )
    stage = models.CharField(max_length=16, blank=True)  # simulation.STAGES: history, entries, messages
    percent = models.PositiveSmallIntegerField(default=0)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    # The asker's language: the result's notes are written in it.
    language = models.CharField(max_length=16, default=settings.LANGUAGE_CODE)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("asked"), default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The last sign of life of the worker running it (each progress report): a run silent for
    # simulation_runs.STALE_AFTER is taken as dead, and a new click starts another.
    heartbeat_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("simulation")
        verbose_name_plural = _("simulations")
        constraints = [
            models.UniqueConstraint(
                fields=["version"],
                condition=Q(status__in=["queued", "running"]),
                name="simulation_one_unfinished_per_version",
            ),
            models.CheckConstraint(condition=Q(days__gte=1, days__lte=365), name="simulation_days_1_to_365"),
            models.CheckConstraint(condition=Q(percent__lte=100), name="simulation_percent_at_most_100"),
        ]
        indexes = [models.Index(fields=["version", "-created_at"], name="simulation_run_latest")]

    def __str__(self) -> str:
        return f"{self.version} ({self.days} days): {self.status}"

    @property
    def is_finished(self) -> bool:
        return self.status not in UNFINISHED_SIMULATION
