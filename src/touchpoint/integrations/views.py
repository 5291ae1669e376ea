"""Integration pages: CSV imports (upload, column mapping, check, import)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_http_methods

from touchpoint.integrations.csv_import import jobs, reading
from touchpoint.integrations.csv_import.importers import IMPORTERS
from touchpoint.integrations.forms import MappingForm, UploadForm
from touchpoint.integrations.models import ImportJob, ImportStatus
from touchpoint.request_types import AuthenticatedHttpRequest
from touchpoint.users.permissions import permission_required

DELIMITER_NAMES = {
    ",": _lazy("comma"),
    ";": _lazy("semicolon"),
    "\t": _lazy("tab"),
    "|": _lazy("vertical bar"),
}


# --- CSV imports ------------------------------------------------------------------------------


@permission_required("integrations.add_importjob")
@require_http_methods(["GET", "POST"])
def imports(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Upload a file; the recent imports below."""
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = jobs.create_job(
                kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"], actor=request.user
            )
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                form.add_error(field if field in form.fields else None, messages)
        else:
            return redirect("import-job", job_id=job.pk)
    return render(
        request,
        "integrations/imports.html",
        {
            "form": form,
            "jobs": ImportJob.objects.select_related("created_by")[:20],
            "importers": IMPORTERS.values(),
        },
    )


@permission_required("integrations.add_importjob")
@require_http_methods(["GET", "POST"])
def import_job(request: HttpRequest, job_id: int) -> HttpResponse:
    """Map the columns, see the first rows, check (a dry run), import."""
    job = get_object_or_404(ImportJob, pk=job_id)
    importer = IMPORTERS[job.kind]
    mapping_problems: list[str] = []
    form = MappingForm(request.POST or None, importer=importer, header=job.header, initial=job.mapping)
    if request.method == "POST":
        running = job.status in (ImportStatus.CHECKING, ImportStatus.IMPORTING)
        if running:
            mapping_problems = [_("This file is being processed; wait until it finishes.")]
        elif form.is_valid():
            mapping_problems = jobs.set_mapping(job=job, mapping=form.mapping())
            if not mapping_problems:
                jobs.start(job=job, dry_run=request.POST.get("action") != "import")
                return redirect("import-job", job_id=job.pk)
    preview: list[list[str]]
    header, preview = job.header, []
    try:
        header, preview = reading.header_and_preview(
            jobs.path_of(job), reading.Dialect(job.encoding, job.delimiter)
        )
    except (OSError, reading.UnreadableFile, UnicodeDecodeError):
        mapping_problems.append(_("The uploaded file is gone; upload it again."))
    return render(
        request,
        "integrations/import_job.html",
        {
            "job": job,
            "importer": importer,
            "form": form,
            "mapping_problems": mapping_problems,
            "header": header,
            "preview": preview,
            "progress": jobs.read_progress(job),
            "delimiter_name": DELIMITER_NAMES.get(job.delimiter, job.delimiter),
        },
    )


@permission_required("integrations.add_importjob")
@require_GET
def import_progress(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_object_or_404(ImportJob, pk=job_id)
    return render(
        request, "integrations/_import_progress.html", {"job": job, "progress": jobs.read_progress(job)}
    )
