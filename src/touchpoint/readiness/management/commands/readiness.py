"""`touchpoint readiness …`: readiness maps as plain text from the command line, so a launch's map
can live in a repository beside the launch and be reviewed like code.

    touchpoint readiness list                             every map: key, name, kind and its counts
    touchpoint readiness validate FILE...                 every problem as FILE:LINE:COLUMN: message (exit 1)
    touchpoint readiness apply FILE [--as EMAIL]          create or update the map the file defines
    touchpoint readiness export KEY [-o FILE]             its YAML, answers and all
    touchpoint readiness template [--language ja] [-o FILE]   the shipped template as a map text to edit

FILE may be "-" for standard input.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

TEMPLATE = "standard"


class Command(BaseCommand):
    help = _("List, validate, apply or export readiness maps written as YAML, or write the template.")

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        commands.add_parser("list", help=_("Every map: key, name, kind, touchpoints and their statuses."))
        validate = commands.add_parser(
            "validate", help=_("Check YAML files; print every problem with its line.")
        )
        validate.add_argument(
            "files", nargs="+", metavar="FILE", help=_("YAML file ('-' for standard input).")
        )
        apply = commands.add_parser("apply", help=_("Create or update the map a YAML file defines."))
        apply.add_argument("file", metavar="FILE", help=_("YAML file ('-' for standard input)."))
        apply.add_argument(
            "--as", dest="actor", metavar="EMAIL", help=_("Email of the person the change is recorded for.")
        )
        export = commands.add_parser("export", help=_("Write a map's YAML, answers included."))
        export.add_argument("key", help=_("The map's key."))
        export.add_argument(
            "-o",
            "--output",
            default="-",
            metavar="FILE",
            help=_("File to write (standard output by default)."),
        )
        template = commands.add_parser("template", help=_("Write the shipped template as a map to edit."))
        template.add_argument(
            "--language", default="", help=_("Language of the texts, such as ja (the site's by default).")
        )
        template.add_argument(
            "-o",
            "--output",
            default="-",
            metavar="FILE",
            help=_("File to write (standard output by default)."),
        )

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        getattr(self, f"do_{action}")(**options)

    # --- helpers ------------------------------------------------------------------------------------

    def _read(self, file: str) -> str:
        try:
            return sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"{file}: {error}") from error

    def _write(self, text: str, output: str) -> None:
        if output == "-":
            self.stdout.write(text, ending="")
            return
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as error:
            raise CommandError(f"{output}: {error}") from error
        self.stdout.write(_("Wrote %(file)s") % {"file": output})

    def _problems(self, file: str, problems: list[Any]) -> None:
        for problem in problems:
            self.stdout.write(f"{file}:{problem.line}:{problem.column}: {problem.message}")

    def _actor(self, email: str | None) -> Any:
        from touchpoint.users.models import User

        if not email:
            return None
        user = User.objects.filter(email__iexact=email, is_active=True).first()
        if user is None:
            raise CommandError(_("No active user has the email %(email)s.") % {"email": email})
        return user

    # --- the subcommands ----------------------------------------------------------------------------

    def do_list(self, **options: Any) -> None:
        from touchpoint.readiness.selectors import map_list

        maps = [*map_list(), *map_list(archived=True)]
        if not maps:
            self.stdout.write(_("No readiness maps yet."))
            return
        self.stdout.write(
            "\t".join((_("KEY"), _("NAME"), _("KIND"), _("TOUCHPOINTS"), _("READY"), _("GAP"), _("AT RISK")))
        )
        for readiness_map in maps:
            name = readiness_map.name
            if readiness_map.archived_at is not None:
                name = _("%(name)s (archived)") % {"name": name}
            row: tuple[Any, ...] = (
                readiness_map.key,
                name,
                readiness_map.kind,
                readiness_map.touchpoint_count,  # type: ignore[attr-defined]
                readiness_map.ready_count,  # type: ignore[attr-defined]
                readiness_map.gap_count,  # type: ignore[attr-defined]
                readiness_map.at_risk_count,  # type: ignore[attr-defined]
            )
            self.stdout.write("\t".join(str(value) for value in row))

    def do_validate(self, *, files: list[str], **options: Any) -> None:
        from touchpoint.readiness.documents import problems_of

        count = 0
        for file in files:
            problems = problems_of(self._read(file))
            if problems:
                count += len(problems)
                self._problems(file, problems)
            else:
                self.stdout.write(_("%(file)s: no problems") % {"file": file})
        if count:
            raise CommandError(
                ngettext("%(count)d problem found.", "%(count)d problems found.", count) % {"count": count},
                returncode=1,
            )

    def do_apply(self, *, file: str, actor: str | None = None, **options: Any) -> None:
        from touchpoint.readiness.documents import DocumentError, applied

        user = self._actor(actor)
        try:
            readiness_map, created = applied(self._read(file), actor=user)
        except DocumentError as error:
            self._problems(file, error.problems)
            raise CommandError(_("Nothing was applied."), returncode=1) from error
        message = (
            _("Created %(key)s (%(name)s): %(count)d touchpoints.")
            if created
            else _("Updated %(key)s (%(name)s): %(count)d touchpoints.")
        )
        self.stdout.write(
            message
            % {
                "key": readiness_map.key,
                "name": readiness_map.name,
                "count": readiness_map.touchpoints.count(),
            }
        )

    def do_export(self, *, key: str, output: str = "-", **options: Any) -> None:
        from touchpoint.readiness.documents import export_text
        from touchpoint.readiness.models import ReadinessMap

        readiness_map = ReadinessMap.objects.filter(key=key).first()
        if readiness_map is None:
            keys = ", ".join(ReadinessMap.objects.order_by("key").values_list("key", flat=True))
            raise CommandError(
                _("No readiness map has the key %(key)s (there are: %(keys)s).")
                % {"key": key, "keys": keys or _("none")}
            )
        self._write(export_text(readiness_map), output)

    def do_template(self, *, language: str = "", output: str = "-", **options: Any) -> None:
        from touchpoint.readiness import library
        from touchpoint.readiness.documents import text_of

        try:
            shape = library.template(TEMPLATE, language or settings.LANGUAGE_CODE)
        except KeyError as error:
            raise CommandError(_("The template %(key)s is not installed.") % {"key": TEMPLATE}) from error
        self._write(text_of(shape), output)
