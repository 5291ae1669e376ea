"""Product usage: the sources that send events, and the raw events themselves.

Raw events are read and written only through `usage/store.py`, so a columnar engine can take
the raw store over later without touching the rest of the product.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def generate_write_key() -> str:
    return secrets.token_urlsafe(24)


class Source(models.Model):
    """Something that sends product events (a web app, a backend, a mobile app), with its write key."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    write_key = models.CharField(_("write key"), max_length=64, unique=True, default=generate_write_key)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("event source")
        verbose_name_plural = _("event sources")

    def __str__(self) -> str:
        return self.name


class EventType(models.TextChoices):
    TRACK = "track", _("Track")
    IDENTIFY = "identify", _("Identify")
    GROUP = "group", _("Group")
    PAGE = "page", _("Page")
    SCREEN = "screen", _("Screen")
    ALIAS = "alias", _("Alias")


class ReceivedMessage(models.Model):
    """One messageId seen from one source: what makes ingestion idempotent.

    Kept apart from the raw events so the raw table can be partitioned by time (a unique key on a
    partitioned table must include the partition key, and a replay may carry another timestamp).
    """

    # No index of its own: the unique key below starts with the source (one index less to write per event).
    # No database-level key either, as for the raw events: PostgreSQL checked it with a trigger and a
    # query for every message; the ORM's CASCADE (by the unique key) still removes a deleted source's ids.
    source = models.ForeignKey(
        Source, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    message_id = models.CharField(max_length=255)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "message_id"], name="message_once_per_source")
        ]

    def __str__(self) -> str:
        return self.message_id


class RawEvent(models.Model):
    """A product event as it arrived (Segment spec), with the account and contact it was matched to."""

    # The raw store keeps ids, not database-level foreign keys: a per-row key check would cost every
    # insert on the hottest path, and the ORM's on_delete (SET_NULL / CASCADE, by the indexes below)
    # keeps the rows consistent when an account, contact or source is deleted.
    source = models.ForeignKey(
        Source, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    message_id = models.CharField(max_length=255)
    type = models.CharField(max_length=16, choices=EventType.choices)
    event = models.CharField(max_length=200, blank=True)  # track: the event name; page/screen: the name
    user_id = models.CharField(max_length=255, blank=True)
    anonymous_id = models.CharField(max_length=255, blank=True)
    group_id = models.CharField(max_length=255, blank=True)
    account = models.ForeignKey(
        "accounts.Account",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    contact = models.ForeignKey(
        "accounts.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    timestamp = models.DateTimeField()  # when it happened, corrected for the client's clock
    day = models.DateField()  # the timestamp's date in the site's time zone: what rollups group by
    received_at = models.DateTimeField(default=timezone.now)
    properties = models.JSONField(default=dict, blank=True)
    context = models.JSONField(default=dict, blank=True)

    class Meta:
        # Every index slows every insert: these are the ones reads need. On PostgreSQL the table is
        # partitioned by month of `day` (migration 0004), and these indexes exist on each partition.
        indexes = [
            models.Index(fields=["account", "day"], name="rawevent_account_day"),
            models.Index(fields=["source", "-received_at"], name="rawevent_source_recent"),
            models.Index(fields=["user_id"], name="rawevent_user"),
            models.Index(fields=["contact"], name="rawevent_contact"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event} {self.timestamp:%Y-%m-%d %H:%M}"


class PendingRollup(models.Model):
    """New usage events of an (account, day) not yet in its rollups, waiting for rollups.refresh_pending().

    A row with `adds` holds what one batch adds to the (account, day): JSON [[event, person, count],
    …], `events` their total (what ingestion writes: one row per account and day of a batch, not one
    per person, which was a row per event in a busy batch). A row with an `event` and a `person`
    (the earlier form, still read) adds `events` events by that person to that event's rollup. A row
    with neither says the day changed in a way only a whole recompute gets right (a group call gave
    the account a person's earlier events, an alias merged two ids).

    Ingestion only appends rows here (no unique key, so concurrent batches never wait on each other);
    the refresher deletes the rows it saw and applies them. A row an uncommitted batch adds is
    invisible to it and stays for the next refresh, so no event is ever left out of the rollups.
    """

    id = models.BigAutoField(primary_key=True)
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    day = models.DateField()
    event = models.CharField(max_length=210, blank=True, default="")  # as rollups.event_key() names it
    person = models.CharField(max_length=255, blank=True, default="")  # userId, else anonymousId
    # JSON [[event, person, count], …]; a default in the table too, for writers that do not name it
    adds = models.TextField(blank=True, default="", db_default="")
    # How many usage events the row adds (the backlog in events), and when the batch was stored (the
    # drain lag is the age of the oldest row).
    events = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["account", "day"], name="pendingrollup_account_day")]

    def __str__(self) -> str:
        return f"account {self.account_id} on {self.day}"


class RollupPerson(models.Model):
    """Someone already counted in an (account, day)'s rollup of an event ('' for the day as a whole).

    What lets the refresher add new events to a rollup and keep its distinct-people count exact
    without reading the day's raw events again. Kept for recent days only (usage.retention); a day
    without its people (DailyAccountRollup.people_kept false) is recomputed whole when events arrive.
    """

    id = models.BigAutoField(primary_key=True)
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    event = models.CharField(max_length=210, blank=True)
    person = models.CharField(max_length=255)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "day", "event", "person"], name="rollup_person_key")
        ]
        indexes = [models.Index(fields=["day"], name="rollup_person_day")]

    def __str__(self) -> str:
        return f"{self.person} on {self.day}"


class ProductUser(models.Model):
    """A person as the product knows them (Segment userId), before and after they join an account."""

    user_id = models.CharField(max_length=255, unique=True)
    email = models.EmailField(blank=True)
    name = models.CharField(max_length=200, blank=True)
    traits = models.JSONField(default=dict, blank=True)
    account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="product_users"
    )
    contact = models.OneToOneField(
        "accounts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="product_user"
    )
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("product user")
        verbose_name_plural = _("product users")

    def __str__(self) -> str:
        return self.name or self.email or self.user_id


class DailyEventRollup(models.Model):
    """Per account, day and event name: how many times, by how many people (track, page, screen)."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    event = models.CharField(max_length=210)
    events = models.PositiveIntegerField()
    users = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "day", "event"], name="event_rollup_key")]

    def __str__(self) -> str:
        return f"{self.day} {self.event}: {self.events}"


class DailyAccountRollup(models.Model):
    """Per account and day: events (track, page, screen) and distinct active people."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    events = models.PositiveIntegerField()
    active_users = models.PositiveIntegerField()
    # Whether the day's people are in RollupPerson, so new events can be added to these numbers.
    people_kept = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "day"], name="account_rollup_key")]
        indexes = [models.Index(fields=["account", "-day"], name="account_rollup_recent")]

    def __str__(self) -> str:
        return f"{self.day}: {self.events} events, {self.active_users} people"


class KeyFeature(models.Model):
    """An event that shows a customer uses a feature that matters (breadth of adoption counts these)."""

    event = models.CharField(
        _("event name"),
        max_length=210,
        unique=True,
        help_text=_("As it appears in the rollups: a track event name, or “page: Name”."),
    )
    label = models.CharField(_("label"), max_length=100, blank=True)

    class Meta:
        ordering = ["label", "event"]
        verbose_name = _("key feature")
        verbose_name_plural = _("key features")

    def __str__(self) -> str:
        return self.label or self.event
