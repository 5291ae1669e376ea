"""`touchpoint keyfeature …`: key features as a YAML file, so the list can live in a repository and be
reviewed like code.

    touchpoint keyfeature export [FILE]                                  every key feature (standard output by default)
    touchpoint keyfeature apply FILE [--prune] [--dry-run] [--actor EMAIL]

`apply` checks the whole file first (every problem as FILE:LINE:COLUMN: message, nothing written), then
creates the events listed that are not key features yet and relabels those whose label differs, in one
transaction. Key features the file does not list stay, unless `--prune` is given: then they are removed.
FILE may be "-" for standard input. Export, then apply, changes nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


class Command(BaseCommand):
    help = _("Export key features as YAML, or apply a YAML file of them.")

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        export = actions.add_parser("export", help=_("Write every key feature as YAML."))
        export.add_argument(
            "file",
            nargs="?",
            default="-",
            metavar="FILE",
            help=_("File to write (standard output by default)."),
        )
        apply = actions.add_parser("apply", help=_("Make the key features those a YAML file lists."))
        apply.add_argument("file", metavar="FILE", help=_("YAML file ('-' for standard input)."))
        apply.add_argument(
            "--prune", action="store_true", help=_("Also remove the key features the file does not list.")
        )
        apply.add_argument(
            "--dry-run", action="store_true", help=_("Say what would change, and change nothing.")
        )
        apply.add_argument(
            "--actor", metavar="EMAIL", help=_("Email of the person the change is recorded for.")
        )

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "export":
            self._export(options["file"])
        else:
            self._apply(options)

    def _export(self, file: str) -> None:
        from touchpoint.usage.key_feature_documents import export_text

        text = export_text()
        if file == "-":
            self.stdout.write(text, ending="")
            return
        try:
            Path(file).write_text(text, encoding="utf-8")
        except OSError as error:
            raise CommandError(f"{file}: {error}") from error
        self.stdout.write(_("Wrote %(file)s") % {"file": file})

    def _apply(self, options: dict[str, Any]) -> None:
        from touchpoint.usage.key_feature_documents import problems_of, validate_text
        from touchpoint.usage.key_features import apply_key_features
        from touchpoint.users.models import User

        file = options["file"]
        try:
            text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"{file}: {error}") from error
        actor = None
        if options["actor"]:
            actor = User.objects.filter(email__iexact=options["actor"], is_active=True).first()
            if actor is None:
                raise CommandError(_("No active user has the email %(email)s.") % {"email": options["actor"]})
        problems = problems_of(text)
        if problems:
            for problem in problems:
                self.stdout.write(f"{file}:{problem.line}:{problem.column}: {problem.message}")
            raise CommandError(
                ngettext(
                    "%(count)d problem found; nothing was changed.",
                    "%(count)d problems found; nothing was changed.",
                    len(problems),
                )
                % {"count": len(problems)}
            )
        try:
            changes = apply_key_features(
                features=validate_text(text),
                prune=options["prune"],
                actor=actor,
                dry_run=options["dry_run"],
            )
        except ValidationError as error:
            raise CommandError(
                "; ".join(f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items())
            ) from error
        for event in changes.created:
            self.stdout.write(_("created  %(event)s") % {"event": event})
        for event, old, new in changes.relabelled:
            self.stdout.write(
                _("changed  %(event)s: label “%(old)s” → “%(new)s”")
                % {"event": event, "old": old, "new": new}
            )
        for event in changes.removed:
            self.stdout.write(_("removed  %(event)s") % {"event": event})
        summary = _(
            "%(created)d created, %(changed)d changed, %(removed)d removed, %(unchanged)d unchanged."
        ) % {
            "created": len(changes.created),
            "changed": len(changes.relabelled),
            "removed": len(changes.removed),
            "unchanged": changes.unchanged,
        }
        if changes.kept:
            summary += " " + ngettext(
                "%(count)d key feature not in the file was kept (--prune removes it).",
                "%(count)d key features not in the file were kept (--prune removes them).",
                len(changes.kept),
            ) % {"count": len(changes.kept)}
        if options["dry_run"]:
            summary = _("Dry run, nothing was changed: %(summary)s") % {"summary": summary}
        self.stdout.write(summary)
