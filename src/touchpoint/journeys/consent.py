"""Whether a person wants journey emails, and the unsubscribe link every journey email carries.

No `MessagingConsent` row means the person has not said no. Every journey email links to
`/u/<token>/` (and names it in a List-Unsubscribe header with List-Unsubscribe-Post, RFC 8058, so a
mail client's "unsubscribe" button works in one click). The token is the contact's id signed with
the site's SECRET_KEY: it does not expire (an email read a year later still unsubscribes) and cannot
be forged for another person.

Every change, by the person (the link) or by a CSM (`set_consent`), is one transaction that writes
the row and an entry on the account's timeline. Unsubscribing twice changes nothing the second time.
journeys/delivery.py asks `is_unsubscribed` before each email.
"""

from __future__ import annotations

from typing import Any

from django.core import signing
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from touchpoint.accounts.models import Contact, TimelineEntry
from touchpoint.accounts.services import record_on_timeline
from touchpoint.journeys.models import ConsentStatus, MessagingConsent

SALT = "touchpoint.journeys.unsubscribe"
TIMELINE_KIND = "messaging_consent"
URL_NAME = "journeys-unsubscribe"

SOURCE_LINK = "unsubscribe link"
SOURCE_ONE_CLICK = "one-click"
SOURCE_CSM = "csm"
SOURCE_API = "api"


def _signer() -> signing.Signer:
    return signing.Signer(salt=SALT, sep=".")


def unsubscribe_token(contact: Contact) -> str:
    return _signer().sign(str(contact.pk))


def contact_for_token(token: str) -> Contact | None:
    """The contact a token was made for; None when it was tampered with or the person is gone."""
    try:
        contact_id = int(_signer().unsign(token))
    except (signing.BadSignature, ValueError):
        return None
    return Contact.objects.select_related("account").filter(pk=contact_id).first()


def unsubscribe_path(contact: Contact) -> str:
    token = unsubscribe_token(contact)
    try:
        return reverse(URL_NAME, args=[token])
    except NoReverseMatch:  # journeys/urls.py gave the app a namespace
        return reverse(f"journeys:{URL_NAME}", args=[token])


def unsubscribe_url(contact: Contact) -> str:
    """The absolute link for emails (TOUCHPOINT_BASE_URL in front)."""
    from django.conf import settings

    return settings.TOUCHPOINT_BASE_URL.rstrip("/") + unsubscribe_path(contact)


def is_unsubscribed(contact: Contact | None) -> bool:
    if contact is None or contact.pk is None:
        return False
    return MessagingConsent.objects.filter(contact=contact, status=ConsentStatus.UNSUBSCRIBED).exists()


def consent_of(contact: Contact) -> str:
    """The person's status: "subscribed" (also when they never said anything) or "unsubscribed"."""
    return ConsentStatus.UNSUBSCRIBED if is_unsubscribed(contact) else ConsentStatus.SUBSCRIBED


@transaction.atomic
def set_consent(*, contact: Contact, status: str, source: str, actor: Any = None) -> MessagingConsent:
    """Record the person's yes or no to journey emails, with a timeline entry when it changes.

    Idempotent: the same status again keeps the row (and its date) and writes no entry.
    """
    if status not in ConsentStatus.values:
        from django.core.exceptions import ValidationError

        raise ValidationError({"status": gettext("Choose subscribed or unsubscribed.")}, code="invalid")
    # The contact's row is locked so two clicks on the link at once write one change.
    Contact.objects.select_for_update().filter(pk=contact.pk).first()
    consent = MessagingConsent.objects.filter(contact=contact).first()
    if consent is not None and consent.status == status:
        return consent
    if consent is None:
        consent = MessagingConsent(contact=contact)
    consent.status = status
    consent.source = source[:40]
    consent.changed_at = timezone.now()
    consent.save()
    record_on_timeline(
        account=contact.account,
        kind=TIMELINE_KIND,
        title=(
            f"{contact.name} unsubscribed from journey emails"
            if status == ConsentStatus.UNSUBSCRIBED
            else f"{contact.name} subscribed to journey emails again"
        ),
        actor=actor,
        subject=contact,
        data={"contact": contact.name, "status": status, "source": consent.source},
    )
    return consent


def unsubscribe(*, contact: Contact, source: str = SOURCE_LINK) -> MessagingConsent:
    return set_consent(contact=contact, status=ConsentStatus.UNSUBSCRIBED, source=source)


def _describe(entry: TimelineEntry) -> str:
    name = entry.data["contact"]
    if entry.data["status"] == ConsentStatus.UNSUBSCRIBED:
        return gettext("%(name)s unsubscribed from journey emails") % {"name": name}
    return gettext("%(name)s subscribed to journey emails again") % {"name": name}


def register() -> None:
    from touchpoint.accounts.timeline import register_kind

    register_kind(TIMELINE_KIND, label=_("Email consent"), icon="email", describe=_describe)
