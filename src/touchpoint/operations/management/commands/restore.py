"""`touchpoint restore FILE [--yes]`: replace the database's content with a backup's."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = (
        "Replace everything in the database with the backup in FILE, after checking it is a sound "
        "Touchpoint backup of this kind of database and not from a newer version."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="A file written by `touchpoint backup`.")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")
        parser.add_argument(
            "--check",
            action="store_true",
            help="Only check the backup (what restore checks first); change nothing.",
        )
        parser.add_argument(
            "--lock-timeout",
            type=float,
            default=10.0,
            help="SQLite: seconds to wait for the database's write lock before giving up (default 10).",
        )

    def handle(self, *args, file: str, yes: bool, check: bool, lock_timeout: float, **options) -> None:
        from touchpoint.operations import backup as ops

        path = Path(file)

        def confirm(checked: ops.Checked) -> bool:
            self._describe(path, checked)
            if yes:
                return True
            if not sys.stdin.isatty():
                raise ops.BackupError(
                    "Restoring replaces everything in the database: pass --yes to go ahead."
                )
            answer = input("Replace everything in the database with this backup? Type 'yes': ")
            return answer.strip().lower() == "yes"

        try:
            if check:
                self._describe(path, ops.check(path))
                self.stdout.write("The backup is sound; nothing was changed.")
                return
            checked = ops.restore(path, lock_timeout=lock_timeout, confirm=confirm)
        except ops.BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Restored the {ops.KINDS[checked.kind]} database from {path}.")
        if checked.pending:
            self.stdout.write(
                f"The backup is {len(checked.pending)} migrations behind this version: run `touchpoint migrate` "
                "(`touchpoint serve` does it when it starts)."
            )
        self.stdout.write("Restart the web and worker processes so nothing keeps what it read before.")

    def _describe(self, path: Path, checked) -> None:
        from touchpoint.operations.backup import A_KIND

        note = checked.note or {}
        made = (
            f", made {note['created_at']} by Touchpoint {note.get('touchpoint_version', '?')}"
            if note.get("created_at")
            else ""
        )
        self.stdout.write(
            f"{path}: {A_KIND[checked.kind]} backup with {len(checked.migrations)} migrations{made}; checked."
        )
