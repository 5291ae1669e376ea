"""`touchpoint privacy export EMAIL [--out FILE]` and `touchpoint privacy erase EMAIL [--yes]`."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser


def _problem(error: ValidationError) -> str:
    return " ".join(str(m) for m in error.messages)


class Command(BaseCommand):
    help = (
        "Export everything Touchpoint holds about a person (one ZIP of JSON files) or erase it "
        "(remove or anonymise it everywhere, block their product user ids, keep a record). See docs/privacy.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        export = commands.add_parser("export", help="Write the person's data into a ZIP file.")
        export.add_argument("email", help="The person's email address.")
        export.add_argument("--out", help="The ZIP file to write (default: privacy-export-<hash>.zip).")
        erase = commands.add_parser("erase", help="Erase the person everywhere (cannot be undone).")
        erase.add_argument("email", help="The person's email address.")
        erase.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

    def handle(self, *args, action: str, email: str, **options) -> None:
        if action == "export":
            self._export(email, options.get("out"))
        else:
            self._erase(email, assume_yes=options.get("yes", False))

    def _export(self, email: str, out: str | None) -> None:
        from touchpoint.privacy.hashing import digest
        from touchpoint.privacy.services import export_person

        try:
            export = export_person(email=email, actor=None, via="command")
        except ValidationError as error:
            raise CommandError(_problem(error)) from error
        path = Path(out or f"privacy-export-{digest(export.person.email)[:12]}.zip")
        try:
            path.write_bytes(export.as_zip())
        except OSError as error:
            raise CommandError(f"Cannot write {path}: {error.strerror}.") from error
        found = ", ".join(f"{key} {sum(len(v) for v in part.values())}" for key, part in export.parts.items())
        self.stdout.write(f"Wrote {path}: {export.rows} rows ({found}).")

    def _erase(self, email: str, *, assume_yes: bool) -> None:
        from touchpoint.privacy.services import clean_email, erase_person

        try:
            email = clean_email(email)
        except ValidationError as error:
            raise CommandError(_problem(error)) from error
        if not assume_yes:
            answer = input(
                f"Erase everything held about {email}? This cannot be undone. Type the email again: "
            )
            if answer.strip().lower() != email:
                raise CommandError("Not erased: the email typed does not match.")
        try:
            erasure = erase_person(email=email, actor=None, via="command")
        except ValidationError as error:
            raise CommandError(_problem(error)) from error
        counts = ", ".join(f"{key} {sum(part.values())}" for key, part in erasure.counts.items()) or "nothing"
        blocked = erasure.blocked.count()
        self.stdout.write(
            f"Erased: now {erasure.pseudonym} (rows changed: {counts}); {blocked} product user id(s) blocked. "
            f"Erasure record #{erasure.pk}."
        )
