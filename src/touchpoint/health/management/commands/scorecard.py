"""`touchpoint scorecard export FILE` and `touchpoint scorecard apply FILE [--actor EMAIL]`."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Write every scorecard to a YAML file, or apply one (each change becomes a new version)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["export", "apply"])
        parser.add_argument("file", help="YAML file ('-' for standard output/input).")
        parser.add_argument("--actor", help="Email of the person the new versions are recorded for.")
        parser.add_argument("--note", default="", help="Why the scorecards changed (kept on the version).")

    def handle(self, *args, action: str, file: str, actor: str | None, note: str, **options) -> None:
        from touchpoint.health import selectors, services
        from touchpoint.users.models import User

        if action == "export":
            services.ensure_default_scorecard()
            text = selectors.scorecards_yaml()
            if file == "-":
                self.stdout.write(text)
            else:
                Path(file).write_text(text, encoding="utf-8")
                self.stdout.write(f"Wrote {file}")
            return
        user = None
        if actor:
            user = User.objects.filter(email__iexact=actor).first()
            if user is None:
                raise CommandError(f"No user with email {actor}")
        try:
            text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
        except OSError as error:
            raise CommandError(str(error)) from error
        try:
            versions = services.apply_scorecards_yaml(text=text, actor=user, note=note)
        except ValidationError as error:
            raise CommandError(
                "\n".join(f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items())
            ) from error
        for version in versions:
            self.stdout.write(f"{version.scorecard.name}: version {version.number}")
