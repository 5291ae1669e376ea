"""A map as CSV, PDF or YAML (for a spreadsheet, a launch review, version control). Reads only: like
every GET, an export writes nothing but its audit entry (tests/web/test_reads_do_not_write.py)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.http import require_GET

from touchpoint.readiness import documents, exports
from touchpoint.readiness.models import ReadinessMap
from touchpoint.request_types import AuthenticatedHttpRequest
from touchpoint.users.audit import record_export
from touchpoint.users.permissions import permission_required


def _download(
    readiness_map: ReadinessMap, body: str | bytes, content_type: str, extension: str
) -> HttpResponse:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="readiness-{readiness_map.key}-{stamp}.{extension}"'
    )
    return response


@permission_required("readiness.view_readinessmap")
@require_GET
def map_csv(request: AuthenticatedHttpRequest, map_id: int) -> HttpResponse:
    readiness_map = get_object_or_404(ReadinessMap, pk=map_id)
    record_export(request, what=f"readiness-{readiness_map.key}.csv", rows=readiness_map.touchpoints.count())
    return _download(readiness_map, exports.map_csv(readiness_map), "text/csv; charset=utf-8", "csv")


@permission_required("readiness.view_readinessmap")
@require_GET
def map_pdf(request: AuthenticatedHttpRequest, map_id: int) -> HttpResponse:
    readiness_map = get_object_or_404(ReadinessMap.objects.select_related("owner"), pk=map_id)
    record_export(request, what=f"readiness-{readiness_map.key}.pdf", rows=None)
    return _download(readiness_map, exports.map_pdf(readiness_map, request), "application/pdf", "pdf")


@permission_required("readiness.view_readinessmap")
@require_GET
def map_yaml(request: AuthenticatedHttpRequest, map_id: int) -> HttpResponse:
    readiness_map = get_object_or_404(ReadinessMap, pk=map_id)
    record_export(request, what=f"readiness-{readiness_map.key}.yaml", rows=None)
    return _download(
        readiness_map, documents.export_text(readiness_map), "application/yaml; charset=utf-8", "yaml"
    )
