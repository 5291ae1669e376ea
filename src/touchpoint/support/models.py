"""Support tickets, the SLA policies they are held to, the breaches, and the webhook sources that send them.

A ticket belongs to an account (matched by the organization's external ID, name or the requester's
email domain) and is upserted on (source, external ID): an update older than, or as old as, the one
stored changes nothing. Its SLA clocks (first reply, next reply, resolution) run in the business
hours of its policy's calendar and stop while the ticket is pending, on hold, solved or closed; the
due moments are computed at every write (support/sla.py) and `next_due_at` is the earliest one still
running, which the minute job reads to record breaches as they happen.
"""

from __future__ import annotations

from datetime import date, time

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from touchpoint.accounts.models import Account, Contact, Segment


class Priority(models.TextChoices):
    URGENT = "urgent", _("Urgent")
    HIGH = "high", _("High")
    NORMAL = "normal", _("Normal")
    LOW = "low", _("Low")


PRIORITY_ORDER = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}


class TicketStatus(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending")
    HOLD = "hold", _("On hold")
    SOLVED = "solved", _("Solved")
    CLOSED = "closed", _("Closed")


# The clocks stop while the ticket waits on the customer or a third party, and once it is solved.
PAUSED_STATUSES = frozenset(
    {TicketStatus.PENDING, TicketStatus.HOLD, TicketStatus.SOLVED, TicketStatus.CLOSED}
)
OPEN_STATUSES = frozenset({TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.HOLD})
DONE_STATUSES = frozenset({TicketStatus.SOLVED, TicketStatus.CLOSED})


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    WEB = "web", _("Web form")
    PHONE = "phone", _("Phone")
    CHAT = "chat", _("Chat")
    API = "api", _("API")
    OTHER = "other", _("Other")


class Metric(models.TextChoices):
    FIRST_REPLY = "first_reply", _("First reply")
    NEXT_REPLY = "next_reply", _("Next reply")
    RESOLUTION = "resolution", _("Resolution")


class BusinessCalendar(models.Model):
    """Working days and hours in a time zone, with holidays: the hours SLA targets count in."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    working_days = models.JSONField(
        _("working days"), default=list, help_text=_("Weekdays, Monday is 0 and Sunday 6.")
    )
    opens_at = models.TimeField(_("opens at"), default=time(9))
    closes_at = models.TimeField(
        _("closes at"), default=time(17), help_text=_("00:00 means midnight at the end of the day.")
    )
    holidays = models.JSONField(_("holidays"), default=list, blank=True, help_text=_("Dates, as 2026-12-25."))

    class Meta:
        ordering = ["name"]
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def __str__(self) -> str:
        return self.name

    def as_calendar(self):
        from touchpoint.support.businesstime import Calendar

        close = self.closes_at.hour * 60 + self.closes_at.minute
        return Calendar(
            time_zone=self.time_zone,
            working_days=frozenset(int(day) for day in self.working_days),
            open_minute=self.opens_at.hour * 60 + self.opens_at.minute,
            close_minute=close or 1440,
            holidays=frozenset(date.fromisoformat(day) for day in self.holidays),
        )


class SlaPolicy(models.Model):
    """The targets for one tier (an account segment; none: every segment without its own policy)."""

    name = models.CharField(_("name"), max_length=100)
    segment = models.OneToOneField(
        Segment,
        verbose_name=_("tier"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sla_policy",
        help_text=_("Empty: the default policy, for accounts of any other segment or none."),
    )
    calendar = models.ForeignKey(
        BusinessCalendar, verbose_name=_("calendar"), on_delete=models.PROTECT, related_name="policies"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["segment__tier", "name"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")  # one default (no segment) at most: services check it

    def __str__(self) -> str:
        return self.name


class SlaTarget(models.Model):
    """A policy's targets for one priority, in business minutes, and whom a breach escalates to."""

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="targets")
    priority = models.CharField(_("priority"), max_length=8, choices=Priority.choices)
    first_reply_minutes = models.PositiveIntegerField(
        _("first reply (business minutes)"), null=True, blank=True
    )
    next_reply_minutes = models.PositiveIntegerField(
        _("next reply (business minutes)"), null=True, blank=True
    )
    resolution_minutes = models.PositiveIntegerField(
        _("resolution (business minutes)"), null=True, blank=True
    )
    escalate_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("escalate to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("An engineering person who gets a task when a ticket of this priority breaches."),
    )
    escalation_url = models.URLField(
        _("escalation webhook"), blank=True, help_text=_("A signed JSON POST goes here at each breach.")
    )
    escalation_secret = models.CharField(_("escalation secret"), max_length=100, blank=True)

    class Meta:
        ordering = ["policy", "priority"]
        verbose_name = _("SLA target")
        verbose_name_plural = _("SLA targets")
        constraints = [
            models.UniqueConstraint(fields=["policy", "priority"], name="support_target_once_per_priority")
        ]

    def __str__(self) -> str:
        return f"{self.policy}: {self.get_priority_display()}"


class Ticket(models.Model):
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="tickets"
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("requester"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    requester_name = models.CharField(_("requester name"), max_length=200, blank=True)
    requester_email = models.EmailField(_("requester email"), blank=True)
    subject = models.CharField(_("subject"), max_length=300)
    priority = models.CharField(
        _("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(
        _("status"), max_length=8, choices=TicketStatus.choices, default=TicketStatus.NEW
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices, default=Channel.OTHER)
    source = models.CharField(_("source"), max_length=40, default="api")
    external_id = models.CharField(_("external ID"), max_length=128, blank=True)
    assignee = models.CharField(_("assignee"), max_length=200, blank=True)
    opened_at = models.DateTimeField(_("opened"), db_index=True)
    first_reply_at = models.DateTimeField(_("first reply"), null=True, blank=True)
    last_reply_at = models.DateTimeField(_("last reply"), null=True, blank=True)
    awaiting_reply_since = models.DateTimeField(
        _("awaiting a reply since"),
        null=True,
        blank=True,
        help_text=_("When the customer last wrote after a reply: the next-reply clock runs from here."),
    )
    solved_at = models.DateTimeField(_("solved"), null=True, blank=True, db_index=True)
    source_updated_at = models.DateTimeField(_("updated at the source"))
    # [[start, end-or-null], ...] in ISO form: the periods the clocks stood still (pending, on hold, solved)
    pauses = models.JSONField(default=list, blank=True)
    policy = models.ForeignKey(
        SlaPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    first_reply_due_at = models.DateTimeField(null=True, blank=True)
    next_reply_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    next_due_at = models.DateTimeField(
        null=True, blank=True, db_index=True
    )  # the earliest running, unbreached
    first_reply_minutes = models.PositiveIntegerField(null=True, blank=True)  # business minutes
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)  # business minutes
    resolution_calendar_minutes = models.PositiveIntegerField(null=True, blank=True)
    breached = models.BooleanField(default=False, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~Q(external_id=""),
                name="support_ticket_source_id",
            )
        ]
        indexes = [models.Index(fields=["account", "status"], name="support_ticket_account_status")]

    def __str__(self) -> str:
        return self.subject

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class SlaBreach(models.Model):
    """A clock that ran past its due moment: recorded once per ticket, metric and clock start."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="breaches")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="sla_breaches")
    metric = models.CharField(_("target"), max_length=12, choices=Metric.choices)
    clock_started_at = models.DateTimeField()
    due_at = models.DateTimeField(_("due"))
    detected_at = models.DateTimeField(_("detected"), default=timezone.now)
    escalation_status = models.CharField(max_length=8, blank=True)  # "", pending, sent, failed
    escalation_attempts = models.PositiveSmallIntegerField(default=0)
    escalation_error = models.CharField(max_length=300, blank=True)
    escalation_task_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-due_at", "-id"]
        verbose_name = _("SLA breach")
        verbose_name_plural = _("SLA breaches")
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "metric", "clock_started_at"], name="support_breach_once_per_clock"
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket}: {self.get_metric_display()}"


class WebhookSourceKind(models.TextChoices):
    ZENDESK = "zendesk", "Zendesk"
    FRESHDESK = "freshdesk", "Freshdesk"
    GENERIC = "generic", _("Other (Touchpoint's ticket JSON)")


class WebhookSource(models.Model):
    """A help desk that posts tickets to /support/webhooks/<key>/, signing them with its own secret."""

    key = models.SlugField(_("key"), max_length=40, unique=True)
    kind = models.CharField(_("help desk"), max_length=10, choices=WebhookSourceKind.choices)
    secret = models.CharField(_("signing secret"), max_length=100)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_received_at = models.DateTimeField(null=True, blank=True)
    received_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["key"]
        verbose_name = _("webhook source")
        verbose_name_plural = _("webhook sources")

    def __str__(self) -> str:
        return self.key
