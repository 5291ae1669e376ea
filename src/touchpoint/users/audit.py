"""The audit log: append-only, what is recorded in it, and the one way an entry may change.

Entries are written by `touchpoint.users.services.record_audit` (changes made through the services, in
their transaction) and here: sign-ins, sign-outs and failed sign-ins (Django's auth signals), changes
made in Django's admin (its LogEntry rows), exports (`record_export`, one line in each export view)
and imports (`record_import`).

Nobody rewrites the log. Database triggers (migration users 0004) refuse UPDATE and DELETE of
`users_auditlogentry` and `users_auditredaction` (and TRUNCATE on PostgreSQL); the models refuse
`save()` of an existing row and `delete()`; the Django admin shows entries read-only. The one change
let through is a redaction for the privacy erasure, `redact_entries`, which first records an
`AuditRedaction` (who, when, why, and the entry's new text); the triggers let an UPDATE through only
to the text such a row holds, and never to the action, the object or the time.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connections, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _

from touchpoint.users.models import AuditLogEntry, AuditRedaction, User

AUDIT_TABLES = (AuditLogEntry._meta.db_table, AuditRedaction._meta.db_table)


def append(
    *,
    actor: User | None,
    action: str,
    object_type: str,
    object_id: str = "",
    object_repr: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditLogEntry:
    """Append an entry about something that is not one model row (a sign-in attempt, an export)."""
    return AuditLogEntry.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        action=action[:64],
        object_type=object_type[:64],
        object_id=str(object_id)[:64],
        object_repr=object_repr[:255],
        changes=changes or {},
    )


def client_address(request: HttpRequest | None) -> str:
    """The address the request came from, as Django sees it (REMOTE_ADDR; a proxy setup sets it)."""
    if request is None:
        return ""
    return str(request.META.get("REMOTE_ADDR", ""))[:64]


def _request_user(request: HttpRequest) -> User | None:
    user = getattr(request, "user", None)
    return user if isinstance(user, User) and user.pk else None


# --- Exports and imports -------------------------------------------------------------------------


def record_export(request: HttpRequest, *, what: str, rows: int | None) -> AuditLogEntry:
    """Note that the signed-in person downloaded an export: `what` names it (e.g. "accounts.csv"),
    `rows` is how many rows it holds (None when it is not a table: a PDF, a YAML document).

    Call it from the export view, once per download; the query string (the filters) is kept.
    """
    changes: dict[str, Any] = {"path": request.path[:255], "ip": client_address(request)}
    if request.GET:
        changes["filters"] = {key: request.GET.getlist(key)[:20] for key in list(request.GET)[:50]}
    if rows is not None:
        changes["rows"] = rows
    return append(
        actor=_request_user(request),
        action="export",
        object_type="export",
        object_id=what[:64],
        object_repr=what,
        changes=changes,
    )


def record_import(
    *, actor: User | None, kind: str, file_name: str, outcome: dict[str, Any], dry_run: bool = False
) -> AuditLogEntry:
    """Note one CSV import run (not a check): its kind, the file's name, its rows and how it ended."""
    keep = ("rows", "created", "updated", "unchanged", "problem_count")
    changes: dict[str, Any] = {"kind": kind, "file": file_name[:255]}
    changes.update({key: outcome[key] for key in keep if key in outcome})
    changes["outcome"] = "done" if not outcome.get("problem_count") else "failed"
    return append(
        actor=actor,
        action="import.check" if dry_run else "import.run",
        object_type="import",
        object_id=kind,
        object_repr=file_name,
        changes=changes,
    )


# --- Redaction (the privacy erasure) -------------------------------------------------------------


@transaction.atomic
def redact_entries(
    *,
    entries: QuerySet[AuditLogEntry],
    replace: Callable[[AuditLogEntry], tuple[str, dict]],
    reason: str,
    actor: User | None,
) -> int:
    """Rewrite the text of audit entries that name a person, keeping the fact of each entry.

    For each entry, `replace(entry)` returns its new `(object_repr, changes)` (e.g. the person's name
    and email replaced by a pseudonym); to clear who made the entry as well, `replace` sets
    `entry.actor = None` on the entry it is given. A redaction row is recorded first (who, when,
    `reason`, and the entry's new text), then the entry is updated: the database lets that UPDATE
    through only because such a row exists and holds exactly that text. The action, object type,
    object id and time never change. One transaction; returns how many entries changed (an entry
    `replace` leaves as it was gets no redaction row).
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the entries are redacted.")})
    changed = 0
    for entry in entries.order_by("pk").select_for_update():
        before_actor = entry.actor_id
        object_repr, changes = replace(entry)
        object_repr = str(object_repr)[:255]
        clears_actor = before_actor is not None and entry.actor_id is None
        if object_repr == entry.object_repr and changes == entry.changes and not clears_actor:
            continue
        AuditRedaction.objects.create(
            entry=entry,
            reason=reason[:255],
            actor=actor if actor is not None and actor.pk else None,
            object_repr=object_repr,
            changes=changes,
            clears_actor=clears_actor,
        )
        AuditLogEntry.objects.filter(pk=entry.pk).update(
            object_repr=object_repr, changes=changes, actor=None if clears_actor else before_actor
        )
        changed += 1
    return changed


# --- Writing history (the demo company) and emptying a database (tests) --------------------------


@contextlib.contextmanager
def triggers_suspended(*, using: str = "default") -> Iterator[None]:
    """Inside one transaction, lift the audit tables' triggers and put them back before it commits.

    Only for writing made-up history into a new database (the demo company backdates the entries its
    steps wrote) and for emptying a test database. Nothing in the product's pages, API or services
    calls it; whoever holds the database's owner role could drop the triggers anyway.
    """
    connection = connections[using]
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                for table in AUDIT_TABLES:
                    cursor.execute(f"ALTER TABLE {connection.ops.quote_name(table)} DISABLE TRIGGER USER")
                yield
                # ALTER TABLE refuses a table with pending trigger events: the deferred foreign-key
                # checks of what ran inside are settled first, then deferred again as Django made them.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                for table in AUDIT_TABLES:
                    cursor.execute(f"ALTER TABLE {connection.ops.quote_name(table)} ENABLE TRIGGER USER")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            else:
                placeholders = ", ".join(["%s"] * len(AUDIT_TABLES))
                cursor.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN "
                    f"({placeholders})",
                    list(AUDIT_TABLES),
                )
                triggers = cursor.fetchall()
                for name, _sql in triggers:
                    cursor.execute(f"DROP TRIGGER {connection.ops.quote_name(name)}")
                yield
                for _name, sql in triggers:
                    cursor.execute(sql)


# --- Sign-ins and the Django admin (connected in UsersConfig.ready) -------------------------------


def _session_recorder(action: str) -> Callable[..., None]:
    """A receiver of user_logged_in / user_logged_out that records `action` with the client address."""

    def record(
        sender: Any, request: HttpRequest | None = None, user: User | None = None, **kwargs: Any
    ) -> None:
        if isinstance(user, User) and user.pk:
            append(
                actor=user,
                action=action,
                object_type=User._meta.label_lower,
                object_id=str(user.pk),
                object_repr=str(user),
                changes={"ip": client_address(request)},
            )

    return record


_signed_in = _session_recorder("auth.login")
_signed_out = _session_recorder("auth.logout")


def _sign_in_failed(
    sender: Any, credentials: dict[str, Any] | None = None, request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # Django hands over the credentials with the password masked; only the name tried is kept.
    credentials = credentials or {}
    tried = credentials.get(User.USERNAME_FIELD) or credentials.get("username") or ""
    tried = str(tried)[:254]
    known = User.objects.filter(email__iexact=tried).only("pk").first() if tried else None
    append(
        actor=None,
        action="auth.login_failed",
        object_type=User._meta.label_lower,
        object_id=str(known.pk) if known else "",
        object_repr=tried,
        changes={"username": tried, "ip": client_address(request)},
    )


ADMIN_ACTIONS = {1: "admin.add", 2: "admin.change", 3: "admin.delete"}  # LogEntry.action_flag


def _admin_logged(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    """Django's admin wrote a LogEntry (one object added, changed or deleted): the same in the log."""
    if not created or kwargs.get("raw"):
        return
    _record_admin_entry(instance)


def _record_admin_entry(log_entry: Any) -> None:
    content_type = log_entry.content_type
    fields: list[str] = []
    for part in _change_parts(log_entry):
        for key in ("added", "changed", "deleted"):
            if isinstance(part.get(key), dict):
                fields.extend(str(name) for name in part[key].get("fields", []))
    changes: dict[str, Any] = {"message": str(log_entry.get_change_message())[:1000]}
    if fields:
        changes["fields"] = fields
    append(
        actor=User.objects.filter(pk=log_entry.user_id).first(),
        action=ADMIN_ACTIONS.get(log_entry.action_flag, "admin.change"),
        object_type=f"{content_type.app_label}.{content_type.model}" if content_type else "",
        object_id=str(log_entry.object_id or ""),
        object_repr=log_entry.object_repr,
        changes=changes,
    )


def _change_parts(log_entry: Any) -> list[dict[str, Any]]:
    try:
        parts = json.loads(log_entry.change_message or "[]")
    except ValueError:
        return []
    return [part for part in parts if isinstance(part, dict)] if isinstance(parts, list) else []


def audited_delete_selected(modeladmin: Any, request: HttpRequest, queryset: QuerySet) -> Any:
    """Django's "delete selected" action, audited: it logs a bulk deletion with `bulk_create`, which
    sends no signal, so each deleted object is recorded here (one object goes through the signal)."""
    from django.contrib.admin.actions import delete_selected

    with transaction.atomic():
        doomed = [(str(obj.pk), str(obj)) for obj in queryset] if queryset.count() > 1 else []
        response = delete_selected(modeladmin, request, queryset)
        if response is None and doomed:  # confirmed and done (the confirmation page is a response)
            object_type = modeladmin.model._meta.label_lower
            for object_id, object_repr in doomed:
                append(
                    actor=_request_user(request),
                    action="admin.delete",
                    object_type=object_type,
                    object_id=object_id,
                    object_repr=object_repr,
                    changes={"message": "Deleted with the admin's “delete selected” action."},
                )
    return response


audited_delete_selected.allowed_permissions = ("delete",)  # type: ignore[attr-defined]


def connect() -> None:
    """Connect the recorders (from UsersConfig.ready)."""
    from django.contrib import admin
    from django.contrib.admin.actions import delete_selected
    from django.contrib.admin.models import LogEntry
    from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
    from django.db.models.signals import post_save

    user_logged_in.connect(_signed_in, dispatch_uid="touchpoint.audit.login")
    user_logged_out.connect(_signed_out, dispatch_uid="touchpoint.audit.logout")
    user_login_failed.connect(_sign_in_failed, dispatch_uid="touchpoint.audit.login_failed")
    post_save.connect(_admin_logged, sender=LogEntry, dispatch_uid="touchpoint.audit.admin")
    audited_delete_selected.short_description = delete_selected.short_description  # type: ignore[attr-defined]
    admin.site.add_action(audited_delete_selected, "delete_selected")
