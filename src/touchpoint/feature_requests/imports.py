"""The "feature-requests" CSV import kind (registered from FeatureRequestsConfig.ready()).

One row is one ask: an account asking for a request, as Productboard insights, Canny votes or a
spreadsheet of "who asked for what" list them. Its `external_id` is the ask's id, so importing the
same file again changes nothing. The request is found by its own id (`request_id`) when the file
has one, else by its title (the same words, any case); a request not found is created from the
row. Rows go through the services, so every ask reaches the account's timeline as one typed in.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from touchpoint.accounts.models import Account, Contact
from touchpoint.feature_requests import services
from touchpoint.feature_requests.models import Ask, FeatureRequest
from touchpoint.integrations.csv_import.importers import (
    Field,
    Importer,
    Lookups,
    RowProblem,
    date_value,
    register,
    require_row,
    required,
    service_problem,
    text,
)
from touchpoint.users.models import User

KIND = "feature-requests"


def _clean(row: dict[str, str], lookups: Lookups, context: dict) -> dict:
    values: dict[str, Any] = {
        "external_id": required(row, "external_id", 128),
        "title": required(row, "title", 200),
        "request_id": text(row, "request_id", 128) or None,
        "description": text(row, "description", 5000),
        "product_area": text(row, "product_area", 100),
        "verbatim": text(row, "verbatim", 5000),
    }
    account = required(row, "account")
    values["account_id"] = lookups.account(account)
    if values["account_id"] is None:
        raise RowProblem(
            "account", _("No account with external ID (or name) “%(value)s”.") % {"value": account}
        )
    values["contact_id"] = None
    if email := text(row, "contact", 254):
        found = (
            Contact.objects.filter(account_id=values["account_id"], email__iexact=email)
            .values_list("pk", flat=True)
            .first()
        )
        if found is None:
            raise RowProblem("contact", _("No contact “%(value)s” at this account.") % {"value": email})
        values["contact_id"] = found
    day = date_value(row, "asked_on", context)
    if day is not None and not (day.year >= 2000 and day <= timezone.localdate()):
        raise RowProblem("asked_on", _("Give a day between 2000 and today."))
    values["asked_at"] = timezone.make_aware(datetime.combine(day, time(12))) if day else None
    return values


def _request_for(values: dict, actor: User | None) -> FeatureRequest:
    if values["request_id"]:
        found = FeatureRequest.objects.filter(external_id=values["request_id"]).first()
    else:
        found = (
            FeatureRequest.objects.filter(title__iexact=values["title"], merged_into__isnull=True)
            .order_by("pk")
            .first()
        )
    if found is not None:
        return found
    require_row(actor, "feature_requests.add_featurerequest", None, "title")
    return services.create_request(
        title=values["title"],
        description=values["description"],
        product_area=values["product_area"],
        external_id=values["request_id"],
        actor=actor,
    )


def _apply(values: dict, lookups: Lookups, actor: User | None) -> str:
    account = lookups.instance(Account, values["account_id"])
    require_row(actor, "feature_requests.add_requestlink", account, "account")
    contact = lookups.instance(Contact, values["contact_id"]) if values["contact_id"] else None
    try:
        existing = Ask.objects.select_related("link").filter(external_id=values["external_id"]).first()
        if existing is not None:
            if existing.link.account_id != account.pk:
                raise RowProblem("account", _("This ask was imported for another account."))
            changed = services.update_ask(
                ask=existing,
                verbatim=values["verbatim"],
                contact=contact,
                asked_at=values["asked_at"] or existing.asked_at,
                actor=actor,
            )
            return "updated" if changed else "unchanged"
        services.ask(
            request=_request_for(values, actor),
            account=account,
            actor=actor,
            verbatim=values["verbatim"],
            contact=contact,
            asked_at=values["asked_at"],
            external_id=values["external_id"],
        )
        return "created"
    except ValidationError as error:
        raise service_problem(error, "external_id") from None


def register_kind() -> None:
    register(
        Importer(
            kind=KIND,
            label=gettext_lazy("Feature requests"),
            clean=_clean,
            apply=_apply,
            date_fields=("asked_on",),
            fields=[
                Field(
                    "external_id",
                    gettext_lazy("Ask ID"),
                    ("Ask ID", "Insight ID", "Vote ID", "Note ID", "ID"),
                    True,
                ),
                Field(
                    "title",
                    gettext_lazy("Request title"),
                    ("Feature request", "Request", "Feature", "Idea", "Title", "Feature name"),
                    True,
                ),
                Field(
                    "request_id", gettext_lazy("Request ID"), ("Feature ID", "Idea ID", "Request external ID")
                ),
                Field("description", gettext_lazy("Description"), ("Details", "Request description")),
                Field(
                    "product_area", gettext_lazy("Product area"), ("Area", "Component", "Module", "Category")
                ),
                Field(
                    "account",
                    gettext_lazy("Account external ID (or name)"),
                    (
                        "Account ID",
                        "Account External ID",
                        "Company ID",
                        "Account Name",
                        "Company",
                        "Company name",
                    ),
                    True,
                ),
                Field(
                    "contact",
                    gettext_lazy("Contact email"),
                    ("Contact", "Email", "Requester email", "User email"),
                ),
                Field(
                    "verbatim",
                    gettext_lazy("In their words"),
                    ("Verbatim", "Quote", "Comment", "Note", "Insight"),
                ),
                Field(
                    "asked_on",
                    gettext_lazy("Asked on"),
                    ("Date", "Asked", "Created", "Created at", "Requested on"),
                ),
            ],
        )
    )
