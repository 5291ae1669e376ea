"""The fields every Touchpoint has: account.* and contact.* (imported once from JourneysConfig.ready()).

Each resolver reads one value of the subject as of `at`. Where the data keeps history it is read
as it was then: health by day, MRR from the movements, renewals and customer status from the
subscriptions' dates, the lifecycle phase from its timeline, product events by timestamp (the
`did:` condition). Where it does not (segment, engagement model, tags, attributes, contacts' roles)
the value is today's; the simulation says so beside its results.

Values: text and choices are strings, numbers are floats (or ints), lists are lists of strings,
dates are `date`s. A value the subject does not have is None (a condition on it does not hold).
Resolvers read other apps' data through those apps' selectors.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from touchpoint.accounts import selectors as accounts
from touchpoint.accounts.models import ContactRole
from touchpoint.journeys.fields import register_field

if TYPE_CHECKING:
    from touchpoint.journeys.interpreter import Subject

# The interpreter's names for the engagement models (definition: `by_engagement`), by the stored value.
ENGAGEMENT_MODELS = {"high": "high_touch", "low": "low_touch", "hybrid": "hybrid"}
HEALTH_GRADES = ("green", "yellow", "red", "unknown")
CUSTOMER_STATUSES = ("customer", "churned", "prospect")


def local_day(at: datetime) -> date:
    return timezone.localdate(at) if timezone.is_aware(at) else at.date()


def _account(subject: Subject) -> Any:
    return accounts.account_facts(subject.account_id)


def _contact(subject: Subject) -> Any:
    if subject.contact_id is None:
        return None
    return accounts.contact_facts(subject.contact_id)


# --- account.* ------------------------------------------------------------------------------------


def segment(subject: Subject, at: datetime, entry: dict[str, Any]) -> str | None:
    account = _account(subject)
    return account.segment.name if account is not None and account.segment is not None else None


def engagement_model(subject: Subject, at: datetime, entry: dict[str, Any]) -> str | None:
    account = _account(subject)
    return ENGAGEMENT_MODELS.get(account.engagement_model) if account is not None else None


def language(subject: Subject, at: datetime, entry: dict[str, Any]) -> str | None:
    account = _account(subject)
    return (account.language or None) if account is not None else None


def owner_email(subject: Subject, at: datetime, entry: dict[str, Any]) -> str | None:
    account = _account(subject)
    return account.owner.email if account is not None and account.owner is not None else None


def tags(subject: Subject, at: datetime, entry: dict[str, Any]) -> list[str]:
    return accounts.tag_names(subject.account_id)


def days_since_created(subject: Subject, at: datetime, entry: dict[str, Any]) -> int | None:
    account = _account(subject)
    if account is None or account.created_at > at:
        return None
    return (local_day(at) - local_day(account.created_at)).days


def phase(subject: Subject, at: datetime, entry: dict[str, Any]) -> str | None:
    from touchpoint.success.selectors import phase_name_on

    return phase_name_on(subject.account_id, at)


def health_grade(subject: Subject, at: datetime, entry: dict[str, Any]) -> str | None:
    from touchpoint.health.selectors import score_on

    score = score_on(subject.account_id, local_day(at))
    return score.grade if score is not None else None


def health_score(subject: Subject, at: datetime, entry: dict[str, Any]) -> float | None:
    from touchpoint.health.selectors import score_on

    score = score_on(subject.account_id, local_day(at))
    return score.score if score is not None else None


def mrr(subject: Subject, at: datetime, entry: dict[str, Any]) -> float:
    from touchpoint.revenue.selectors import account_mrr_on

    return float(account_mrr_on(subject.account_id, local_day(at)))


def renewal_date(subject: Subject, at: datetime, entry: dict[str, Any]) -> date | None:
    from touchpoint.revenue.selectors import next_renewal_on

    return next_renewal_on(subject.account_id, local_day(at))


def days_to_renewal(subject: Subject, at: datetime, entry: dict[str, Any]) -> int | None:
    renewal = renewal_date(subject, at, entry)
    return (renewal - local_day(at)).days if renewal is not None else None


def customer_status(subject: Subject, at: datetime, entry: dict[str, Any]) -> str:
    from touchpoint.revenue.selectors import customer_status_on

    return customer_status_on(subject.account_id, local_day(at))


# --- contact.* ------------------------------------------------------------------------------------


def contact_roles(subject: Subject, at: datetime, entry: dict[str, Any]) -> list[str] | None:
    contact = _contact(subject)
    return contact.role_values if contact is not None else None


def contact_language(subject: Subject, at: datetime, entry: dict[str, Any]) -> str | None:
    contact = _contact(subject)
    return (contact.language or None) if contact is not None else None


def contact_email_domain(subject: Subject, at: datetime, entry: dict[str, Any]) -> str | None:
    contact = _contact(subject)
    if contact is None or "@" not in contact.email:
        return None
    return contact.email.rsplit("@", 1)[1].lower()


def contact_title(subject: Subject, at: datetime, entry: dict[str, Any]) -> str | None:
    contact = _contact(subject)
    return (contact.title or None) if contact is not None else None


def contact_days_since_created(subject: Subject, at: datetime, entry: dict[str, Any]) -> int | None:
    contact = _contact(subject)
    if contact is None or contact.created_at > at:
        return None
    return (local_day(at) - local_day(contact.created_at)).days


register_field("account.segment", _("Segment"), kind="text", resolve=segment)
register_field(
    "account.engagement_model",
    _("Engagement model"),
    kind="choice",
    resolve=engagement_model,
    choices=tuple(ENGAGEMENT_MODELS.values()),
)
register_field("account.language", _("Account language"), kind="text", resolve=language)
register_field("account.owner_email", _("Owner's email"), kind="text", resolve=owner_email)
register_field("account.tags", _("Tags"), kind="list", resolve=tags)
register_field(
    "account.days_since_created",
    _("Days since the account was created"),
    kind="number",
    resolve=days_since_created,
)
register_field("account.phase", _("Lifecycle phase"), kind="text", resolve=phase)
register_field(
    "account.health_grade", _("Health grade"), kind="choice", resolve=health_grade, choices=HEALTH_GRADES
)
register_field("account.health_score", _("Health score"), kind="number", resolve=health_score)
register_field("account.mrr", _("MRR"), kind="number", resolve=mrr)
register_field("account.renewal_date", _("Next renewal date"), kind="date", resolve=renewal_date)
register_field(
    "account.days_to_renewal", _("Days to the next renewal"), kind="number", resolve=days_to_renewal
)
register_field(
    "account.status", _("Customer status"), kind="choice", resolve=customer_status, choices=CUSTOMER_STATUSES
)
register_field(
    "contact.role",
    _("Contact's roles"),
    kind="list",
    resolve=contact_roles,
    choices=tuple(ContactRole.values),
)
register_field("contact.language", _("Contact's language"), kind="text", resolve=contact_language)
register_field("contact.email_domain", _("Contact's email domain"), kind="text", resolve=contact_email_domain)
register_field("contact.title", _("Contact's job title"), kind="text", resolve=contact_title)
register_field(
    "contact.days_since_created",
    _("Days since the contact was added"),
    kind="number",
    resolve=contact_days_since_created,
)
