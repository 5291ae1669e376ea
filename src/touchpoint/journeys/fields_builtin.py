"""The fields every Touchpoint has: account.* and contact.* (imported once from JourneysConfig.ready()).

Each resolver reads one value of the subject as of `at`. Where the data keeps history it is read
as it was then: health by day, MRR from the movements, renewals and customer status from the
subscriptions' dates, the lifecycle phase from its timeline, product events by timestamp (the
`did:` condition). Where it does not (segment, engagement model, tags, attributes, contacts' roles)
the value is today's; the simulation says so beside its results.

Values: text and choices are strings, numbers are floats (or ints), lists are lists of strings,
dates are `date`s. A value the subject does not have is None (a condition on it does not hold).
Resolvers read other apps' data through those apps' selectors.

The engine advances enrollments in batches: inside `batch_facts(facts)` the account, contact, tag
and people reads come from a `Facts` that loads each kind for the whole batch at its first ask, so
a batch of 500 reads its accounts with one query rather than 500. Outside it (the simulation,
`enroll`), each read is its own query, as before.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
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


class Facts:
    """What conditions and recipients read of a batch's subjects: accounts (with owner and segment),
    contacts (with roles), tags, and each account's people; each kind loaded for the whole batch the
    first time one is asked for, and only for the subjects the batch was made with.

    Inside a batch's transaction: a write the batch makes to an account (a tag, an attribute) is
    followed by `forget(account_ids)`, so later reads of those accounts go to the database again.
    """

    def __init__(
        self,
        *,
        account_ids: Iterable[int],
        contact_ids: Iterable[int | None] = (),
    ) -> None:
        self.account_ids = set(account_ids)
        self.contact_ids = {pk for pk in contact_ids if pk is not None}
        self._accounts: dict[int, Any] | None = None
        self._contacts: dict[int, Any] | None = None
        self._tags: dict[int, list[str]] | None = None
        self._people: dict[int, list[Any]] | None = None
        self._forgotten: set[int] = set()

    def covers(self, account_id: int) -> bool:
        return account_id in self.account_ids and account_id not in self._forgotten

    def forget(self, account_ids: Iterable[int]) -> None:
        """These accounts changed: read them (their tags, attributes, people) from the database again."""
        self._forgotten.update(account_ids)

    def account(self, account_id: int) -> Any:
        if not self.covers(account_id):
            return accounts.account_facts(account_id)
        if self._accounts is None:
            from touchpoint.accounts.models import Account

            self._accounts = Account.objects.select_related("owner", "segment").in_bulk(self.account_ids)
        return self._accounts.get(account_id)

    def contact(self, contact_id: int) -> Any:
        if contact_id not in self.contact_ids:
            return accounts.contact_facts(contact_id)
        if self._contacts is None:
            from touchpoint.accounts.models import Contact

            self._contacts = Contact.objects.prefetch_related("roles").in_bulk(self.contact_ids)
        contact = self._contacts.get(contact_id)
        if contact is not None and not self.covers(contact.account_id):
            return accounts.contact_facts(contact_id)
        return contact

    def tags(self, account_id: int) -> list[str]:
        if not self.covers(account_id):
            return accounts.tag_names(account_id)
        if self._tags is None:
            from touchpoint.accounts.models import AccountTag

            found: dict[int, list[str]] = defaultdict(list)
            rows = AccountTag.objects.filter(account_id__in=self.account_ids).order_by("name")
            for owner_id, name in rows.values_list("account_id", "name"):
                found[owner_id].append(name)
            self._tags = found
        return list(self._tags.get(account_id, []))

    def people(self, account_id: int, roles: list[str] | None = None) -> list[Any]:
        """As accounts.selectors.contacts_with_roles: the account's contacts (with one of `roles`)."""
        if not self.covers(account_id):
            return accounts.contacts_with_roles(account_id, roles)
        if self._people is None:
            from touchpoint.accounts.models import Contact

            found: dict[int, list[Any]] = defaultdict(list)
            everyone = Contact.objects.filter(account_id__in=self.account_ids).prefetch_related("roles")
            for contact in everyone.order_by("name", "id"):
                found[contact.account_id].append(contact)
            self._people = found
        people = self._people.get(account_id, [])
        if roles is None:
            return list(people)
        wanted = set(roles)
        return [c for c in people if wanted.intersection(r.role for r in c.roles.all())]


_FACTS: ContextVar[Facts | None] = ContextVar("journeys_batch_facts", default=None)


@contextmanager
def batch_facts(facts: Facts) -> Iterator[Facts]:
    """Read subjects from `facts` (see Facts) while the block runs."""
    token = _FACTS.set(facts)
    try:
        yield facts
    finally:
        _FACTS.reset(token)


def current_facts() -> Facts | None:
    return _FACTS.get()


def account_of(account_id: int) -> Any:
    """The account with its owner and segment (from the batch's facts when there are some), or None."""
    facts = _FACTS.get()
    return facts.account(account_id) if facts is not None else accounts.account_facts(account_id)


def contact_of(contact_id: int) -> Any:
    """The contact with its roles (from the batch's facts when there are some), or None."""
    facts = _FACTS.get()
    return facts.contact(contact_id) if facts is not None else accounts.contact_facts(contact_id)


def _account(subject: Subject) -> Any:
    return account_of(subject.account_id)


def _contact(subject: Subject) -> Any:
    if subject.contact_id is None:
        return None
    return contact_of(subject.contact_id)


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
    facts = _FACTS.get()
    return facts.tags(subject.account_id) if facts is not None else accounts.tag_names(subject.account_id)


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
