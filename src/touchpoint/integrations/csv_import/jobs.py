"""Imports started from the web page: the upload, its stored file, and the background task that runs it."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django_tasks import task

from touchpoint.events.effects import enqueue_after_commit
from touchpoint.integrations.csv_import import reading, runner
from touchpoint.integrations.csv_import.importers import IMPORTERS
from touchpoint.integrations.models import ImportJob, ImportStatus
from touchpoint.users.audit import record_import
from touchpoint.users.models import User

MAX_UPLOAD_BYTES = 200 * 1024 * 1024


def imports_dir() -> Path:
    folder = Path(settings.DATA_DIR) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def path_of(job: ImportJob) -> Path:
    return imports_dir() / job.stored_name


def progress_path(job: ImportJob) -> Path:
    return imports_dir() / f"{job.stored_name}.progress.json"


@transaction.atomic
def create_job(*, kind: str, upload: UploadedFile, actor: User | None) -> ImportJob:
    assert upload.size is not None and upload.name is not None  # Django's upload handlers set both
    if kind not in IMPORTERS:
        raise ValidationError({"kind": _("Choose what the file holds.")})
    if upload.size > MAX_UPLOAD_BYTES:
        raise ValidationError({"file": _("The file is larger than 200 MB.")})
    stored = f"{uuid.uuid4().hex}.csv"
    target = imports_dir() / stored
    with target.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    try:
        dialect = reading.detect(target)
        header, _preview = reading.header_and_preview(target, dialect, count=0)
    except (reading.UnreadableFile, UnicodeDecodeError):
        target.unlink(missing_ok=True)
        raise ValidationError(
            {"file": _("This is not a CSV file with a header row that Touchpoint can read.")}
        ) from None
    return ImportJob.objects.create(
        kind=kind,
        original_name=upload.name[:255],
        stored_name=stored,
        encoding=dialect.encoding,
        delimiter=dialect.delimiter,
        header=header,
        mapping=IMPORTERS[kind].guess_mapping(header),
        created_by=actor,
        language=translation.get_language() or settings.LANGUAGE_CODE,
    )


def set_mapping(*, job: ImportJob, mapping: dict[str, str]) -> list[str]:
    """Keep the mapping people chose; answer its problems (empty when usable)."""
    job.mapping = {k: v for k, v in mapping.items() if v}
    job.status, job.result = ImportStatus.UPLOADED, {}
    job.save(update_fields=["mapping", "status", "result", "updated_at"])
    return runner.check_mapping(IMPORTERS[job.kind], job.header, job.mapping)


@transaction.atomic
def start(*, job: ImportJob, dry_run: bool) -> None:
    """Queue the job's check or import; the task is enqueued once this transaction commits."""
    job.status = ImportStatus.CHECKING if dry_run else ImportStatus.IMPORTING
    job.result = {}
    job.save(update_fields=["status", "result", "updated_at"])
    _write_progress(job, "queued", 0, 0)
    enqueue_after_commit(run_job_task, job.pk, dry_run)


def _write_progress(job: ImportJob, stage: str, done: int, total: int) -> None:
    temporary = progress_path(job).with_suffix(".tmp")
    temporary.write_text(json.dumps({"stage": stage, "done": done, "total": total}))
    os.replace(temporary, progress_path(job))  # readers never see half a file


def read_progress(job: ImportJob) -> dict:
    try:
        return json.loads(progress_path(job).read_text())
    except (OSError, ValueError):
        return {"stage": "", "done": 0, "total": 0}


@task()
def run_job_task(job_id: int, dry_run: bool) -> dict:
    job = ImportJob.objects.get(pk=job_id)
    with translation.override(job.language):
        return _run_job(job, dry_run)


def _run_job(job: ImportJob, dry_run: bool) -> dict:
    job_id = job.pk
    try:
        result = runner.run(
            path_of(job),
            job.kind,
            mapping=job.mapping,
            dialect=reading.Dialect(job.encoding, job.delimiter),
            dry_run=dry_run,
            actor=job.created_by,
            progress=lambda stage, done, total: _write_progress(job, stage, done, total),
        )
        outcome = result.as_dict()
        if not result.ok:
            status = ImportStatus.FAILED
        else:
            status = ImportStatus.CHECKED if dry_run else ImportStatus.DONE
    except runner.BadMapping as error:
        outcome, status = {"problems": str(error).splitlines(), "problem_count": 1}, ImportStatus.FAILED
    outcome["dry_run"] = dry_run
    with transaction.atomic():
        ImportJob.objects.filter(pk=job_id).update(status=status, result=outcome)
        if not dry_run:
            record_import(actor=job.created_by, kind=job.kind, file_name=job.original_name, outcome=outcome)
    _write_progress(job, "finished", outcome.get("rows", 0), outcome.get("rows", 0))
    return outcome
