"""`touchpoint import KIND FILE [--dry-run]`: accounts, contacts or subscriptions from a CSV file."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from tqdm import tqdm

from touchpoint.integrations.csv_import import reading, runner
from touchpoint.integrations.csv_import.importers import IMPORTERS
from touchpoint.users.audit import record_import


class Command(BaseCommand):
    help = _("Import accounts, contacts or subscriptions from a CSV file: all rows or none.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("kind", choices=sorted(IMPORTERS))
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help=_("Check and count, write nothing."))
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="FIELD=COLUMN",
            help=_("Use this column for this field (repeatable); others are guessed."),
        )
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help=_("Print the result as JSON.")
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(
        self,
        *args,
        kind: str,
        file: Path,
        dry_run: bool,
        map: list[str],
        as_json: bool,
        no_progress: bool,
        **options,
    ) -> None:
        if not file.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": file})
        try:
            dialect = reading.detect(file)
            header, _preview = reading.header_and_preview(file, dialect, count=0)
        except (reading.UnreadableFile, UnicodeDecodeError) as error:
            raise CommandError(
                _("Cannot read %(path)s as CSV: %(error)s") % {"path": file, "error": error}
            ) from None
        mapping = IMPORTERS[kind].guess_mapping(header)
        for pair in map:
            target, sep, column = pair.partition("=")
            if not sep:
                raise CommandError(_("--map takes FIELD=COLUMN, not “%(value)s”.") % {"value": pair})
            mapping[target.strip()] = column.strip()
        if not as_json:
            self.stderr.write(
                _("Encoding %(encoding)s, delimiter %(delimiter)r.")
                % {"encoding": dialect.encoding, "delimiter": dialect.delimiter}
            )
            for target, column in mapping.items():
                self.stderr.write(f"  {target} ← {column}")
        bars: dict[str, tqdm] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if no_progress or as_json:
                return
            bar = bars.get(stage)
            if bar is None:
                bar = bars[stage] = tqdm(
                    desc=_("checking") if stage == "check" else _("writing"),
                    unit=_("rows"),
                    total=total or None,
                    file=self.stderr._out,
                    leave=True,
                )
            bar.total = total or bar.total
            bar.update(done - bar.n)

        try:
            result = runner.run(
                file, kind, mapping=mapping, dialect=dialect, dry_run=dry_run, progress=progress
            )
        except runner.BadMapping as error:
            raise CommandError(str(error)) from None
        finally:
            for bar in bars.values():
                bar.close()
        if not dry_run:
            record_import(actor=None, kind=kind, file_name=Path(file).name, outcome=result.as_dict())
        if result.shape_label and not as_json:
            self.stdout.write(_("Read as: %(shape)s.") % {"shape": result.shape_label})
        if as_json:
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))
        elif not result.ok:
            for problem in result.problems:
                self.stdout.write(str(problem))
            if result.problem_count > len(result.problems):
                self.stdout.write(
                    _("… and %(n)s more problems.") % {"n": result.problem_count - len(result.problems)}
                )
        else:
            summary = _(
                "%(created)s created, %(updated)s updated, %(unchanged)s unchanged, of %(rows)s rows "
                "in %(seconds).1f s."
            ) % {**result.as_dict(), "seconds": result.seconds}
            self.stdout.write((_("Dry run, nothing written: ") if dry_run else "") + summary)
        if not result.ok:
            raise CommandError(
                _("Nothing was imported: %(n)s problems.") % {"n": result.problem_count}, returncode=1
            )
