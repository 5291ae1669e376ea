"""The Audit page (admins and CS leaders): the log, newest first, filtered, a keyset page at a time,
and the same entries as CSV (the export is itself audited)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from touchpoint.spreadsheet import SafeWriter
from touchpoint.users import audit_log
from touchpoint.users.audit import record_export
from touchpoint.users.audit_forms import ACTION_CHOICES, AuditFilterForm
from touchpoint.users.permissions import permission_required, require

PERMISSION = "users.view_auditlogentry"


@require_GET
@permission_required(PERMISSION)
def audit_page(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    valid = form.is_valid() if form.is_bound else True
    rows, next_cursor = (
        audit_log.page(form.filters(), after=request.GET.get("after", "")) if valid else ([], "")
    )
    filters = form.filters() if valid else audit_log.AuditFilters()
    query = urlencode(filters.as_query())
    entries = [
        {
            "entry": entry,
            "who": audit_log.actor_label(entry),
            "words": audit_log.in_words(entry),
            "type": audit_log.type_label(entry.object_type),
            "changes": audit_log.changes_in_words(entry),
        }
        for entry in rows
    ]
    return render(
        request,
        "users/audit.html",
        {
            "form": form,
            "entries": entries,
            "query": query,
            "next_query": urlencode({**filters.as_query(), "after": next_cursor}) if next_cursor else "",
            "first_page": not request.GET.get("after"),
            "action_choices": ACTION_CHOICES,
        },
        status=200 if valid else 400,
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


@login_required
@require_GET
def audit_export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered entries as CSV (formula-safe); the download is written to the log first."""
    require(request.user, PERMISSION)
    form = AuditFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return StreamingHttpResponse(
            [form.errors.as_text()], status=400, content_type="text/plain; charset=utf-8"
        )
    filters = form.filters()
    with transaction.atomic():
        record_export(request, what="audit.csv", rows=audit_log.entries(filters).count())
    writer = SafeWriter(_Echo())

    def rows() -> Iterator[str]:
        yield "\ufeff"  # a byte-order mark: spreadsheet programs then read the UTF-8 right
        yield writer.writerow(audit_log.CSV_HEADER)
        for row in audit_log.csv_rows(filters):
            yield writer.writerow(row)

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="touchpoint-audit-{stamp}.csv"'
    return response
