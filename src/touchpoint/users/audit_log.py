"""Reading the audit log: the filters of the Audit page, its API and its CSV, one keyset page at a
time (fast on millions of entries: the filters use the indexes on created_at, (actor, created_at),
(action, created_at) and (object_type, object_id)), and each entry in words."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.apps import apps
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from touchpoint.users.models import AuditLogEntry, AuditRedaction

PAGE_SIZE = 50
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class AuditFilters:
    actor: int | None = None  # a user id
    action: str = ""  # exact ("export") or a family ending in a dot ("auth.")
    object_type: str = ""  # "app_label.model", e.g. "revenue.subscription"
    object: str = ""  # an object id, or text the entry's object reads
    since: date | None = None
    until: date | None = None  # inclusive

    def as_query(self) -> dict[str, str]:
        """The filters as query-string values (for links and the CSV export)."""
        found = {
            "actor": str(self.actor or ""),
            "action": self.action,
            "object_type": self.object_type,
            "object": self.object,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
        }
        return {key: value for key, value in found.items() if value}


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def entries(filters: AuditFilters) -> QuerySet[AuditLogEntry]:
    """The entries matching `filters`, newest first, with their actors."""
    found = AuditLogEntry.objects.select_related("actor")
    if filters.actor:
        found = found.filter(actor_id=filters.actor)
    if filters.action.endswith("."):
        found = found.filter(action__startswith=filters.action)
    elif filters.action:
        found = found.filter(action=filters.action)
    if filters.object_type:
        found = found.filter(object_type=filters.object_type)
    text = filters.object.strip()
    if text:
        if text.isdigit():
            found = found.filter(object_id=text)
        else:
            found = found.filter(Q(object_repr__icontains=text) | Q(object_id=text))
    if filters.since:
        found = found.filter(created_at__gte=_day_start(filters.since))
    if filters.until:
        found = found.filter(created_at__lt=_day_start(filters.until + timedelta(days=1)))
    return found.order_by("-created_at", "-id")


def cursor_of(entry: AuditLogEntry) -> str:
    """Where the next page starts: after this entry (its time in microseconds and its id)."""
    return f"{(entry.created_at - EPOCH) // timedelta(microseconds=1)}.{entry.pk}"


def parse_cursor(value: str) -> tuple[datetime, int] | None:
    """The (time, id) a cursor names; None for anything else (the first page)."""
    moment, _dot, pk = (value or "").partition(".")
    if not (moment.lstrip("-").isdigit() and pk.isdigit()) or len(moment) > 18 or len(pk) > 18:
        return None
    try:
        return EPOCH + timedelta(microseconds=int(moment)), int(pk)
    except OverflowError:
        return None


def page(filters: AuditFilters, *, after: str = "", size: int = PAGE_SIZE) -> tuple[list[AuditLogEntry], str]:
    """One page of entries older than the cursor `after` (the newest when empty) and the cursor of
    the next page ("" when this is the last). Keyset paging: as fast on the last page as the first."""
    found = entries(filters)
    position = parse_cursor(after)
    if position is not None:
        moment, pk = position
        found = found.filter(Q(created_at__lt=moment) | Q(created_at=moment, id__lt=pk))
    redacted = AuditRedaction.objects.filter(entry=OuterRef("pk"))
    rows: list[AuditLogEntry] = list(found.annotate(redacted=Exists(redacted))[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return rows, cursor_of(rows[-1]) if more and rows else ""


def object_types() -> list[str]:
    """The kinds of object entries are about, for the filter (every model, and the non-model kinds)."""
    models = sorted(model._meta.label_lower for model in apps.get_models())
    return ["export", "import", *models]


def type_label(object_type: str) -> str:
    """ "revenue.subscription" → "subscription" (the model's name), else the type as written."""
    special = {"export": _("export"), "import": _("import"), "demo.company": _("demo company")}
    if object_type in special:
        return str(special[object_type])
    try:
        return str(apps.get_model(object_type)._meta.verbose_name)
    except (LookupError, ValueError):
        return object_type


def actor_label(entry: AuditLogEntry) -> str:
    if entry.actor_id is None:
        return str(_("Touchpoint"))
    actor = entry.actor  # select_related: None when the user row was deleted (the id is kept)
    if actor is None:
        return _("deleted user #%(id)s") % {"id": entry.actor_id}
    return str(actor)


def _value(value: Any) -> str:
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return f"{_value(value[0])} → {_value(value[1])}"
    if isinstance(value, dict):
        return ", ".join(f"{key}: {_value(item)}" for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_value(item) for item in value)
    if value is None or value == "":
        return "—"
    return str(value)


def changes_in_words(entry: AuditLogEntry) -> list[tuple[str, str]]:
    """The entry's changes as (what, value) pairs: "mrr: 100 → 200"."""
    changes = entry.changes if isinstance(entry.changes, dict) else {"": entry.changes}
    return [(str(key), _value(value)) for key, value in changes.items()]


def _object(entry: AuditLogEntry) -> str:
    label = type_label(entry.object_type)
    name = entry.object_repr or (f"#{entry.object_id}" if entry.object_id else "")
    return f"{label} “{name}”" if name else label


def in_words(entry: AuditLogEntry) -> str:
    """One entry as a sentence: who did what to which object."""
    changes = entry.changes if isinstance(entry.changes, dict) else {}
    who, what = actor_label(entry), _object(entry)
    action = entry.action
    if action == "auth.login":
        return _("%(who)s signed in") % {"who": who}
    if action == "auth.logout":
        return _("%(who)s signed out") % {"who": who}
    if action == "auth.login_failed":
        return _("A sign-in as “%(name)s” failed") % {"name": changes.get("username", entry.object_repr)}
    if action == "export":
        if isinstance(changes.get("rows"), int):
            counted = ngettext(
                "%(who)s exported %(what)s (%(rows)s row)",
                "%(who)s exported %(what)s (%(rows)s rows)",
                changes["rows"],
            )
            return counted % {
                "who": who,
                "what": entry.object_repr,
                "rows": changes["rows"],
            }
        return _("%(who)s exported %(what)s") % {"who": who, "what": entry.object_repr}
    if action in ("import.run", "import.check"):
        words = (
            _("%(who)s imported %(file)s (%(kind)s)")
            if action == "import.run"
            else _("%(who)s checked %(file)s for an import (%(kind)s)")
        )
        return words % {"who": who, "file": entry.object_repr, "kind": changes.get("kind", entry.object_id)}
    admin = {
        "admin.add": _("%(who)s added %(what)s in the Django admin"),
        "admin.change": _("%(who)s changed %(what)s in the Django admin"),
        "admin.delete": _("%(who)s deleted %(what)s in the Django admin"),
    }
    if action in admin:
        return admin[action] % {"who": who, "what": what}
    verb = action.rsplit(".", 1)[-1].replace("_", " ")
    common = {
        "create": _("%(who)s created %(what)s"),
        "created": _("%(who)s created %(what)s"),
        "change": _("%(who)s changed %(what)s"),
        "update": _("%(who)s changed %(what)s"),
        "changed": _("%(who)s changed %(what)s"),
        "delete": _("%(who)s deleted %(what)s"),
        "revoke": _("%(who)s revoked %(what)s"),
    }
    if verb in common:
        return common[verb] % {"who": who, "what": what}
    return _("%(who)s: %(action)s, %(what)s") % {"who": who, "action": action, "what": what}


CSV_HEADER = (
    "time",
    "actor_id",
    "actor",
    "action",
    "object_type",
    "object_id",
    "object",
    "summary",
    "changes",
)


def csv_rows(filters: AuditFilters) -> Iterator[list[Any]]:
    """The CSV's rows (after its header), streamed from the database in chunks."""
    import json

    for entry in entries(filters).iterator(chunk_size=2000):
        yield [
            entry.created_at.isoformat(),
            entry.actor_id or "",
            actor_label(entry),
            entry.action,
            entry.object_type,
            entry.object_id,
            entry.object_repr,
            in_words(entry),
            json.dumps(entry.changes, ensure_ascii=False, sort_keys=True),
        ]
