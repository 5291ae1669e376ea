"""The "tickets" CSV import kind, registered from SupportConfig.ready().

Rows are upserted on (source, external ID) through `support.services.upsert_ticket`, the same service
the API and the help-desk webhooks use: a row whose update time is not after the stored one changes
nothing. Times are ISO (2026-03-01T09:30:00Z) or a date with an optional time (01/03/2026 09:30);
a time without a zone is read in the site's time zone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, time
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from touchpoint.accounts.models import Account
from touchpoint.integrations.csv_import.importers import (
    Field,
    Importer,
    Lookups,
    RowProblem,
    normalise,
    register,
    require_row,
    required,
    service_problem,
    text,
)
from touchpoint.integrations.csv_import.values import BadValue, parse_date
from touchpoint.support import services
from touchpoint.support.models import Ticket
from touchpoint.support.webhooks import CHANNELS, PRIORITIES, STATUSES
from touchpoint.users.models import User

MOMENTS = ("opened_at", "updated_at", "first_reply_at", "solved_at")


def moment_value(row: dict[str, str], name: str, context: dict) -> datetime | None:
    value = (row.get(name) or "").strip()
    if not value:
        return None
    problem = RowProblem(
        name, _("“%(value)s” is not a time (use e.g. 2026-03-01 09:30).") % {"value": value[:60]}
    )
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        match = re.fullmatch(r"(.+?)(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?", value)
        if match is None:
            raise problem from None
        try:
            day = parse_date(match.group(1), day_first=context.get("day_first", {}).get(name))
        except BadValue:
            raise problem from None
        hour, minute, second = (int(match.group(i) or 0) for i in (2, 3, 4))
        if hour > 23 or minute > 59 or second > 59:
            raise problem from None
        moment = datetime.combine(day, time(hour, minute, second))
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _choice(row: dict[str, str], name: str, table: Mapping[str, str], default: str) -> str:
    value = text(row, name)
    if not value:
        return default
    found = table.get(normalise(value))
    if found is None:
        raise RowProblem(name, _("“%(value)s” is not a value Touchpoint knows.") % {"value": value[:60]})
    return found


def _clean_ticket(row: dict[str, str], lookups: Lookups, context: dict) -> dict:
    values: dict[str, Any] = {"external_id": required(row, "external_id", 128)}
    account = required(row, "account")
    values["account_id"] = lookups.account(account)
    if values["account_id"] is None:
        raise RowProblem(
            "account", _("No account with external ID (or name) “%(value)s”.") % {"value": account}
        )
    moments = {name: moment_value(row, name, context) for name in MOMENTS}
    if moments["opened_at"] is None:
        raise RowProblem("opened_at", _("Required, but empty."))
    values["data"] = services.TicketData(
        subject=required(row, "subject", 300),
        opened_at=moments["opened_at"],
        updated_at=moments["updated_at"],
        priority=_choice(row, "priority", PRIORITIES, "normal"),
        status=_choice(row, "status", STATUSES, "open"),
        channel=_choice(row, "channel", CHANNELS, "other"),
        source=(text(row, "source", 40) or "import").lower(),
        external_id=values["external_id"],
        requester_name=text(row, "requester_name"),
        requester_email=text(row, "requester_email", 254),
        assignee=text(row, "assignee"),
        first_reply_at=moments["first_reply_at"],
        solved_at=moments["solved_at"],
    )
    return values


def _apply_ticket(values: dict, lookups: Lookups, actor: User | None) -> str:
    data: services.TicketData = values["data"]
    account = lookups.instance(Account, values["account_id"])
    existing = Ticket.objects.filter(source=data.source, external_id=data.external_id).first()
    if existing is None:
        require_row(actor, "support.add_ticket", account, "account")
    else:
        require_row(actor, "support.change_ticket", existing, "external_id")
    if data.updated_at is None:
        # A file without update times: each row is as new as its latest time, so importing it twice changes nothing.
        data.updated_at = max(
            m for m in (data.opened_at, data.first_reply_at, data.solved_at) if m is not None
        )
    try:
        _ticket, outcome = services.upsert_ticket(data=data, account=account, actor=actor)
    except ValidationError as error:
        raise service_problem(error, "external_id") from None
    return outcome


def register_kind() -> None:
    register(
        Importer(
            kind="tickets",
            label=gettext_lazy("Support tickets"),
            clean=_clean_ticket,
            apply=_apply_ticket,
            date_fields=MOMENTS,
            fields=[
                Field(
                    "external_id",
                    gettext_lazy("Ticket ID"),
                    ("ID", "Ticket ID", "Ticket Number", "Number"),
                    True,
                ),
                Field(
                    "account",
                    gettext_lazy("Account external ID (or name)"),
                    (
                        "Account ID",
                        "Organization",
                        "Organization ID",
                        "Company",
                        "Company Name",
                        "Account Name",
                    ),
                    True,
                ),
                Field("subject", gettext_lazy("Subject"), ("Subject", "Title", "Summary"), True),
                Field("priority", gettext_lazy("Priority"), ("Priority", "Severity")),
                Field("status", gettext_lazy("Status"), ("Status", "State")),
                Field("channel", gettext_lazy("Channel"), ("Channel", "Via", "Source Channel")),
                Field(
                    "opened_at",
                    gettext_lazy("Opened"),
                    ("Created", "Created At", "Created Time", "Opened"),
                    True,
                ),
                Field("updated_at", gettext_lazy("Updated"), ("Updated", "Updated At", "Last Updated Time")),
                Field(
                    "first_reply_at",
                    gettext_lazy("First reply"),
                    ("First Reply", "First Reply At", "First Response Time", "First Responded At"),
                ),
                Field(
                    "solved_at",
                    gettext_lazy("Solved"),
                    ("Solved", "Solved At", "Resolved", "Resolved Time", "Closed At"),
                ),
                Field(
                    "requester_email",
                    gettext_lazy("Requester email"),
                    ("Requester Email", "Contact Email", "Email"),
                ),
                Field(
                    "requester_name",
                    gettext_lazy("Requester name"),
                    ("Requester", "Requester Name", "Contact", "Contact Name"),
                ),
                Field("assignee", gettext_lazy("Assignee"), ("Assignee", "Agent", "Assigned To")),
                Field("source", gettext_lazy("Source (help desk)"), ("Source", "Help Desk", "System")),
            ],
        )
    )
