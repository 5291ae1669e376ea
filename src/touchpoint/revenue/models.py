"""Subscriptions, the MRR movements that tell their history, and the lists admins keep for them.

Money: a subscription's `mrr` is in its own currency. Every movement also stores its amounts in the
reporting currency (settings.TOUCHPOINT_CURRENCY), converted at the rate of the day it happened, so
revenue metrics add movements up without re-converting history (see docs/metrics.md).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TypedDict

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class _Money(TypedDict):
    max_digits: int
    decimal_places: int


MONEY: _Money = {"max_digits": 14, "decimal_places": 2}


class ChurnReason(models.Model):
    """Why a customer left or cut back; admins keep the list."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Inactive reasons stay on past movements but are not offered.")
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("churn reason")
        verbose_name_plural = _("churn reasons")

    def __str__(self) -> str:
        from touchpoint.revenue.churn_reasons import reason_label

        return reason_label(self.name)


class ExchangeRate(models.Model):
    """How many units of the reporting currency one unit of `currency` is worth."""

    currency = models.CharField(_("currency"), max_length=3, primary_key=True)
    rate = models.DecimalField(_("rate to the reporting currency"), max_digits=18, decimal_places=8)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["currency"]
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        constraints = [models.CheckConstraint(condition=Q(rate__gt=0), name="exchange_rate_positive")]

    def __str__(self) -> str:
        return f"{self.currency} {self.rate}"


class SubscriptionStatus(models.TextChoices):
    TRIALING = "trialing", _("Trialing")
    ACTIVE = "active", _("Active")
    PAST_DUE = "past_due", _("Past due")
    CANCELED = "canceled", _("Canceled")


# Statuses whose MRR counts as live recurring revenue.
LIVE_STATUSES = (SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE)


class Subscription(models.Model):
    """What one account pays for one product, recurring."""

    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.CASCADE, related_name="subscriptions"
    )
    external_id = models.CharField(
        _("external ID"),
        max_length=128,
        null=True,
        blank=True,
        unique=True,
        help_text=_("The subscription's ID in your billing system or CRM (e.g. Stripe's sub_…)."),
    )
    product = models.CharField(_("product"), max_length=200)
    plan = models.CharField(_("plan"), max_length=200, blank=True)
    quantity = models.PositiveIntegerField(_("seats"), default=1)
    mrr = models.DecimalField(
        _("MRR"), **MONEY, help_text=_("Monthly recurring revenue, in the subscription's currency.")
    )
    currency = models.CharField(_("currency"), max_length=3, default="USD")
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=SubscriptionStatus.choices,
        default=SubscriptionStatus.ACTIVE,
        db_index=False,  # subscription_renewals (status, renewal_date) serves status alone too
    )
    started_on = models.DateField(_("start date"))
    term_months = models.PositiveSmallIntegerField(_("term (months)"), default=12)
    renewal_date = models.DateField(_("renewal date"), null=True, blank=True, db_index=True)
    auto_renew = models.BooleanField(_("renews automatically"), default=True)
    canceled_on = models.DateField(_("canceled on"), null=True, blank=True)
    # Where the data has them: for time to close (opened → closed) and time to revenue (closed → paid).
    deal_opened_on = models.DateField(_("deal opened on"), null=True, blank=True)
    deal_closed_on = models.DateField(_("deal closed on"), null=True, blank=True)
    first_paid_on = models.DateField(_("first paid on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["account", "started_on", "id"]
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        constraints = [
            models.CheckConstraint(condition=Q(mrr__gte=0), name="subscription_mrr_not_negative"),
            models.CheckConstraint(condition=Q(term_months__gte=1), name="subscription_term_positive"),
        ]
        indexes = [models.Index(fields=["status", "renewal_date"], name="subscription_renewals")]

    def __str__(self) -> str:
        return f"{self.product} {self.plan}".strip()

    @property
    def arr(self) -> Decimal:
        return self.mrr * 12

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES


class MovementKind(models.TextChoices):
    NEW = "new", _("New")
    EXPANSION = "expansion", _("Expansion")
    CONTRACTION = "contraction", _("Contraction")
    CHURN = "churn", _("Churn")
    REACTIVATION = "reactivation", _("Reactivation")


class MovementSource(models.TextChoices):
    MANUAL = "manual", _("Entered by hand")
    STRIPE = "stripe", _("Stripe")
    IMPORT = "import", _("CSV import")
    DEMO = "demo", _("Demo data")


class MrrMovementQuerySet(models.QuerySet["MrrMovement"]):
    def effective(self) -> MrrMovementQuerySet:
        """The movements that count: neither voided nor the reversal of a voided one.

        Revenue metrics, charts, the forecast and health read only these, so a voided mistake
        and its reversal both vanish and history reads as if the mistake had not happened.
        """
        return self.filter(voided_at__isnull=True, reverses__isnull=True)


class MrrMovement(models.Model):
    """One change of a subscription's MRR. Movements of an account add up to its MRR change.

    The kind is the account's view, as revenue reporting counts it: a first subscription is new
    business, a second product for a paying customer is expansion, cancelling one of several is
    contraction, and only the last one leaving is churn.

    Amounts are in the reporting currency at the day's rate; `delta` is kept (not computed) so
    metrics can sum it in SQL, and a constraint holds it equal to `mrr_after - mrr_before`.
    """

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="movements")
    # Denormalised from the subscription so metrics group by account, segment and owner in one join.
    # No index of its own: movement_account_day starts with it (one index less to write per movement).
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="mrr_movements", db_index=False
    )
    kind = models.CharField(_("kind"), max_length=16, choices=MovementKind.choices)
    occurred_on = models.DateField(_("date"), db_index=True)
    mrr_before = models.DecimalField(_("MRR before"), **MONEY)
    mrr_after = models.DecimalField(_("MRR after"), **MONEY)
    delta = models.DecimalField(_("change"), **MONEY)
    currency = models.CharField(_("original currency"), max_length=3)
    churn_reason = models.ForeignKey(
        ChurnReason,
        verbose_name=_("churn reason"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="movements",
    )
    note = models.TextField(_("note"), blank=True)
    source = models.CharField(
        _("source"), max_length=16, choices=MovementSource.choices, default=MovementSource.MANUAL
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Voiding a mistaken movement never deletes it: it is marked here and a reversing movement
    # (`reverses` pointing back at it, the same day, the opposite amounts) is recorded beside it.
    voided_at = models.DateTimeField(_("voided"), null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    void_reason = models.TextField(_("why it was voided"), blank=True)
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("reverses"),
        null=True,
        blank=True,
        # Only ever deleted with its subscription or account (voiding never deletes), and then together.
        on_delete=models.CASCADE,
        related_name="reversal",
    )

    # The subscription's fields as they were before the write that made this movement (only those it
    # changed, as JSON), so voiding the movement can put the subscription back as it was.
    subscription_before = models.JSONField(default=dict, blank=True)

    objects = MrrMovementQuerySet.as_manager()

    class Meta:
        ordering = ["occurred_on", "id"]
        verbose_name = _("MRR movement")
        verbose_name_plural = _("MRR movements")
        constraints = [
            # Within half a cent: SQLite keeps decimals as floating point, PostgreSQL exactly.
            models.CheckConstraint(
                condition=Q(
                    delta__gte=F("mrr_after") - F("mrr_before") - Decimal("0.005"),
                    delta__lte=F("mrr_after") - F("mrr_before") + Decimal("0.005"),
                ),
                name="movement_delta_adds_up",
            ),
            models.CheckConstraint(
                condition=Q(mrr_before__gte=0, mrr_after__gte=0), name="movement_mrr_not_negative"
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind__in=["new", "reactivation"], mrr_before=0, mrr_after__gt=0)
                    | Q(kind="expansion", delta__gt=0)
                    | Q(kind="contraction", delta__lt=0)
                    | Q(kind="churn", mrr_after=0, mrr_before__gt=0)
                ),
                name="movement_kind_matches_amounts",
            ),
            # A reversal is never itself voided; a voided movement says why.
            models.CheckConstraint(
                condition=Q(reverses__isnull=True) | Q(voided_at__isnull=True),
                name="movement_reversal_not_voided",
            ),
        ]
        indexes = [models.Index(fields=["account", "occurred_on"], name="movement_account_day")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.delta:+} ({self.occurred_on})"

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None


class RenewalStage(models.TextChoices):
    """Where the conversation about one renewal is; the last three are outcomes."""

    NOT_STARTED = "not_started", _("Not started")
    IN_DISCUSSION = "in_discussion", _("In discussion")
    COMMIT = "commit", _("Commit")
    RENEWED = "renewed", _("Renewed")
    CHURNED = "churned", _("Churned")
    DOWNGRADED = "downgraded", _("Downgraded")


OPEN_STAGES = (RenewalStage.NOT_STARTED, RenewalStage.IN_DISCUSSION, RenewalStage.COMMIT)
OUTCOME_STAGES = (RenewalStage.RENEWED, RenewalStage.CHURNED, RenewalStage.DOWNGRADED)


class ForecastCategory(models.TextChoices):
    """The forecast categories sales tools share (Salesforce's standard set)."""

    PIPELINE = "pipeline", _("Pipeline")
    BEST_CASE = "best_case", _("Best case")
    COMMIT = "commit", _("Commit")
    CLOSED = "closed", _("Closed")
    OMITTED = "omitted", _("Omitted")


# Expected ARR: what the money columns hold, and a bound a typo of a trillion does not pass.
MAX_EXPECTED_ARR = Decimal("999999999999.99")


class RenewalOpportunity(models.Model):
    """One renewal of one subscription, worked as a deal: stage, forecast, expected ARR, then an outcome.

    There is one per (subscription, renewal date): recording the outcome moves the subscription's
    renewal date on, and the next date gets its own opportunity. `expected_arr` is in the
    subscription's currency.
    """

    subscription = models.ForeignKey(
        Subscription,
        verbose_name=_("subscription"),
        on_delete=models.CASCADE,
        related_name="renewal_opportunities",
        db_index=False,  # the unique key (subscription, renewal_date) starts with it
    )
    # Denormalised from the subscription so lists filter by book in one join, as movements do.
    account = models.ForeignKey(
        "accounts.Account",
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="renewal_opportunities",
    )
    renewal_date = models.DateField(_("renewal date"), db_index=True)
    stage = models.CharField(
        _("stage"), max_length=16, choices=RenewalStage.choices, default=RenewalStage.NOT_STARTED
    )
    forecast_category = models.CharField(
        _("forecast category"),
        max_length=16,
        choices=ForecastCategory.choices,
        default=ForecastCategory.PIPELINE,
    )
    expected_arr = models.DecimalField(
        _("expected ARR"), **MONEY, help_text=_("In the subscription's currency.")
    )
    outcome_reason = models.TextField(_("outcome reason"), blank=True)
    churn_reason = models.ForeignKey(
        ChurnReason,
        verbose_name=_("churn reason"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="renewal_opportunities",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="renewal_opportunities",
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["renewal_date", "id"]
        verbose_name = _("renewal opportunity")
        verbose_name_plural = _("renewal opportunities")
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "renewal_date"], name="renewal_opportunity_once_per_date"
            ),
            models.CheckConstraint(
                condition=Q(expected_arr__gte=0, expected_arr__lte=MAX_EXPECTED_ARR),
                name="renewal_opportunity_expected_arr_bounded",
            ),
            # An outcome and its closing go together: an open stage is never closed, an outcome always is.
            models.CheckConstraint(
                condition=(
                    Q(stage__in=["not_started", "in_discussion", "commit"], closed_at__isnull=True)
                    | Q(stage__in=["renewed", "churned", "downgraded"], closed_at__isnull=False)
                ),
                name="renewal_opportunity_closed_with_outcome",
            ),
        ]
        indexes = [models.Index(fields=["stage", "renewal_date"], name="renewal_opportunity_open")]

    def __str__(self) -> str:
        return f"{self.subscription} · {self.renewal_date}"

    @property
    def is_open(self) -> bool:
        return self.stage in OPEN_STAGES
