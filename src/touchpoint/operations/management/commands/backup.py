"""`touchpoint backup FILE`: a consistent copy of the database, safe while Touchpoint serves."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = (
        "Back the database up into FILE (SQLite: a copy made with SQLite's online backup API; "
        "PostgreSQL: pg_dump --format=custom), with FILE.json noting what it holds. Safe while serving."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The backup file to write (replaced if it exists).")

    def handle(self, *args, file: str, **options) -> None:
        from touchpoint.operations.backup import KINDS, BackupError, backup, note_path

        path = Path(file)
        try:
            note = backup(path)
        except BackupError as error:
            raise CommandError(str(error)) from error
        size = path.stat().st_size
        self.stdout.write(
            f"Backed up the {KINDS[note.kind]} database into {path} ({size:,} bytes, "
            f"{len(note.migrations)} migrations, Touchpoint {note.touchpoint_version}); "
            f"notes in {note_path(path)}."
        )
